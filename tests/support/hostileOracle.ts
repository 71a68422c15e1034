import { statSync } from 'node:fs';
import path from 'node:path';
import {
  ACS_SCOPE_NAMES,
  bodyText,
  contentLengthLine,
  SESSION_COOKIE,
  type HostileRequest,
  type HostMode,
} from './arbitraries/request';

/**
 * The hostile-input suite's model of the service: for any generated request, what the local host
 * must answer. It is written from the contract (docs/api.md and the README's security model) and the
 * platform's documented behaviour, not from the implementation, so the two can disagree.
 *
 * Answers come from five layers, and only the last one is the app:
 * - `http`: Kestrel, the web server of Azure's Functions host, refuses what is not HTTP/1.x as it
 *   reads it (a method or header name that is no token, a broken or repeated Content-Length, a
 *   missing Host, a header value that is not UTF-8, a request line over 8 KiB: 414, a header
 *   block over 32 KiB: 431) with a bare answer and closes the connection
 *   (docs/platform-parity.md, "Requests Kestrel and the host see before the app");
 * - `host`: the Functions host answers a Host it cannot parse (400), an unknown route or method
 *   (404, or its default page at `/`), a missing or wrong function key (401) and a body over its
 *   8 MiB limit (413), all with an empty body but the page, as Azure does;
 * - `worker`: a header value outside Latin-1 (sent as UTF-8) reaches the Node worker, which cannot
 *   build the request: a bare 500, the only 5xx the model allows;
 * - `files`: the local host serves the browser demo's files at `/` in front of the routes
 *   (docs/local-development.md: Browser demo): a file for GET and HEAD, a bare 400 for a name
 *   that climbs out of the folder once decoded; everything else falls through to the host;
 * - `app`: everything else, and every 4xx from here is `application/problem+json`. Every app
 *   answer carries the security headers and exactly the CORS headers the host's
 *   `CORS_ALLOWED_ORIGINS` grant the request's Origin; nothing in front of the app adds any.
 *
 * The hosts run with rate limits far above what the suite sends, so the limiter runs on every
 * admitted request but a 429 is never right (rate limiting has its own test in
 * tests/integration/hardening.test.ts), and without TOKEN_CACHE_KEY, so every 200 is a fresh
 * token from ACS.
 */

export interface Policy {
  allowedScopes: readonly string[];
  defaultScopes: readonly string[];
  defaultExpiryMinutes: number;
  maxExpiryMinutes: number;
}

export interface OracleContext {
  functionKey: string;
  /** Genuine `AppServiceAuthSession` cookie values. */
  sessions: ReadonlySet<string>;
  policy: Policy;
  ports: Record<HostMode, number>;
  /** Each host's `CORS_ALLOWED_ORIGINS`: exact origins, or `*`. */
  cors: Record<HostMode, readonly string[] | '*'>;
  /** The folder the hosts serve at `/` (the built browser demo). */
  demoRoot: string;
}

export type Route = 'token' | 'revoke' | 'user' | 'health' | 'openapi';

/** What an app answer may be; `allow` is the `Allow` header a 405 must carry. */
export interface OutcomeSpec {
  status: number;
  code?: string;
  allow?: string;
}

export interface Grant {
  scopes: string[];
  expiresInMinutes: number;
}

interface AppAnswer {
  layer: 'app';
  route: Route;
  /** Acceptable answers; more than one only where state the model cannot see decides. */
  outcomes: OutcomeSpec[];
  why: string;
  /** For a 200 from /api/token: what the token must grant. */
  grant?: Grant;
}

/**
 * `cors`: the `access-control-*` and `vary` headers the answer carries, exactly (none when
 * absent). The host's CORS layer adds them to every answer after the URL is read.
 */
export type Expectation = (
  | {
      layer: 'http' | 'host' | 'cors' | 'worker';
      status: number;
      why: string;
      /** Other statuses accepted (see `Seen.splitRefusal`). */
      alternatives?: number[];
    }
  /** The host's default page at `/` (HomepageMiddleware). */
  | { layer: 'host'; status: 200; homepage: true; why: string }
  | { layer: 'files'; status: 400; why: string }
  /** `file` is the absolute path of the file whose bytes the answer carries (none for HEAD). */
  | { layer: 'files'; status: 200; file: string; contentType: string; why: string }
  | AppAnswer
) & { cors?: Record<string, string> };

