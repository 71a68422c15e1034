import type { HostileRequest } from './arbitraries/request';
import { corsFor, routeAnswer } from './hostileOracle/app';
import { demoFileAnswer } from './hostileOracle/files';
import { ROUTES } from './hostileOracle/host';
import { bodySizeOf, kestrelTargetOf, seenBy } from './hostileOracle/http';
import {
  type Expectation,
  HOST_BODY_LIMIT,
  isKeyParameter,
  type OracleContext,
  ordinalIgnoreCase,
  type Seen,
} from './hostileOracle/model';
import { workerRefusal } from './hostileOracle/worker';

export type {
  Expectation,
  Grant,
  OracleContext,
  OutcomeSpec,
  Policy,
  Route,
} from './hostileOracle/model';

/**
 * The hostile-input suite's model of the service: for any generated request, what the local host
 * must answer. It is written from the contract (docs/api.md and the README's security model) and the
 * platform's documented behaviour, not from the implementation, so the two can disagree.
 *
 * Answers come from five layers, each in its module under tests/support/hostileOracle/ (the
 * shared vocabulary in model.ts; the entry here composes them), and only the last one is the app:
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
  const worker = workerRefusal(seen);
  if (worker) return worker;
  return routeAnswer(route.route, seen, url, r.host, ctx);
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
