/**
 * What Kestrel, the web server the Functions host runs on (ASP.NET Core, net8.0 for host 4.x),
 * does with a request before the host's own middleware sees it. Node's HTTP parser (llhttp) is
 * stricter in some places (unknown methods, bare LF, Transfer-Encoding with Content-Length) and
 * more lenient in others (long request lines, HTTP/0.9, raw bytes in header values), so the local
 * host runs llhttp in its lenient mode and applies Kestrel's own rules here. Each rule names the
 * dotnet/aspnetcore source it follows (src/Servers/Kestrel/Core/src/...); docs/platform-parity.md
 * lists them with their tests.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** `KestrelServerLimits.MaxRequestLineSize`: the request line, its line end included. */
export const MAX_REQUEST_LINE_BYTES = 8 * 1024;
/** `KestrelServerLimits.MaxRequestHeadersTotalSize`. */
export const MAX_REQUEST_HEADERS_BYTES = 32 * 1024;
/** `KestrelServerLimits.MaxRequestHeaderCount`. */
export const MAX_REQUEST_HEADER_COUNT = 100;
/**
 * `KestrelServerLimits.MinRequestBodyDataRate`: 240 bytes/s once a 5 s grace period is over,
 * checked on each 1 s heartbeat (`Heartbeat.Interval`) by `TimeoutControl`. The Functions host
 * leaves it at the default (azure-functions-host src/WebJobs.Script.WebHost/Program.cs only sets
 * `MaxRequestBodySize`).
 */
export const MIN_REQUEST_BODY_RATE = { bytesPerSecond: 240, graceMs: 5_000, checkEveryMs: 1_000 };

/**
 * Options for the Node server: llhttp's lenient mode accepts what Kestrel accepts (bare LF line
 * ends, `Transfer-Encoding` together with `Content-Length`, any control byte but NUL in a header
 * value) and the checks below refuse what Kestrel refuses. Node's own head limit is raised to
 * Kestrel's two limits together, so that Kestrel's finer ones (414, 431) decide.
 */
export const KESTREL_SERVER_OPTIONS: http.ServerOptions = {
  insecureHTTPParser: true,
  // Kestrel checks Host after every header line (`EnsureHostHeaderExists`): `kestrelRefusal` does.
  requireHostHeader: false,
  maxHeaderSize: MAX_REQUEST_LINE_BYTES + MAX_REQUEST_HEADERS_BYTES,
};

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** RFC 9110 §5.6.2 token: what a method and a header name may be. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * A header value as Kestrel decodes it: ASCII, or else strict UTF-8, and never NUL
 * (`StringUtilities.GetAsciiOrUTF8StringNonNullCharacters`, called from
 * `HttpUtilities.GetRequestHeaderString` with no `RequestHeaderEncodingSelector`). Node hands the
 * bytes over as Latin-1 text, so `アリス` sent as UTF-8 arrives as `ã‚¢ãƒªã‚¹`; this undoes that.
 * Returns undefined for a value Kestrel refuses with 400 (`MalformedRequestInvalidHeaders`).
 */
export function kestrelHeaderValue(latin1: string): string | undefined {
  if (latin1.includes('\0')) return undefined;
  // eslint-disable-next-line no-control-regex -- the test is exactly "is this ASCII"
  if (/^[\x00-\x7f]*$/.test(latin1)) return latin1;
  try {
    return utf8.decode(Buffer.from(latin1, 'latin1'));
  } catch {
    return undefined;
  }
}

/**
 * Kestrel's refusals of a request it has parsed, before any middleware runs: the status it
 * answers with (and then closes the connection), or undefined when the request goes on.
 */