const APP_BODY_LIMIT = 16 * 1024;
const HOST_BODY_LIMIT = 8 * 1024 * 1024;
/** Kestrel's MaxRequestLineSize, MaxRequestHeadersTotalSize and MaxRequestHeaderCount. */
const REQUEST_LINE_LIMIT = 8 * 1024;
const HEADERS_LIMIT = 32 * 1024;
const HEADER_COUNT_LIMIT = 100;
const MIN_EXPIRY = 60;
const MAX_EXPIRY = 1440;
const TOKEN_FIELDS = ['scopes', 'expiresInMinutes', 'communicationUserId'];
const ACS_ID = /^8:[a-z0-9-]+:[A-Za-z0-9_.-]+$/;

/** Node keeps the first of these when a request repeats them (http.IncomingMessage docs). */
const FIRST_WINS = new Set([
  'content-type',
  'content-length',
  'authorization',
  'host',
  'user-agent',
  'referer',
  'from',
]);
const TOKEN_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** .NET's `OrdinalIgnoreCase`: each character upper-cased on its own (`ß` stays `ß`). */
function ordinalIgnoreCase(value: string): string {
  return [...value].map((c) => ([...c.toUpperCase()].length === 1 ? c.toUpperCase() : c)).join('');
}

/** The host's key parameter, whose name ASP.NET Core's query collection compares ignoring case. */
const isKeyParameter = (name: string) => ordinalIgnoreCase(name) === 'CODE';

/** The request as the server receives it, after the client library and Node's parser. */
interface Seen {
  method: string;
  /** The request-target on the wire. */
  target: string;
  host: string | undefined;
  headers: Map<string, string>;
  /** The first `x-functions-key` header line's value, which is all the host authenticates. */
  keyHeader?: string;
  body: Buffer;
  /** Set when Kestrel refuses the request. */
  refused?: { status: number; why: string };
  /**
   * Node's parser (llhttp) refuses this head itself (a head over 40 KiB, a broken or repeated
   * Content-Length), so the local host can only apply Kestrel's order of checks to the part of
   * the head in the last packet: with a head over 16 KiB, which may come in several, any of
   * Kestrel's refusals (400, 414, 431) is accepted.
   */
  splitRefusal?: boolean;
}

type Failure = { status: number; code: string; why: string };
type Result<T> = { ok: true; value: T } | ({ ok: false } & Failure);
const fail = (status: number, code: string, why: string): { ok: false } & Failure => ({
  ok: false,
  status,
  code,
  why,
});

function bodyBytes(r: HostileRequest): Buffer {
  return Buffer.from(bodyText(r.body), 'utf8');
}

