import { statSync } from 'node:fs';
import path from 'node:path';
import {
  ACS_SCOPE_NAMES,
  bodyText,
  contentLengthLine,
  SESSION_COOKIE,
  type HostileRequest,
  type HostMode,
} from './arbitraries';

/**
 * The hostile-input suite's model of the service: for any generated request, what the local host
 * must answer. It is written from the contract (docs/api.md and the README's security model) and the
 * platform's documented behaviour, not from the implementation, so the two can disagree.
 *
 * Answers come from four layers, and only the last one is the app:
 * - `http`: Node's HTTP parser refuses what is not HTTP/1.1 (an unknown method token, a broken
 *   Content-Length, a missing Host, a header block over 16 KiB) with a bare 400 or 431 and
 *   closes the connection, as any front end would;
 * - `host`: the Functions host answers a Host/URL it cannot parse (400), an unknown route or
 *   method (404), a missing or wrong function key (401) and a body over its 8 MiB limit (413),
 *   all with an empty body, as Azure does;
 * - `files`: the local host serves the browser demo's files at `/` in front of the routes
 *   (docs/local-development.md: Browser demo): a file for GET and HEAD, a bare 405 with `Allow` for other methods,
 *   a bare 400 for a path that climbs out of the folder or holds a NUL; everything else falls
 *   through to the routes;
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
  | { layer: 'http' | 'host' | 'cors'; status: number; why: string }
  | { layer: 'files'; status: 400; why: string }
  | { layer: 'files'; status: 405; allow: string; why: string }
  /** `file` is the absolute path of the file whose bytes the answer carries (none for HEAD). */
  | { layer: 'files'; status: 200; file: string; contentType: string; why: string }
  | AppAnswer
) & { cors?: Record<string, string> };

const APP_BODY_LIMIT = 16 * 1024;
const HOST_BODY_LIMIT = 8 * 1024 * 1024;
const NODE_HEADER_LIMIT = 16 * 1024;
const MIN_EXPIRY = 60;
const MAX_EXPIRY = 1440;
const TOKEN_FIELDS = ['scopes', 'expiresInMinutes', 'communicationUserId'];
const ACS_ID = /^8:[a-z0-9-]+:[A-Za-z0-9_.-]+$/;

/** Method tokens Node's parser (llhttp) knows; anything else is refused before the host runs. */
const PARSER_METHODS = new Set(
  'GET HEAD POST PUT DELETE OPTIONS PATCH TRACE PROPFIND MKCOL PURGE LOCK UNLOCK COPY MOVE REPORT SEARCH'.split(
    ' ',
  ),
);
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
  /** Set when Node's parser refuses the request. */
  refused?: { status: number; why: string };
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
 * The demo-file layer. It reads the path as sent (an absolute-form target's path after its
 * authority), before any `..` is resolved, so a request that climbs out of the folder is refused
 * instead of quietly served something else; `\` separates segments as `/` does. A path that is not
 * a file there (a hidden name, a folder, a missing file, broken %-encoding) is the routes' to
 * answer: `undefined`.
 */
function demoFileAnswer(seen: Seen, root: string): Expectation | undefined {
  const authority = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(seen.target)?.[0];
  const rawPath = (authority ? seen.target.slice(authority.length) : seen.target).split(
    /[?#]/,
    1,
  )[0]!;
  let decoded: string;
  try {
    decoded = decodeURIComponent(authority && rawPath === '' ? '/' : rawPath);
  } catch {
    return undefined;
  }
  const refuse = (why: string): Expectation => ({ layer: 'files', status: 400, why });
  if (!decoded.startsWith('/')) return refuse('not a path');
  if (decoded.includes('\0')) return refuse('NUL in the path');
  const segments = decoded.slice(1).split(/[\\/]/);
  if (segments.includes('..')) return refuse('`..` in the path');
  if (segments.some((s) => s.startsWith('.'))) return undefined;
  // `//x` names the absolute file-system path `/x`, which is outside the folder.
  const file = path.resolve(root, segments.join('/') || 'index.html');
  if (!file.startsWith(root + path.sep)) return refuse('a path outside the folder');
  if (!isFile(file)) return undefined;
  const method = seen.method.toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') {
    return { layer: 'files', status: 405, allow: 'GET, HEAD', why: `${method} on a demo file` };
  }
  const contentType = DEMO_CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
  return { layer: 'files', status: 200, file, contentType, why: 'a demo file' };
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
  if (origin === undefined) return { preflight: false, headers: {} };
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
  if (seen.refused) return { layer: 'http', ...seen.refused };
  let url: URL;
  try {
    url = new URL(seen.target, `http://${seen.host ?? 'localhost'}`);
  } catch {
    return { layer: 'host', status: 400, why: 'Host and target do not make a URL' };
  }
  // RFC 9110 §4.2.4: userinfo in an http URL is invalid.
  if (url.username !== '' || url.password !== '') {
    return { layer: 'host', status: 400, why: 'URL with userinfo' };
  }
  const cors = corsFor(seen, ctx.cors[r.host]);
  if (cors.preflight) {
    return {
      layer: 'cors',
      status: 204,
      cors: cors.headers,
      why: 'a preflight, ended by the host',
    };
  }
  return { ...beyondCors(r, seen, url, ctx), cors: cors.headers };
}

/** Everything behind the host's CORS layer. */
function beyondCors(r: HostileRequest, seen: Seen, url: URL, ctx: OracleContext): Expectation {
  if (r.host === 'easyauth' && url.pathname.toLowerCase().startsWith('/.auth/')) {
    throw new Error(`the model does not cover the Easy Auth stand-in's own paths: ${url.pathname}`);
  }
  const demoFile = demoFileAnswer(seen, ctx.demoRoot);
  if (demoFile) return demoFile;
  const method = seen.method.toUpperCase();
  const route = ROUTES.find((x) => x.methods.includes(method) && x.path.test(url.pathname));
  if (!route) return { layer: 'host', status: 404, why: `no route for ${method} ${url.pathname}` };
  if (r.host === 'key' && route.needsKey) {
    // Azure's host: the first header value, else the first `code` under any spelling; once the
    // exact key was accepted for a function (the suite does that first for each), any case
    // variant of it (docs/platform-parity.md, "Function keys").
    const presented =
      seen.keyHeader ?? [...url.searchParams].find(([name]) => isKeyParameter(name))?.[1];
    if (!presented || ordinalIgnoreCase(presented) !== ordinalIgnoreCase(ctx.functionKey))
      return { layer: 'host', status: 401, why: 'missing or wrong function key' };
  }
  const declared = Number(seen.headers.get('content-length') ?? '0');
  if (declared > HOST_BODY_LIMIT || bodySizeOf(r) > HOST_BODY_LIMIT) {
    return { layer: 'host', status: 413, why: 'body over the host limit' };
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