export function kestrelRefusal(req: IncomingMessage): number | undefined {
  // HttpParser.TryParseRequestLine: the line must end in ` HTTP/x.y`; `GET /path` alone (HTTP/0.9)
  // is an invalid request line. Only HTTP/1.0 and 1.1 are known (`GetKnownVersion`): others 505.
  if (req.httpVersionMajor === 0) return 400;
  if (req.httpVersion !== '1.1' && req.httpVersion !== '1.0') return 505;
  // Http1Connection.TakeStartLine: 414 when no line end is found in the first
  // MaxRequestLineSize bytes. Counted as sent with CRLF.
  const line = `${req.method ?? ''} ${req.url ?? ''} HTTP/${req.httpVersion}\r\n`;
  if (Buffer.byteLength(line, 'latin1') > MAX_REQUEST_LINE_BYTES) return 414;
  const raw = req.rawHeaders;
  // Header lines are read in order: one that ends past the size limit or is the 101st is a 431
  // (Http1Connection.TakeMessageHeaders, HeadersExceedMaxTotalSize), one before it that is broken
  // a 400 (HttpRequestHeaders: InvalidCharactersInHeaderName; the value's decoding).
  let headerBytes = 0;
  let contentLengths = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] ?? '';
    const value = raw[i + 1] ?? '';
    headerBytes += Buffer.byteLength(`${name}: ${value}\r\n`, 'latin1');
    // Http1Connection.OnHeader: TooManyHeaders, counted as each line is read.
    if (headerBytes > MAX_REQUEST_HEADERS_BYTES || i / 2 >= MAX_REQUEST_HEADER_COUNT) return 431;
    if (!TOKEN.test(name) || kestrelHeaderValue(value) === undefined) return 400;
    if (name.toLowerCase() === 'content-length') {
      // HttpRequestHeaders.AppendContentLength: digits only (InvalidContentLength).
      if (!/^\d+$/.test(value)) return 400;
      contentLengths += 1;
    }
  }
  // HttpRequestHeaders.AppendContentLength: MultipleContentLengths.
  if (contentLengths > 1) return 400;
  // Http1Connection.EnsureHostHeaderExists: HTTP/1.1 needs exactly one Host (MissingHostHeader,
  // MultipleHostHeaders). Node checks the first itself, but not for a head read here.
  const hosts = raw.filter((_, i) => i % 2 === 0 && raw[i]?.toLowerCase() === 'host').length;
  if (hosts > 1 || (hosts === 0 && req.httpVersion === '1.1')) return 400;
  const te = req.headers['transfer-encoding'];
  if (te !== undefined) {
    // Http1MessageBody.For: the final transfer coding must be chunked (RFC 9112 §6.3).
    const final = te.split(',').at(-1)?.trim().toLowerCase();
    if (final !== 'chunked') return 400;
  } else if (
    req.headers['content-length'] === undefined &&
    req.httpVersion === '1.0' &&
    (req.method === 'POST' || req.method === 'PUT')
  ) {
    // Http1MessageBody.For: LengthRequiredHttp10. HTTP/1.1 without either is simply bodiless.
    return 400;
  }
  return undefined;
}

/**
 * Http1MessageBody.For: with `Transfer-Encoding`, a `Content-Length` is removed and kept as
 * `X-Content-Length` (RFC 9112 §6.3: Transfer-Encoding overrides Content-Length), so the host
 * sees no Content-Length and forwards no body (`ToRpcHttp` copies one only when
 * `ContentLength > 0`). Applied to the headers the app gets.
 */
export function kestrelFraming(headers: Record<string, string>): void {
  if (headers['transfer-encoding'] !== undefined && headers['content-length'] !== undefined) {
    headers['x-content-length'] = headers['content-length'];
    delete headers['content-length'];
  }
}

const HEX = /^[0-9A-Fa-f]{2}$/;

/**
 * %-decoding as Kestrel's `UrlDecoder.DecodeInPlace` does it: an escape is decoded only when the
 * escapes starting there form one well-formed UTF-8 character (no overlong forms, no surrogates,
 * nothing above U+10FFFF); anything else, and `%2F`, stays as sent. `%00` is refused.
 */
