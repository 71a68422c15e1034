import { bodyText, contentLengthLine, type HostileRequest } from '../arbitraries/request';
import {
  FIRST_WINS,
  HEADER_COUNT_LIMIT,
  HEADERS_LIMIT,
  HOST_BODY_LIMIT,
  type OracleContext,
  REQUEST_LINE_LIMIT,
  type Seen,
  TOKEN_NAME,
} from './model';

/**
 * The `http` layer: what fetch or the raw transport puts on the wire, and what Kestrel makes of
 * it and refuses (its limits, header rules and reading of the target). Part of
 * tests/support/hostileOracle.ts.
 */

function bodyBytes(r: HostileRequest): Buffer {
  return Buffer.from(bodyText(r.body), 'utf8');
}

export function bodySizeOf(r: HostileRequest): number {
  const b = r.body;
  return b.kind === 'repeat'
    ? Buffer.byteLength(b.head + b.tail) + Buffer.byteLength(b.unit) * b.count
    : Buffer.byteLength(bodyText(b));
}

/** Header values Kestrel decodes: ASCII, or strict UTF-8 of the bytes; undefined if it refuses. */
function kestrelValue(bytes: Buffer): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** A header line as Kestrel meets it: its bytes (`name: value` CRLF), and the rule it breaks. */
interface HeaderLine {
  bytes: number;
  bad: false | string;
}

const line = (name: string, value: string, bad: false | string = false): HeaderLine => ({
  bytes: Buffer.byteLength(name) + Buffer.byteLength(value, 'latin1') + 4,
  bad,
});

/** undici's own headers after the caller's, when the caller has not set them. */
const FETCH_DEFAULTS: [string, string][] = [
  ['accept', '*/*'],
  ['accept-language', '*'],
  ['sec-fetch-mode', 'cors'],
  ['user-agent', 'node'],
  ['accept-encoding', 'gzip, deflate'],
];

/**
 * The header lines fetch (undici) writes, in order: host and connection, the caller's headers
 * folded at their first occurrence (values joined with `, `, each character one byte), its own
 * defaults, and Content-Length.
 */
function fetchHeaderLines(r: HostileRequest, port: number, size: number): HeaderLine[] {
  const folded = new Map<string, [string, string[]]>();
  for (const [name, value] of r.headers) {
    const key = name.toLowerCase();
    if (key === '__proto__') continue;
    const trimmed = value.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
    const entry = folded.get(key);
    if (entry) entry[1].push(trimmed);
    else folded.set(key, [name, [trimmed]]);
  }
  const lines = [line('host', `127.0.0.1:${port}`), line('connection', 'keep-alive')];
  for (const [name, values] of folded.values()) {
    const value = values.join(', ');
    const bad = kestrelValue(Buffer.from(value, 'latin1')) === undefined;
    lines.push(line(name, value, bad && 'a header value not UTF-8'));
  }
  for (const [name, value] of FETCH_DEFAULTS) if (!folded.has(name)) lines.push(line(name, value));
  if (r.body.kind !== 'none') lines.push(line('content-length', String(size)));
  return lines;
}

/** What fetch (undici) puts on the wire: it upper-cases six method names and folds repeats. */
function seenViaFetch(r: HostileRequest, port: number): Seen {
  const method = /^(delete|get|head|options|post|put)$/i.test(r.method)
    ? r.method.toUpperCase()
    : r.method;
  const url = new URL(`http://127.0.0.1:${port}${r.target}`);
  const folded = new Headers(r.headers);
  const headers = new Map<string, string>();
  folded.forEach((value, name) => {
    // undici builds its header list in a plain object and never sends a `__proto__` header.
    if (name === '__proto__') return;
    headers.set(name, kestrelValue(Buffer.from(value, 'latin1')) ?? value);
  });
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
  const lines = fetchHeaderLines(r, port, size);
  seen.refused = kestrelLimits(seen, lines);
  seen.splitRefusal = headOf(lines) > 16 * 1024 && headOf(lines) > 40 * 1024;
  return seen;
}

