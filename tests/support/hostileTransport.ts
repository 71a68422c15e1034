import net from 'node:net';
import { bodyText, contentLengthLine, type HostileRequest } from './arbitraries/request';

/** What came back for one request. */
export type Outcome =
  | { kind: 'answer'; status: number; headers: Record<string, string>; body: string }
  /** The client library would not send it (fetch's own rules); not counted as a request. */
  | { kind: 'refused'; reason: string }
  /** The connection broke or nothing came back in time. */
  | { kind: 'failed'; reason: string };

const TIMEOUT_MS = 20_000;

/** The few bodies of megabytes repeat one recipe; building each anew only feeds the GC. */
const bigBodies = new Map<string, Buffer>();

function bytesOf(r: HostileRequest): Buffer {
  const { body } = r;
  if (body.kind !== 'repeat' || body.count < 1024 * 1024)
    return Buffer.from(bodyText(body), 'utf8');
  const key = JSON.stringify(body);
  let bytes = bigBodies.get(key);
  if (!bytes) {
    if (bigBodies.size >= 4) bigBodies.clear();
    bytes = Buffer.from(bodyText(body), 'utf8');
    bigBodies.set(key, bytes);
  }
  return bytes;
}

// undici's errors for requests it refuses to build; everything else is the connection's fault.
const CLIENT_SIDE = new Set([
  'UND_ERR_INVALID_ARG',
  'UND_ERR_NOT_SUPPORTED',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
]);

async function viaFetch(r: HostileRequest, base: string): Promise<Outcome> {
  let init: RequestInit;
  let url: string;
  try {
    // Appended, not resolved: `//api/token` is a path here, not a host.
    url = new URL(base + r.target).href;
    const headers = new Headers(r.headers);
    init = {
      method: r.method,
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
      // Bytes, not a string: a string body would make fetch add its own text/plain type.
      ...(r.body.kind === 'none' ? {} : { body: bytesOf(r) }),
    };
  } catch (err) {
    return { kind: 'refused', reason: (err as Error).message };
  }
  try {
    const res = await fetch(url, init);
    const body = await res.text();
    const headers: Record<string, string> = {};
    res.headers.forEach((value, name) => (headers[name] = value));
    return { kind: 'answer', status: res.status, headers, body };
  } catch (err) {
    const { cause, name, message } = err as Error & { cause?: { code?: string; message?: string } };
    if (name === 'TimeoutError') return { kind: 'failed', reason: 'no answer in time' };
    if (cause === undefined || CLIENT_SIDE.has(cause.code ?? '')) {
      return { kind: 'refused', reason: cause?.message ?? message };
    }
    return { kind: 'failed', reason: `${cause.code ?? ''} ${cause.message ?? message}` };
  }
}

function rawBytes(r: HostileRequest, port: number): Buffer {
  const raw = r.raw!;
  const body = bytesOf(r);
  const lines = [`${r.method} ${r.target} HTTP/${raw.version}`];
  const host = raw.host === undefined ? `localhost:${port}` : raw.host;
  if (host !== null) lines.push(`Host: ${host}`);
  for (const [name, value] of r.headers) lines.push(`${name}: ${value}`);
  let payload = body;
  const chunked = () => {
    lines.push('Transfer-Encoding: chunked');
    payload = Buffer.concat([
      body.length > 0 ? Buffer.from(`${body.length.toString(16)}\r\n`) : Buffer.alloc(0),
      body,
      Buffer.from(body.length > 0 ? '\r\n0\r\n\r\n' : '0\r\n\r\n'),
    ]);
  };
  switch (raw.framing.kind) {
    case 'length':
      if (r.body.kind !== 'none') lines.push(`Content-Length: ${body.length}`);
      break;
    case 'chunked':
      chunked();
      break;
    case 'lengthAndChunked':
      lines.push(`Content-Length: ${body.length}`);
      chunked();
      break;
    case 'lines':
      for (const v of raw.framing.values)
        lines.push(`Content-Length: ${contentLengthLine(v, body.length)}`);
      break;
  }
  lines.push('Connection: close');
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), payload]);
}

/** Parses the one response a `Connection: close` exchange yields. */
function parseResponse(data: Buffer): Outcome {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return { kind: 'failed', reason: `no complete response (${data.length} bytes)` };
  const [statusLine = '', ...headerLines] = data.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  if (!Number.isInteger(status)) return { kind: 'failed', reason: `bad status line ${statusLine}` };
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const at = line.indexOf(':');
    headers[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
  }
  let body = data.subarray(end + 4);
  if (headers['transfer-encoding'] === 'chunked') {
    const parts: Buffer[] = [];
    for (let at = 0; ;) {
      const eol = body.indexOf('\r\n', at);
      const size = parseInt(body.subarray(at, eol).toString(), 16);
      if (!(size > 0)) break;
      parts.push(body.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  }
  return { kind: 'answer', status, headers, body: body.toString('utf8') };
}

/** Writes the request's exact bytes on a fresh connection and reads until the server closes it. */
function viaSocket(r: HostileRequest, port: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ kind: 'failed', reason: 'no answer in time' });
    }, TIMEOUT_MS);
    socket.on('data', (d: Buffer) => chunks.push(d));
    // The server may answer and close before it has read everything (a refused request):
    // what it sent still counts, a reset while writing does not make it a failure.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const data = Buffer.concat(chunks);
      resolve(
        data.length > 0
          ? parseResponse(data)
          : { kind: 'failed', reason: 'connection closed without an answer' },
      );
    });
    // Not end(): the server closes after its answer (Connection: close), as HTTP/1.0 also implies.
    socket.write(rawBytes(r, port));
  });
}

/** Sends one generated request to the host on `port` (fetch goes to 127.0.0.1: no DNS lookups). */
export function send(r: HostileRequest, port: number): Promise<Outcome> {
  return r.transport === 'fetch' ? viaFetch(r, `http://127.0.0.1:${port}`) : viaSocket(r, port);
}