function bodySizeOf(r: HostileRequest): number {
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

function seenBy(r: HostileRequest, ctx: OracleContext): Seen {
  const port = ctx.ports[r.host];
  return r.transport === 'fetch' ? seenViaFetch(r, port) : seenViaRaw(r, port);
}

/**
 * The function routes (case-insensitive, an optional trailing slash). Every function takes
 * every method a Node handler can be given, so a wrong one is a 405 problem, not the host's 404. CORS
 * preflights never reach a route: the host's CORS layer ends them (`corsFor`).
 */
const FUNCTION_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
const ROUTES: { route: Route; path: RegExp; methods: readonly string[]; needsKey: boolean }[] = [
  { route: 'token', path: /^\/api\/token\/?$/i, methods: FUNCTION_METHODS, needsKey: true },
  {
    route: 'revoke',
    path: /^\/api\/token\/revoke\/?$/i,
    methods: FUNCTION_METHODS,
    needsKey: true,
  },
  { route: 'user', path: /^\/api\/user\/?$/i, methods: FUNCTION_METHODS, needsKey: true },
  { route: 'health', path: /^\/api\/health\/?$/i, methods: FUNCTION_METHODS, needsKey: false },
  {
    route: 'openapi',
    path: /^\/api\/openapi\.json\/?$/i,
    methods: FUNCTION_METHODS,
    needsKey: false,
  },
];

const DEMO_CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** The demo folder does not change during a run; asking the file system once per path is enough. */
const fileKnown = new Map<string, boolean>();
function isFile(file: string): boolean {
  let known = fileKnown.get(file);
  if (known === undefined) {
    try {
      known = statSync(file).isFile();
    } catch {
      known = false; // missing, or a path through a file (`index.html/x`)
    }
    if (fileKnown.size < 10_000) fileKnown.set(file, known);
  }
  return known;
}

/**
 * The demo-file layer, for GET and HEAD only (other methods go on to the host). It sees the path
 * Kestrel decoded and normalised; what is still encoded there (`%2F`) is decoded once more, and a
 * name that then climbs out of the folder (`..%2F`, `..\\`) or holds a NUL is refused. A path
 * that is not a file there (a hidden name, an empty segment, a folder, a missing file, broken
 * %-encoding) is the host's to answer: `undefined`.
 */
function demoFileAnswer(seen: Seen, decodedPath: string, root: string): Expectation | undefined {
  const method = seen.method.toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(decodedPath.replace(/%(?![0-9A-Fa-f]{2})/g, '%25'));
  } catch {
    return undefined;
  }
  const refuse = (why: string): Expectation => ({ layer: 'files', status: 400, why });
  if (!decoded.startsWith('/')) return refuse('not a path');
  if (decoded.includes('\0')) return refuse('NUL in the path');
  const segments = decoded.slice(1).split(/[\\/]/);
  if (segments.includes('..')) return refuse('`..` in the path');
  if (segments.some((s) => s.startsWith('.'))) return undefined;
  if (segments.length > 1 && segments.includes('')) return undefined;
  const file = path.resolve(root, segments.join('/') || 'index.html');
  if (!file.startsWith(root + path.sep)) return refuse('a path outside the folder');
  if (!isFile(file)) return undefined;
  const contentType = DEMO_CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
  return { layer: 'files', status: 200, file, contentType, why: 'a demo file' };
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
function kestrelTargetOf(seen: Seen): { path: string; query: string } | { refused: number } {
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

/**
 * The host's CORS layer (dev/host/cors.ts, as azure-functions-host's JobHostCorsMiddleware with
 * ASP.NET Core's CorsService): nothing without `Origin`; a preflight (`OPTIONS` with
 * `Access-Control-Request-Method`) ends there with 204, an allowed origin learning the method
 * and headers it asked for; any other answer to an allowed origin carries the grant. Listed
 * origins come with credentials (the easyauth host's default), `*` without; `Vary: Origin` when
 * more than one origin is listed.
 */
function corsFor(
  seen: Seen,
  allowed: readonly string[] | '*',
): { preflight: boolean; headers: Record<string, string> } {
  const origin = seen.headers.get('origin');
  // No origins listed: the local host runs no CORS layer, like a host without the middleware.
  if (origin === undefined || allowed.length === 0) return { preflight: false, headers: {} };
  const preflight =
    seen.method.toUpperCase() === 'OPTIONS' && seen.headers.has('access-control-request-method');
  const headers: Record<string, string> = {};
  if (allowed === '*') headers['access-control-allow-origin'] = '*';
  else if (allowed.includes(origin)) {
    headers['access-control-allow-origin'] = origin;
    headers['access-control-allow-credentials'] = 'true';
    if (allowed.length > 1) headers.vary = 'Origin';
  }
  if (preflight && headers['access-control-allow-origin']) {
    headers['access-control-allow-methods'] = seen.headers.get('access-control-request-method')!;
    const asked = (seen.headers.get('access-control-request-headers') ?? '')
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean)
      .join(',');
    if (asked) headers['access-control-allow-headers'] = asked;
  }
  return { preflight, headers };
}

/** The session cookie's value as a cookie parser reads it: the first pair with that exact name. */
function sessionCookie(cookieHeader: string | undefined): string | undefined {
  for (const part of (cookieHeader ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === SESSION_COOKIE) return part.slice(at + 1).trim();
  }
  return undefined;
}

/**
 * A JSON body per the contract: at most 16 KiB, `application/json` when there is one, valid JSON.
 * An empty (all-whitespace) body means "all defaults". The host hands the app a body only with
 * `Content-Length > 0`; a body declared otherwise (chunked) arrives empty and is a 411.
 */
function jsonBody(seen: Seen): Result<unknown> {
  const declared = Number(seen.headers.get('content-length') ?? '0');
  if (declared > APP_BODY_LIMIT) return fail(413, 'payload_too_large', 'declared body over 16 KiB');
  // Bodies are text: UTF-8, a leading BOM dropped, broken sequences replaced (WHATWG decode).
  const text = declared > 0 ? new TextDecoder().decode(seen.body) : '';
  if (Buffer.byteLength(text) > APP_BODY_LIMIT)
    return fail(413, 'payload_too_large', 'body over 16 KiB');
  if (text === '' && seen.headers.has('transfer-encoding'))
    return fail(411, 'length_required', 'a body without Content-Length never reaches the app');
  if (text.trim() === '') return { ok: true, value: {} };
  const mediaType = (seen.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    return fail(400, 'unsupported_content_type', `content type ${JSON.stringify(mediaType)}`);
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return fail(400, 'invalid_json', 'body is not JSON');
  }
}

const invalid = (why: string) => fail(400, 'invalid_request', why);

/** `GET /api/token?scopes=a,b&expiresInMinutes=60`: the same fields, read from the query. */
function tokenQuery(query: URLSearchParams): Result<Record<string, unknown>> {
  const known = ['scopes', 'expiresInMinutes', 'communicationUserId'];
  const unknown = [...query.keys()].filter((k) => !known.includes(k) && !isKeyParameter(k));
  if (unknown.length > 0) return invalid(`unknown query parameter ${JSON.stringify(unknown[0])}`);
  const input: Record<string, unknown> = {};
  const ids = query.getAll('communicationUserId');
  if (ids.length > 1) return invalid('communicationUserId repeated');
  if (ids.length === 1) input.communicationUserId = ids[0];
  if (query.has('scopes')) {
    // Comma-separated, names exactly as sent (a blank is a bad name); a repeated parameter adds
    // to the list.
    input.scopes = query.getAll('scopes').flatMap((v) => v.split(','));
  }
  const expiry = query.getAll('expiresInMinutes');
  if (expiry.length > 1) return invalid('expiresInMinutes repeated');
  if (expiry.length === 1) {
    // A number in JSON's grammar is a number; anything else stays text and fails the type rule.
    input.expiresInMinutes = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(expiry[0]!)
      ? Number(expiry[0])
      : expiry[0];
  }
  return { ok: true, value: input };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function validId(v: unknown): boolean {
  return typeof v === 'string' && v.length <= 256 && ACS_ID.test(v);
}

interface TokenFields {
  scopes?: string[];
  expiresInMinutes?: number;
  communicationUserId?: string;
}

/** The token request contract (docs/api.md: `POST /api/token`). */
function tokenFields(input: unknown): Result<TokenFields> {
  if (!isObject(input)) return invalid('not a JSON object');
  const extra = Object.keys(input).find((k) => !TOKEN_FIELDS.includes(k));
  if (extra !== undefined) return invalid(`unknown field ${JSON.stringify(extra)}`);
  const { scopes, expiresInMinutes: minutes, communicationUserId: id } = input;
  if (Object.hasOwn(input, 'scopes')) {
    if (
      !Array.isArray(scopes) ||
      scopes.length === 0 ||
      !scopes.every((s) => typeof s === 'string' && ACS_SCOPE_NAMES.includes(s)) ||
      new Set(scopes).size !== scopes.length
    ) {
      return invalid('scopes');
    }
  }
  if (Object.hasOwn(input, 'expiresInMinutes')) {
    if (
      typeof minutes !== 'number' ||
      !Number.isInteger(minutes) ||
      minutes < MIN_EXPIRY ||
      minutes > MAX_EXPIRY
    ) {
      return invalid('expiresInMinutes');
    }
  }
  if (Object.hasOwn(input, 'communicationUserId') && !validId(id))
    return invalid('communicationUserId');
  return {
    ok: true,
    value: {
      ...(scopes !== undefined ? { scopes: scopes as string[] } : {}),
      ...(minutes !== undefined ? { expiresInMinutes: minutes as number } : {}),
      ...(id !== undefined ? { communicationUserId: id as string } : {}),
    },
  };
}

/** What the deployment grants: never more than asked, and asking for more is refused (403). */
function grantFor(fields: TokenFields, policy: Policy): Result<Grant> {
  const scopes = fields.scopes ?? [...policy.defaultScopes];
  const refused = scopes.filter((s) => !policy.allowedScopes.includes(s));
  if (refused.length > 0)
    return fail(403, 'scope_not_allowed', `scopes ${refused.join(',')} not allowed`);
  if (fields.expiresInMinutes !== undefined && fields.expiresInMinutes > policy.maxExpiryMinutes) {
    return fail(403, 'expiry_not_allowed', 'lifetime over the maximum');
  }
  const expiresInMinutes =
    fields.expiresInMinutes ?? Math.min(policy.defaultExpiryMinutes, policy.maxExpiryMinutes);
  return { ok: true, value: { scopes, expiresInMinutes } };
}

/** `DELETE /api/user` and `POST /api/token/revoke`: the identity named in the query or body. */
function identityTarget(seen: Seen, query: URLSearchParams): Result<string | undefined> {
  const unknown = [...query.keys()].filter(
    (k) => k !== 'communicationUserId' && !isKeyParameter(k),
  );
  if (unknown.length > 0) return invalid(`unknown query parameter ${JSON.stringify(unknown[0])}`);
  const ids = query.getAll('communicationUserId');
  if (ids.length > 1) return invalid('communicationUserId repeated');
  let input: unknown = ids.length === 1 ? { communicationUserId: ids[0] } : undefined;
  if (input === undefined) {
    const body = jsonBody(seen);
    if (!body.ok) return body;
    input = body.value;
  }
  if (!isObject(input)) return invalid('not a JSON object');
  if (Object.keys(input).some((k) => k !== 'communicationUserId')) return invalid('unknown field');
  if (Object.hasOwn(input, 'communicationUserId') && !validId(input.communicationUserId)) {
    return invalid('communicationUserId');
  }
  return { ok: true, value: input.communicationUserId as string | undefined };
}

function appAnswer(route: Route, ...outcomes: OutcomeSpec[]) {
  return (why: string, grant?: Grant): AppAnswer => ({
    layer: 'app',
    route,
    outcomes,
    why,
    ...(grant ? { grant } : {}),
  });
}
const problem = (route: Route, f: Failure): AppAnswer =>
  appAnswer(route, { status: f.status, code: f.code })(f.why);

const methodNotAllowed = (route: Route, method: string, allowed: string[]): AppAnswer =>
  appAnswer(route, {
    status: 405,
    code: 'method_not_allowed',
    allow: allowed.join(', '),
  })(`${method} on ${route}`);

function tokenAnswer(
  seen: Seen,
  url: URL,
  mode: HostMode,
  signedIn: boolean,
  ctx: OracleContext,
): AppAnswer {
  const method = seen.method.toUpperCase();
  if (method !== 'GET' && method !== 'POST')
    return methodNotAllowed('token', method, ['GET', 'POST']);
  if (mode === 'easyauth' && !signedIn)
    return problem('token', { status: 401, code: 'unauthenticated', why: 'no genuine session' });
  const input = method === 'GET' ? tokenQuery(url.searchParams) : jsonBody(seen);
  if (!input.ok) return problem('token', input);
  const fields = tokenFields(input.value);
  if (!fields.ok) return problem('token', fields);
  const grant = grantFor(fields.value, ctx.policy);
  if (!grant.ok) return problem('token', grant);
  if (fields.value.communicationUserId !== undefined) {
    return mode === 'easyauth'
      ? problem('token', {
          status: 403,
          code: 'forbidden',
          why: 'signed-in caller named an identity',
        })
      : problem('token', {
          status: 404,
          code: 'identity_not_found',
          why: 'ACS does not know the identity',
        });
  }
  return appAnswer('token', { status: 200 })('authorised and valid', grant.value);
}

function userAnswer(seen: Seen, url: URL, mode: HostMode, signedIn: boolean): AppAnswer {
  const method = seen.method.toUpperCase();
  if (method !== 'GET' && method !== 'DELETE')
    return methodNotAllowed('user', method, ['GET', 'DELETE']);
  if (mode === 'easyauth' && !signedIn)
    return problem('user', { status: 401, code: 'unauthenticated', why: 'no genuine session' });
  if (method === 'GET') {
    return mode === 'key'
      ? problem('user', { status: 404, code: 'not_found', why: 'key mode keeps no mapping' })
      : appAnswer(
          'user',
          { status: 200 },
          { status: 404, code: 'not_found' },
        )('signed in; identity may not exist yet');
  }
  const target = identityTarget(seen, url.searchParams);
  if (!target.ok) return problem('user', target);
  if (mode === 'key') {
    return target.value === undefined
      ? problem('user', {
          status: 400,
          code: 'invalid_request',
          why: 'key holder must name the identity',
        })
      : appAnswer('user', { status: 204 })('deleting is idempotent');
  }
  return target.value === undefined
    ? appAnswer('user', { status: 204 })('deletes the caller’s own identity')
    : problem('user', {
        status: 403,
        code: 'forbidden',
        why: 'signed-in caller named an identity',
      });
}

function revokeAnswer(seen: Seen, url: URL, mode: HostMode, signedIn: boolean): AppAnswer {
  const method = seen.method.toUpperCase();
  if (method !== 'POST') return methodNotAllowed('revoke', method, ['POST']);
  if (mode === 'easyauth' && !signedIn)
    return problem('revoke', { status: 401, code: 'unauthenticated', why: 'no genuine session' });
  const target = identityTarget(seen, url.searchParams);
  if (!target.ok) return problem('revoke', target);
  if (mode === 'key') {
    return target.value === undefined
      ? problem('revoke', {
          status: 400,
          code: 'invalid_request',
          why: 'key holder must name the identity',
        })
      : problem('revoke', {
          status: 404,
          code: 'identity_not_found',
          why: 'ACS does not know the identity',
        });
  }
  return target.value === undefined
    ? appAnswer('revoke', { status: 204 })('revokes the caller’s own tokens')
    : problem('revoke', {
        status: 403,
        code: 'forbidden',
        why: 'signed-in caller named an identity',
      });
}

/** The oracle: what the stack must answer to `r`. */
export function expectationFor(r: HostileRequest, ctx: OracleContext): Expectation {
  const seen = seenBy(r, ctx);
  if (seen.refused) {
    const alternatives = seen.splitRefusal ? [400, 414, 431] : undefined;
    return { layer: 'http', ...seen.refused, ...(alternatives ? { alternatives } : {}) };
  }
  const target = kestrelTargetOf(seen);
  if ('refused' in target) {
    return { layer: 'http', status: target.refused, why: 'a target Kestrel refuses' };
  }
  let url: URL;
  try {
    url = new URL(`http://${seen.host ?? 'localhost'}`);
  } catch {
    return { layer: 'host', status: 400, why: 'a Host that makes no URL' };
  }
  // RFC 9110 §4.2.4: userinfo in an http URL is invalid; a Host is an authority, not a path.
  if (url.username !== '' || url.password !== '' || url.pathname !== '/') {
    return { layer: 'host', status: 400, why: 'a Host with userinfo or a path' };
  }
  url = new URL(`${url.origin}/${target.query}`);
  const cors = corsFor(seen, ctx.cors[r.host]);
  if (cors.preflight) {
    return {
      layer: 'cors',
      status: 204,
      cors: cors.headers,
      why: 'a preflight, ended by the host',
    };
  }
  return { ...beyondCors(r, seen, target.path, url, ctx), cors: cors.headers };
}

/** Everything behind the host's CORS layer. */
function beyondCors(
  r: HostileRequest,
  seen: Seen,
  pathname: string,
  url: URL,
  ctx: OracleContext,
): Expectation {
  if (r.host === 'easyauth' && pathname.toLowerCase().startsWith('/.auth/')) {
    throw new Error(`the model does not cover the Easy Auth stand-in's own paths: ${pathname}`);
  }
  const demoFile = demoFileAnswer(seen, pathname, ctx.demoRoot);
  if (demoFile) return demoFile;
  const method = seen.method.toUpperCase();
  const route = ROUTES.find((x) => x.methods.includes(method) && x.path.test(pathname));
  if (!route && pathname === '/') {
    return { layer: 'host', status: 200, homepage: true, why: 'the host page at /' };
  }
  if (!route) return { layer: 'host', status: 404, why: `no route for ${method} ${pathname}` };
  if (r.host === 'key' && route.needsKey) {
    // Azure's host: the first header value, else the first `code` under any spelling; once the
    // exact key was accepted for a function (the suite does that first for each), any case
    // variant of it (docs/platform-parity.md, "Function keys").
    const presented =
      seen.keyHeader ?? [...url.searchParams].find(([name]) => isKeyParameter(name))?.[1];
    if (!presented || ordinalIgnoreCase(presented) !== ordinalIgnoreCase(ctx.functionKey))
      return { layer: 'host', status: 401, why: 'missing or wrong function key' };
  }
  const declared = seen.headers.has('transfer-encoding')
    ? 0
    : Number(seen.headers.get('content-length') ?? '0');
  if (declared > HOST_BODY_LIMIT || (declared > 0 && bodySizeOf(r) > HOST_BODY_LIMIT)) {
    return { layer: 'host', status: 413, why: 'body over the host limit' };
  }
  // The Easy Auth stand-in drops client-sent principal headers; every other value reaches the
  // worker, whose `Headers` take Latin-1 only.
  const outsideLatin1 = [...seen.headers].some(
    ([name, value]) =>
      !name.startsWith('x-ms-client-principal') && [...value].some((c) => c.codePointAt(0)! > 0xff),
  );
  if (outsideLatin1) {
    return { layer: 'worker', status: 500, why: 'a header value outside Latin-1' };
  }
  return routeAnswer(route.route, seen, url, r.host, ctx);
}

function routeAnswer(
  route: Route,
  seen: Seen,
  url: URL,
  mode: HostMode,
  ctx: OracleContext,
): AppAnswer {
  const signedIn = ctx.sessions.has(sessionCookie(seen.headers.get('cookie')) ?? '');
  switch (route) {
    case 'openapi':
      if (seen.method.toUpperCase() !== 'GET') return methodNotAllowed(route, seen.method, ['GET']);
      return appAnswer('openapi', { status: 200 })('the anonymous OpenAPI document');
    case 'health':
      if (seen.method.toUpperCase() !== 'GET') return methodNotAllowed(route, seen.method, ['GET']);
      return appAnswer('health', { status: 200 })('anonymous probe; the emulator is up');
    case 'token':
      return tokenAnswer(seen, url, mode, signedIn, ctx);
    case 'user':
      return userAnswer(seen, url, mode, signedIn);
    case 'revoke':
      return revokeAnswer(seen, url, mode, signedIn);
  }
}

/**
 * A valid sign-in deleting its own identity races the same principal's first token request and
 * can make an identity no 200 accounts for; the suite leaves that to tests/integration/callers.
 */
export function deletesOwnIdentity(r: HostileRequest, ctx: OracleContext): boolean {
  if (r.host !== 'easyauth' || !/user/i.test(r.target)) return false;
  try {
    const e = expectationFor(r, ctx);
    return (
      e.layer === 'app' &&
      e.route === 'user' &&
      e.outcomes.some((o) => o.status === 204) &&
      r.host === 'easyauth'
    );
  } catch {
    return false;
  }
}