function decodePercent(path: string): string {
  const out: number[] = [];
  let i = 0;
  const escapeAt = (at: number): number | undefined => {
    if (path[at] !== '%') return undefined;
    const hex = path.slice(at + 1, at + 3);
    if (!HEX.test(hex)) return undefined;
    const value = parseInt(hex, 16);
    return value === 0x2f ? undefined : value;
  };
  while (i < path.length) {
    const first = escapeAt(i);
    if (first === undefined) {
      out.push(path.charCodeAt(i));
      i += 1;
      continue;
    }
    if (first === 0) throw new Error('the path contains a NUL');
    const count =
      first < 0x80
        ? 1
        : first >= 0xf0 && first < 0xf8
          ? 4
          : first >= 0xe0
            ? 3
            : first >= 0xc0
              ? 2
              : 0;
    const bytes = [first];
    for (let k = 1; k < count; k++) {
      const next = escapeAt(i + 3 * k);
      if (next === undefined || (next & 0xc0) !== 0x80) break;
      bytes.push(next);
    }
    const decoded = count > 0 && bytes.length === count ? wellFormed(bytes) : undefined;
    if (decoded === undefined) {
      // Not one UTF-8 character: the `%` is kept and scanning goes on after it.
      out.push(0x25);
      i += 1;
    } else {
      out.push(...bytes);
      i += 3 * count;
    }
  }
  // Kestrel: `Encoding.UTF8.GetString` of the decoded bytes (the raw target is ASCII, and every
  // decoded sequence was checked above).
  return Buffer.from(out).toString('utf8');
}

function wellFormed(bytes: number[]): string | undefined {
  try {
    const text = utf8.decode(Uint8Array.from(bytes));
    return text.length > 0 ? text : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Dot segments removed as RFC 3986 §5.2.4 says, after decoding (`PathNormalizer.RemoveDotSegments`):
 * `/api/../api/token` and `/api/%2e%2e/api/token` become `/api/token`, and nothing climbs above `/`.
 * Empty segments stay: `//api/token` is not `/api/token`.
 */
function removeDotSegments(path: string): string {
  const output: string[] = [];
  let input = path;
  while (input.length > 0) {
    if (input.startsWith('/./')) input = input.slice(2);
    else if (input === '/.') input = '/';
    else if (input.startsWith('/../')) {
      input = input.slice(3);
      output.pop();
    } else if (input === '/..') {
      input = '/';
      output.pop();
    } else {
      const next = input.indexOf('/', 1);
      const segment = next === -1 ? input : input.slice(0, next);
      output.push(segment);
      input = next === -1 ? '' : input.slice(next);
    }
  }
  return output.join('') || '/';
}

/**
 * The request path as `HttpRequest.Path` holds it (`PathNormalizer.DecodePath`): %-decoded, then
 * dot segments removed. Throws for a path Kestrel refuses (`InvalidRequestTarget`, 400).
 */
export function kestrelPath(rawPath: string): string {
  return removeDotSegments(decodePercent(rawPath));
}

/** Characters `PathString.ToUriComponent` leaves as they are (RFC 3986 pchar and `/`). */
const PATH_SAFE = /[A-Za-z0-9\-._~!$&'()*+,;=:@/]/;

/**
 * The path as the host writes it into the URL it hands the worker (`ToRpcHttp`:
 * `{request.Path}` is `PathString.ToString()`, its escaped form): what is not allowed in a path is
 * %-encoded as UTF-8, and an existing `%XX` (only `%2F` survives decoding) is kept.
 */
export function escapedPath(path: string): string {
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const ch = path[i] ?? '';
    if (PATH_SAFE.test(ch)) out += ch;
    else if (ch === '%' && HEX.test(path.slice(i + 1, i + 3))) out += ch;
    else {
      const cp = path.codePointAt(i) ?? 0;
      const char = String.fromCodePoint(cp);
      out += encodeURIComponent(char);
      i += char.length - 1;
    }
  }
  return out;
}

export interface KestrelTarget {
  /** `HttpRequest.Path`: decoded and normalised; empty for `*`. */
  path: string;
  /** `HttpRequest.QueryString`: as sent, with its `?`. */
  query: string;
}

const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/**
 * The request target as Kestrel reads it (`Http1Connection.OnStartLine`), or the status it
 * refuses it with: the raw target must be ASCII without NUL (`GetAsciiStringNonNullCharacters`);
 * `*` is for OPTIONS only and authority-form for CONNECT only (405 otherwise).
 */
export function kestrelTarget(
  method: string,
  rawTarget: string,
  host: string | undefined,
): KestrelTarget | number {
  // eslint-disable-next-line no-control-regex -- ASCII without NUL, as Kestrel requires
  if (!/^[\x01-\x7f]+$/.test(rawTarget)) return 400;
  if (rawTarget === '*') return method === 'OPTIONS' ? { path: '', query: '' } : 405;
  let target = rawTarget;
  if (!target.startsWith('/')) {
    if (!ABSOLUTE_FORM.test(target)) return method === 'CONNECT' ? { path: '', query: '' } : 405;
    // Absolute-form (RFC 9112 §3.2.2): Kestrel takes the path of the parsed URI, and the Host
    // header must be its authority, with or without a default port
    // (`Http1Connection.ValidateNonOriginHostHeader`).
    let parsed: URL;
    try {
      parsed = new URL(target);
    } catch {
      return 400;
    }
    const defaultPort = parsed.protocol === 'https:' ? '443' : '80';
    const authority = [parsed.host, parsed.port ? undefined : `${parsed.host}:${defaultPort}`];
    if (host === undefined || !authority.includes(host.toLowerCase())) return 400;
    target = parsed.pathname + parsed.search;
  }
  // Kestrel refuses a path that starts with `?` or `%` (HttpParser: "Empty path is illegal").
  const at = target.indexOf('?');
  const rawPath = at === -1 ? target : target.slice(0, at);
  try {
    return { path: kestrelPath(rawPath), query: at === -1 ? '' : target.slice(at) };
  } catch {
    return 400;
  }
}

/** Kestrel's rejection: an empty answer, then the connection is closed. */
export function reject(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'content-length': '0', connection: 'close' }).end();
}

