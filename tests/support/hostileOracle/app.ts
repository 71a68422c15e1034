import { ACS_SCOPE_NAMES, SESSION_COOKIE, type HostMode } from '../arbitraries/request';
import {
  ACS_ID,
  APP_BODY_LIMIT,
  type AppAnswer,
  fail,
  type Failure,
  type Grant,
  isKeyParameter,
  MAX_EXPIRY,
  MIN_EXPIRY,
  type OracleContext,
  type OutcomeSpec,
  type Policy,
  type Result,
  type Route,
  type Seen,
  TOKEN_FIELDS,
} from './model';

/** The `app` layer: what the service itself answers (problem+json, CORS, the routes' contracts). Part of tests/support/hostileOracle.ts. */

/**
 * The host's CORS layer (dev/host/cors.ts, as azure-functions-host's JobHostCorsMiddleware with
 * ASP.NET Core's CorsService): nothing without `Origin`; a preflight (`OPTIONS` with
 * `Access-Control-Request-Method`) ends there with 204, an allowed origin learning the method
 * and headers it asked for; any other answer to an allowed origin carries the grant. Listed
 * origins come with credentials (the easyauth host's default), `*` without; `Vary: Origin` when
 * more than one origin is listed.
 */
export function corsFor(
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

export function routeAnswer(
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