/** The bytes of a head's header lines. */
const headOf = (lines: HeaderLine[]) => lines.reduce((sum, l) => sum + l.bytes, 0);

/**
 * Kestrel's limits and header rules, in the order it meets them: the request line (414), then
 * each header line, the first one ending past 32 KiB or past the 100th (431) or breaking a rule
 * (400) deciding.
 */
function kestrelLimits(seen: Seen, lines: HeaderLine[]): Seen['refused'] {
  const requestLine = Buffer.byteLength(`${seen.method} ${seen.target} HTTP/1.1\r\n`);
  if (requestLine > REQUEST_LINE_LIMIT) return { status: 414, why: 'request line over 8 KiB' };
  let bytes = 0;
  let count = 0;
  for (const header of lines) {
    bytes += header.bytes;
    count += 1;
    if (bytes > HEADERS_LIMIT) return { status: 431, why: 'header block over 32 KiB' };
    if (count > HEADER_COUNT_LIMIT) return { status: 431, why: 'over 100 headers' };
    if (header.bad) return { status: 400, why: header.bad };
  }
  return undefined;
}

/** What Kestrel makes of the bytes a raw request writes (see tests/support/hostileTransport.ts). */
function seenViaRaw(r: HostileRequest, port: number): Seen {
  const raw = r.raw!;
  const host = raw.host === undefined ? `localhost:${port}` : (raw.host ?? undefined);
  const headers = new Map<string, string>();
  let keyHeader: string | undefined;
  const add = (name: string, value: string) => {
    const n = name.toLowerCase();
    // The transport writes UTF-8; Kestrel decodes it back and trims spaces and tabs.
    const v = (kestrelValue(Buffer.from(value, 'utf8')) ?? value).replace(/^[ \t]+|[ \t]+$/g, '');
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
  // The lines the transport writes (tests/support/hostileTransport.ts), as Node trimmed them.
  const trim = (v: string) => Buffer.from(v, 'utf8').toString('latin1').trim();
  const lines: HeaderLine[] = host === undefined ? [] : [line('host', host)];
  for (const [n, v] of r.headers) {
    const bad = !TOKEN_NAME.test(n)
      ? 'header name is not a token'
      : kestrelValue(Buffer.from(v, 'utf8')) === undefined && 'a header value with NUL';
    lines.push(line(n, trim(v), bad));
  }
  const length = (v: string) => lines.push(line('content-length', trim(v)));
  if (framing.kind === 'length' && r.body.kind !== 'none') length(String(body.length));
  if (framing.kind === 'lengthAndChunked') length(String(body.length));
  if (framing.kind === 'lines')
    framing.values.forEach((v) => length(contentLengthLine(v, body.length)));
  if (framing.kind === 'chunked' || framing.kind === 'lengthAndChunked') {
    lines.push(line('transfer-encoding', 'chunked'));
  }
  lines.push(line('connection', 'close'));
  const limits = kestrelLimits(seen, lines);
  const lengths =
    framing.kind === 'lines'
      ? framing.values.map((v) => contentLengthLine(v, body.length).trim())
      : [];
  const brokenLength = lengths.length > 1 || lengths.some((v) => !/^\d+$/.test(v));
  seen.splitRefusal = headOf(lines) > 16 * 1024 && (headOf(lines) > 40 * 1024 || brokenLength);
  if (!TOKEN_NAME.test(r.method)) refuse('method is not a token');
  else if (limits) seen.refused = limits;
  else if (
    raw.version === '1.1' &&
    host === undefined &&
    !r.headers.some(([n]) => /^host$/i.test(n))
  )
    refuse('HTTP/1.1 without Host');
  else if ([host, ...r.headers.filter(([n]) => /^host$/i.test(n))].filter(Boolean).length > 1)
    refuse('more than one Host');
  else if (framing.kind === 'lengthAndChunked') {
    // Transfer-Encoding overrides Content-Length, which Kestrel renames X-Content-Length.
    headers.set('transfer-encoding', 'chunked');
    headers.set('x-content-length', String(body.length));
  } else if (framing.kind === 'lines') {
    const values = framing.values.map((v) => contentLengthLine(v, body.length).trim());
    if (values.length !== 1 || !/^\d+$/.test(values[0]!))
      refuse('Content-Length is not one number');
    else headers.set('content-length', values[0]!);
  } else if (framing.kind === 'length' && r.body.kind !== 'none') {
    headers.set('content-length', String(body.length));
  } else if (framing.kind === 'chunked') {
    headers.set('transfer-encoding', 'chunked');
  }
  const lengthless = !headers.has('content-length') && !headers.has('transfer-encoding');
  if (!seen.refused && raw.version === '1.0' && lengthless && /^(POST|PUT)$/.test(r.method)) {
    refuse('an HTTP/1.0 POST or PUT without a length');
  }
  return seen;
}

export function seenBy(r: HostileRequest, ctx: OracleContext): Seen {
  const port = ctx.ports[r.host];
  return r.transport === 'fetch' ? seenViaFetch(r, port) : seenViaRaw(r, port);
}

/**
 * Kestrel's reading of a path (UrlDecoder, PathNormalizer): an escape is decoded when it and the
 * ones after it make one well-formed UTF-8 character, `%2F` never, `%00` is refused; then `.` and
 * `..` segments are removed, never above `/`. Empty segments stay.
 */
function kestrelPathOf(rawPath: string): string | undefined {
  let out = '';
  for (let i = 0; i < rawPath.length;) {
    const run = /^(?:%[0-9A-Fa-f]{2}){1,4}/.exec(rawPath.slice(i))?.[0];
    if (!run) {
      out += rawPath[i];
      i += 1;
      continue;
    }
    let decoded: string | undefined;
    let used = 0;
    for (let n = 1; n <= run.length / 3 && decoded === undefined; n++) {
      try {
        const text = decodeURIComponent(run.slice(0, 3 * n));
        if ([...text].length === 1 && text !== '/') [decoded, used] = [text, 3 * n];
      } catch {
        // not (yet) one character
      }
    }
    if (decoded === '\0') return undefined;
    if (decoded === undefined) {
      out += '%';
      i += 1;
    } else {
      out += decoded;
      i += used;
    }
  }
  const kept: string[] = [];
  const segments = out.split('/').slice(1);
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    if (segment === '.' || segment === '..') {
      if (segment === '..') kept.pop();
      if (last) kept.push('');
    } else kept.push(segment);
  });
  return `/${kept.join('/')}`;
}

/** The target as Kestrel reads it: the path it decoded, and the query as sent. */
export function kestrelTargetOf(seen: Seen): { path: string; query: string } | { refused: number } {
  let target = seen.target;
  // eslint-disable-next-line no-control-regex -- Kestrel takes ASCII without NUL only
  if (!/^[\x01-\x7f]+$/.test(target)) return { refused: 400 };
  const method = seen.method.toUpperCase();
  if (target === '*') return method === 'OPTIONS' ? { path: '', query: '' } : { refused: 405 };
  if (!target.startsWith('/')) {
    if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(target)) {
      return method === 'CONNECT' ? { path: '', query: '' } : { refused: 405 };
    }
    let parsed: URL;
    try {
      parsed = new URL(target);
    } catch {
      return { refused: 400 };
    }
    const host = seen.host?.toLowerCase();
    if (host !== parsed.host && (parsed.port !== '' || host !== `${parsed.host}:80`)) {
      return { refused: 400 };
    }
    target = parsed.pathname + parsed.search;
  }
  const at = target.indexOf('?');
  const decoded = kestrelPathOf(at === -1 ? target : target.slice(0, at));
  if (decoded === undefined) return { refused: 400 };
  return { path: decoded, query: at === -1 ? '' : target.slice(at) };
}