/**
 * Reads a request body the way the host reads it through Kestrel: when the client has sent less
 * than MIN_REQUEST_BODY_RATE allows once the grace period is over, the read fails
 * (`TimeoutReason.ReadDataRate`, a `BadHttpRequestException` in the host's body read, which its
 * ExceptionMiddleware answers with 500).
 */
export function readBodyAtMinimumRate(
  req: IncomingMessage,
  onData: (chunk: Buffer) => void,
): Promise<'complete' | 'too-slow'> {
  return new Promise((resolve, reject) => {
    // Time counted as Kestrel counts it: at most one heartbeat per tick, so a process starved of
    // CPU does not hold it against the client ("overly long tick intervals", TimeoutControl).
    let elapsed = 0;
    let last = Date.now();
    let received = 0;
    const timer = setInterval(() => {
      const now = Date.now();
      elapsed += Math.min(now - last, MIN_REQUEST_BODY_RATE.checkEveryMs);
      last = now;
      if (elapsed <= MIN_REQUEST_BODY_RATE.graceMs) return;
      if (received / (elapsed / 1000) < MIN_REQUEST_BODY_RATE.bytesPerSecond) {
        finish();
        resolve('too-slow');
      }
    }, MIN_REQUEST_BODY_RATE.checkEveryMs);
    const data = (chunk: Buffer) => {
      received += chunk.length;
      onData(chunk);
    };
    const end = () => {
      finish();
      resolve('complete');
    };
    const error = (err: Error) => {
      finish();
      reject(err);
    };
    function finish() {
      clearInterval(timer);
      req.off('data', data);
      req.off('end', end);
      req.off('error', error);
    }
    req.on('data', data);
    req.on('end', end);
    req.on('error', error);
  });
}

interface ParsedHead {
  method: string;
  target: string;
  version: '1.0' | '1.1';
  rawHeaders: string[];
  /** Bytes after the head in the same packet: the start of the body. */
  rest: Buffer;
}

