import { bodyText, contentLengthLine, type HostileRequest } from '../arbitraries/request';
import {
  FIRST_WINS,
  HOST_BODY_LIMIT,
  NODE_HEADER_LIMIT,
  type OracleContext,
  PARSER_METHODS,
  type Seen,
  TOKEN_NAME,
} from './model';

/** The `http` layer: what Node's parser makes of a request, and what it refuses. Part of tests/support/hostileOracle.ts. */

function bodyBytes(r: HostileRequest): Buffer {
  return Buffer.from(bodyText(r.body), 'utf8');
}

export function bodySizeOf(r: HostileRequest): number {
  const b = r.body;
  return b.kind === 'repeat'
    ? Buffer.byteLength(b.head + b.tail) + Buffer.byteLength(b.unit) * b.count
    : Buffer.byteLength(bodyText(b));
}

/** What fetch (undici) puts on the wire: it upper-cases six method names and folds repeats. */
function seenViaFetch(r: HostileRequest, port: number): Seen {
  const method = /^(delete|get|head|options|post|put)$/i.test(r.method)
    ? r.method.toUpperCase()
    : r.method;
  const url = new URL(`http://127.0.0.1:${port}${r.target}`);
  const folded = new Headers(r.headers);
  const headers = new Map<string, string>();
  folded.forEach((value, name) => headers.set(name, value));
  const size = bodySizeOf(r);
  const body = size > HOST_BODY_LIMIT ? Buffer.alloc(0) : bodyBytes(r);
  if (r.body.kind !== 'none') headers.set('content-length', String(size));
  const seen: Seen = {
    method,
    target: url.pathname + url.search,
    host: `127.0.0.1:${port}`,
    headers,
    // fetch folds repeated headers into one line, so the host sees one value.
    ...(folded.has('x-functions-key') ? { keyHeader: folded.get('x-functions-key') ?? '' } : {}),
    body,
  };
  if (!PARSER_METHODS.has(method))
    seen.refused = { status: 400, why: 'method token unknown to HTTP' };
  else if (headerBlock(r) > NODE_HEADER_LIMIT)
    seen.refused = { status: 431, why: 'header block over 16 KiB' };
  return seen;
}

function headerBlock(r: HostileRequest): number {
  return r.target.length + r.headers.reduce((sum, [n, v]) => sum + n.length + v.length + 4, 0);
}

/** What Node makes of the bytes a raw request writes (see tests/support/hostileTransport.ts). */
function seenViaRaw(r: HostileRequest, port: number): Seen {
  const raw = r.raw!;
  const host = raw.host === undefined ? `localhost:${port}` : (raw.host ?? undefined);
  const headers = new Map<string, string>();
  let keyHeader: string | undefined;
  const add = (name: string, value: string) => {
    const n = name.toLowerCase();
    // Node reads header bytes as Latin-1 and trims surrounding spaces and tabs.
    const v = Buffer.from(value, 'utf8')
      .toString('latin1')
      .replace(/^[ \t]+|[ \t]+$/g, '');
    if (n === 'x-functions-key') keyHeader ??= v;
    const before = headers.get(n);
    if (before === undefined) headers.set(n, v);
    else if (n === 'cookie') headers.set(n, `${before}; ${v}`);
    else if (!FIRST_WINS.has(n)) headers.set(n, `${before}, ${v}`);
  };
  if (host !== undefined) add('host', host);
  for (const [n, v] of r.headers) add(n, v);
  const body = bodyBytes(r);
  const seen: Seen = {
    method: r.method,
    target: r.target,
    host,
    headers,
    ...(keyHeader === undefined ? {} : { keyHeader }),
    body,
  };
  const refuse = (why: string) => (seen.refused = { status: 400, why });
  const { framing } = raw;
  if (!PARSER_METHODS.has(r.method)) refuse('method token unknown to HTTP');
  else if (r.headers.some(([n]) => !TOKEN_NAME.test(n))) refuse('header name is not a token');
  else if (headerBlock(r) > NODE_HEADER_LIMIT)
    seen.refused = { status: 431, why: 'header block over 16 KiB' };
  else if (raw.version === '1.1' && host === undefined) refuse('HTTP/1.1 without Host');
  else if (framing.kind === 'lengthAndChunked') refuse('Content-Length with Transfer-Encoding');
  else if (framing.kind === 'lines') {
    const values = framing.values.map((v) => contentLengthLine(v, body.length).trim());
    if (values.length !== 1 || !/^\d+$/.test(values[0]!))
      refuse('Content-Length is not one number');
    else headers.set('content-length', values[0]!);
  } else if (framing.kind === 'length' && r.body.kind !== 'none') {
    headers.set('content-length', String(body.length));
  } else if (framing.kind === 'chunked') {
    headers.set('transfer-encoding', 'chunked');
  }
  return seen;
}

export function seenBy(r: HostileRequest, ctx: OracleContext): Seen {
  const port = ctx.ports[r.host];
  return r.transport === 'fetch' ? seenViaFetch(r, port) : seenViaRaw(r, port);
}
