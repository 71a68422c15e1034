import { type HostileRequest, type HostMode } from './arbitraries/request';
import {
  appAnswer,
  corsFor,
  methodNotAllowed,
  revokeAnswer,
  sessionCookie,
  tokenAnswer,
  userAnswer,
} from './hostileOracle/app';
import { demoFileAnswer } from './hostileOracle/files';
import { ROUTES } from './hostileOracle/host';
import { bodySizeOf, seenBy } from './hostileOracle/http';
import {
  type AppAnswer,
  type Expectation,
  HOST_BODY_LIMIT,
  isKeyParameter,
  type OracleContext,
  ordinalIgnoreCase,
  type Route,
  type Seen,
} from './hostileOracle/model';

/**
 * The hostile-input suite's model of the service: for any generated request, what the local host
 * must answer. It is written from the contract (docs/api.md and the README's security model) and the
 * platform's documented behaviour, not from the implementation, so the two can disagree.
 *
 * Answers come from four layers, each in its module under tests/support/hostileOracle/ (the
 * shared vocabulary in model.ts), and only the last one is the app:
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