/** A request head that llhttp refused only for its method: Kestrel takes any token. */
function customMethodHead(bytes: Buffer): ParsedHead | undefined {
  const lines = bytes.toString('latin1').split('\n');
  const first = /^(\S+) (\S+) HTTP\/1\.([01])\r?$/.exec(lines[0] ?? '');
  if (!first || !TOKEN.test(first[1] ?? '')) return undefined;
  const rawHeaders: string[] = [];
  let consumed = (lines[0] ?? '').length + 1;
  for (const line of lines.slice(1)) {
    consumed += line.length + 1;
    const content = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (content === '') {
      return {
        method: first[1] ?? '',
        target: first[2] ?? '',
        version: first[3] === '0' ? '1.0' : '1.1',
        rawHeaders,
        rest: bytes.subarray(consumed),
      };
    }
    const colon = content.indexOf(':');
    if (colon <= 0 || /[ \t]/.test(content.slice(0, colon))) return undefined;
    rawHeaders.push(
      content.slice(0, colon),
      content.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, ''),
    );
  }
  return undefined; // the head is not complete in what was received
}

/** Where the request head that holds `at` starts: after the last empty line before it. */
function headStart(raw: Buffer, at: number): number {
  const before = raw.subarray(0, at).toString('latin1');
  const crlf = before.lastIndexOf('\r\n\r\n');
  const lf = before.lastIndexOf('\n\n');
  return Math.max(crlf === -1 ? 0 : crlf + 4, lf === -1 ? 0 : lf + 2);
}

/**
 * What Kestrel decides on the header lines before `at`, where llhttp stopped: it reads them in
 * order, so a line past the 100th is a 431 and a broken one a 400 before llhttp's own complaint.
 */
function verdictBefore(raw: Buffer, at: number): number | undefined {
  const lines = raw.subarray(headStart(raw, at), at).toString('latin1').split('\n');
  // The request line, then the header lines that ended before `at`.
  const headers = lines.slice(1, -1).map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  let count = 0;
  let bytes = 0;
  for (const line of headers) {
    if (line === '') break;
    count += 1;
    bytes += line.length + 2;
    if (count > MAX_REQUEST_HEADER_COUNT || bytes > MAX_REQUEST_HEADERS_BYTES) return 431;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (!TOKEN.test(name) || kestrelHeaderValue(value) === undefined) return 400;
  }
  return undefined;
}

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

interface ParseError extends Error {
  code?: string;
  rawPacket?: Buffer;
  bytesParsed?: number;
}

/**
 * Wires Kestrel's connection behaviour into a Node server whose requests `handle` answers:
 * - requests on one connection are answered in order, and a parse error after a request (bytes
 *   after a body-less POST, say) is dealt with only once that request's answer is out;
 * - a method llhttp does not know (`FOO`) is one Kestrel accepts (`HttpParser.TryGetUnknownMethodLength`:
 *   any token), so the request goes to `handle` like any other, then the connection closes;
 * - bytes that are no request line: Kestrel answers 400 once it has the whole line, and waits
 *   while it has not; here the connection is closed instead of waiting;
 * - a head over Node's limit: 414 when the request line alone is too long, else 431.
 */
export function kestrelConnections(handle: RequestHandler): {
  onRequest: RequestHandler;
  onClientError: (err: Error, socket: Socket) => void;
} {
  const inFlight = new WeakMap<Socket, Promise<unknown>>();
  const failed = new WeakSet<Socket>();

  const onRequest: RequestHandler = (req, res) => {
    const socket = req.socket;
    const answered = new Promise((resolve) => res.once('close', resolve));
    inFlight.set(socket, Promise.all([inFlight.get(socket), answered]));
    handle(req, res);
  };

  const serveParsedHead = (head: ParsedHead, socket: Socket) => {
    const req = new http.IncomingMessage(socket);
    req.method = head.method;
    req.url = head.target;
    req.httpVersion = head.version;
    req.httpVersionMajor = 1;
    req.httpVersionMinor = head.version === '1.0' ? 0 : 1;
    req.rawHeaders = head.rawHeaders;
    // Without a prototype, as Node's own: a header may be called `constructor` or `__proto__`.
    const headers: Record<string, string> = Object.create(null) as Record<string, string>;
    for (let i = 0; i < head.rawHeaders.length; i += 2) {
      const name = (head.rawHeaders[i] ?? '').toLowerCase();
      const value = head.rawHeaders[i + 1] ?? '';
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    req.headers = headers;
    // Node builds `headersDistinct` only from what its parser saw; this head it did not parse.
    const distinct: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
    for (let i = 0; i < head.rawHeaders.length; i += 2) {
      const name = (head.rawHeaders[i] ?? '').toLowerCase();
      (distinct[name] ??= []).push(head.rawHeaders[i + 1] ?? '');
    }
    Object.defineProperty(req, 'headersDistinct', { value: distinct });
    // The body, when Content-Length gives one (the host forwards no other): what followed the
    // head, then what the connection still brings, which llhttp no longer parses.
    let remaining = headers['transfer-encoding'] ? 0 : Number(headers['content-length'] ?? 0) || 0;
    // Ended in full, or IncomingMessage takes it for aborted and destroys the socket.
    const end = () => {
      req.complete = true;
      req.push(null);
    };
    const feed = (chunk: Buffer) => {
      if (remaining <= 0 || req.destroyed) return;
      const part = chunk.subarray(0, remaining);
      remaining -= part.length;
      req.push(part);
      if (remaining <= 0) {
        socket.off('data', feed);
        end();
      }
    };
    if (remaining > 0) {
      feed(head.rest);
      if (remaining > 0) {
        socket.on('data', feed);
        socket.once('close', () => socket.off('data', feed));
      }
    } else end();
    const res = new http.ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket);
    res.once('finish', () => {
      res.detachSocket(socket);
      socket.end();
    });
    handle(req, res);
  };

  const onClientError = (err: ParseError, socket: Socket) => {
    // llhttp stops at the first error; later bytes on this connection are never parsed.
    if (failed.has(socket)) return;
    failed.add(socket);
    const raw = err.rawPacket ?? Buffer.alloc(0);
    const at = Math.min(err.bytesParsed ?? 0, raw.length);
    const lineStart = at > 0 ? raw.lastIndexOf(0x0a, at - 1) + 1 : 0;
    const rest = raw.subarray(lineStart);
    let bytes = rest;
    const answer = () => {
      if (socket.destroyed || !socket.writable) return;
      const head = err.code === 'HPE_INVALID_METHOD' ? customMethodHead(bytes) : undefined;
      if (head) return serveParsedHead(head, socket);
      const verdict = verdictBefore(raw, at);
      let status: number;
      if (verdict !== undefined) status = verdict;
      else if (err.code === 'HPE_HEADER_OVERFLOW') {
        const start = headStart(raw, at);
        const lineEnd = raw.indexOf(0x0a, start);
        status = lineEnd === -1 || lineEnd + 1 - start > MAX_REQUEST_LINE_BYTES ? 414 : 431;
      } else if (!rest.includes(0x0a)) {
        // Not a whole line yet: Kestrel would wait for the rest (and its timeouts).
        socket.end();
        return;
      } else status = 400;
      const reason = http.STATUS_CODES[status] ?? '';
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    };
    // Nothing here may take the process down: a connection that cannot be answered is dropped.
    // A head with a method llhttp does not know may come in several packets: read on until its
    // empty line (within Kestrel's limits), then answer it.
    const headComplete = () =>
      !TOKEN.test(bytes.toString('latin1').split(' ', 1)[0] ?? '') ||
      /\r?\n\r?\n/.test(bytes.toString('latin1')) ||
      bytes.length > MAX_REQUEST_LINE_BYTES + MAX_REQUEST_HEADERS_BYTES;
    const whole =
      err.code !== 'HPE_INVALID_METHOD' || headComplete()
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const more = (chunk: Buffer) => {
              bytes = Buffer.concat([bytes, chunk]);
              if (headComplete()) done();
            };
            const done = () => {
              socket.off('data', more);
              socket.off('close', done);
              resolve();
            };
            socket.on('data', more);
            socket.once('close', done);
          });
    void Promise.all([inFlight.get(socket), whole])
      .then(answer)
      .catch(() => socket.destroy());
  };

  return { onRequest, onClientError };
}
