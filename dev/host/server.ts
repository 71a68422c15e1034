import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { HttpRequest, HttpResponse, InvocationContext, type Cookie } from '@azure/functions';
import { answerHomepage } from './homepage';
import {
  escapedPath,
  kestrelConnections,
  kestrelFraming,
  kestrelHeaderValue,
  kestrelRefusal,
  kestrelTarget,
  KESTREL_SERVER_OPTIONS,
  readBodyAtMinimumRate,
  reject,
} from './kestrel';
import { ordinalIgnoreCase } from '../../src/http/functionKey';
import { keyChecker, presentedKey, type HostKeys } from './keys';
import { toRecord, type LogSink } from './logger';
import type { Route } from './routes';

/** Something the platform does in front of the app (Easy Auth, static files, for instance). */
export interface PlatformLayer {
  /** Answers platform-owned paths itself (returns true), or lets the request through. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> | boolean;
  /** Adjusts the headers the app will see (Easy Auth may verify a bearer token first). */
  headersFor?(req: IncomingMessage, headers: Record<string, string>): void | Promise<void>;
}

export interface LocalHostOptions {
  routes: Route[];
  keys: HostKeys;
  log: LogSink;
  /**
   * Layers in front of the app, in order: the first one that answers a request ends it, and
   * each may adjust the headers the app sees. Easy Auth goes first, as on App Service.
   */
  platform?: PlatformLayer[];
  /** The host refuses bodies over this before the app sees them (Azure's own limit is 100 MB). */
  maxBodyBytes?: number;
  /** `AzureWebJobsDisableHomepage`: `/` answers 204 instead of the host's default page. */
  disableHomepage?: boolean;
}

class BodyTooLarge extends Error {}
class BodyTooSlow extends Error {}

/**
 * The body the host forwards (only with `Content-Length > 0`, see `forwardsBody`), read at
 * Kestrel's minimum data rate and within the size limit.
 */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) throw new BodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  const outcome = await readBodyAtMinimumRate(req, (chunk) => {
    size += chunk.length;
    chunks.push(chunk);
  });
  if (outcome === 'too-slow') throw new BodyTooSlow();
  if (size > limit) throw new BodyTooLarge();
  return Buffer.concat(chunks);
}

/** Header values as Kestrel decoded them (UTF-8; `kestrelRefusal` already refused the rest). */
function requestHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    const joined = Array.isArray(value) ? value.join(', ') : value;
    headers[name] = kestrelHeaderValue(joined) ?? joined;
  }
  kestrelFraming(headers);
  return headers;
}

/**
 * The real host copies a request body to the worker only when `Content-Length > 0`
 * (azure-functions-host src/WebJobs.Script.Grpc/MessageExtensions/GrpcMessageConversionExtensions.cs,
 * `ToRpcHttp`: `request.Body != null && request.ContentLength > 0`), so a chunked body never
 * reaches a Node app (azure-functions-nodejs-library#171). The body is still read (and its size
 * limit enforced), then dropped, as Kestrel drains what the app leaves unread.
 */
function forwardsBody(req: IncomingMessage): boolean {
  // With Transfer-Encoding, Kestrel drops Content-Length (`kestrelFraming`).
  if (req.headers['transfer-encoding'] !== undefined) return false;
  const declared = req.headers['content-length'];
  return declared !== undefined && Number(declared) > 0;
}

/**
 * Query parameters as the real host hands them over: one entry per key, repeated values joined
 * with a comma (`ToRpcHttp` adds `pair.Value.ToString()` of ASP.NET Core's `StringValues`), so
 * `?scopes=voip&scopes=chat` reaches the app as `scopes=voip,chat`. ASP.NET Core's query
 * collection compares names ignoring case and keeps the first spelling, so `?Scopes=a&scopes=b`
 * is `Scopes=a,b`. The URL keeps the raw query.
 */
function joinedQuery(params: URLSearchParams): Record<string, string> {
  const grouped = new Map<string, { name: string; values: string[] }>();
  for (const [name, value] of params) {
    const key = ordinalIgnoreCase(name);
    const group = grouped.get(key) ?? { name, values: [] };
    group.values.push(value);
    grouped.set(key, group);
  }
  const query: Record<string, string> = {};
  for (const { name, values } of grouped.values()) query[name] = values.join(',');
  return query;
}

/**
 * The names (never the values: they may hold a principal's name or a secret) of headers the
 * worker's `Request` refuses: a value outside Latin-1 ("Cannot convert argument to a ByteString")
 * or holding CR, LF or NUL (fetch's header value rules).
 */
function unbuildable(headers: Record<string, string>): string[] {
  return Object.entries(headers)
    .filter(([, value]) =>
      [...value].some((c) => {
        const code = c.codePointAt(0) ?? 0;
        return code > 0xff || code === 0 || c === '\r' || c === '\n';
      }),
    )
    .map(([name]) => name);
}

function serializeCookie(c: Cookie): string {
  const parts = [`${c.name}=${encodeURIComponent(c.value)}`];
  if (c.domain) parts.push(`Domain=${c.domain}`);
  if (c.path) parts.push(`Path=${c.path}`);
  if (c.expires !== undefined) parts.push(`Expires=${new Date(c.expires).toUTCString()}`);
  if (c.maxAge !== undefined) parts.push(`Max-Age=${c.maxAge}`);
  if (c.secure) parts.push('Secure');
  if (c.httpOnly) parts.push('HttpOnly');
  if (c.sameSite) parts.push(`SameSite=${c.sameSite}`);
  return parts.join('; ');
}

function bare(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'content-length': '0' }).end();
}

/**
 * A small stand-in for the Functions host: routes by the app's own registrations, enforces
 * function keys like Azure (401, empty body) and calls the app's handlers with the library's
 * own `HttpRequest` and `InvocationContext`.
 */
export function createLocalHost(options: LocalHostOptions): http.Server {
  const { routes, keys, log, platform = [], disableHomepage = false } = options;
  const maxBodyBytes = options.maxBodyBytes ?? 8 * 1024 * 1024;
  const keyAllows = keyChecker(keys);

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    // Kestrel first: what it refuses never reaches the host's middleware.
    const refused = kestrelRefusal(req);
    if (refused !== undefined) return reject(res, refused);
    const target = kestrelTarget(method, req.url ?? '/', req.headers.host);
    if (typeof target === 'number') return reject(res, target);
    let url: URL;
    try {
      url = new URL(`http://${req.headers.host ?? 'localhost'}`);
    } catch {
      return reject(res, 400);
    }
    // Userinfo (`Host: user:pass@host`) is not valid in an HTTP request, and the Request the app
    // gets cannot carry it: refuse it here instead of failing with a 500 further on.
    if (url.username || url.password || url.pathname !== '/') return reject(res, 400);
    // The URL the host hands the worker: its decoded, normalised path, escaped again, and the
    // query as sent (`ToRpcHttp`).
    url = new URL(`${url.origin}${escapedPath(target.path)}${target.query}`);
    for (const layer of platform) {
      if (await layer.handle(req, res, url)) return;
    }
    let params: Record<string, string> | undefined;
    const route = routes.find((r) => r.methods.has(method) && (params = r.match(target.path)));
    if (!route || !params) {
      if (target.path === '/') return answerHomepage(res, method, disableHomepage);
      return bare(res, 404);
    }
    if (!keyAllows(route.authLevel, presentedKey(req, url), route.registration.name)) {
      return bare(res, 401);
    }
    let body: Buffer | undefined;
    if (forwardsBody(req)) {
      try {
        body = await readBody(req, maxBodyBytes);
      } catch (err) {
        // Too slow: the host's read of the body fails and its ExceptionMiddleware answers 500.
        if (err instanceof BodyTooSlow) return reject(res, 500);
        // Over the limit: answered at once, the rest of the body drained as before.
        return bare(res, err instanceof BodyTooLarge ? 413 : 400);
      }
    }
    // A body the host does not forward is never read by it; Node drains it after the answer, as
    // Kestrel does.
    const headers = requestHeaders(req);
    for (const layer of platform) await layer.headersFor?.(req, headers);
    const functionName = route.registration.name;
    const invocationId = randomUUID();
    let request: HttpRequest;
    try {
      request = new HttpRequest({
        method,
        url: url.href,
        headers,
        query: joinedQuery(url.searchParams),
        params,
        body: body ? { bytes: body } : undefined,
      });
    } catch (err) {
      // The Node worker builds the same `Request` before the function runs; when that throws (a
      // header value outside Latin-1, or with CR, LF or NUL) the invocation fails before any
      // hook or handler (nodejs-worker src/eventHandlers/InvocationHandler.ts: `getArguments`
      // first) and Azure's host answers 500, as measured in issue #19. Say why in the log.
      log({
        level: 'error',
        functionName,
        invocationId,
        message: 'the worker could not build the request; the function did not run',
        fields: {
          errorName: (err as { name?: unknown } | null)?.name ?? typeof err,
          headers: unbuildable(headers),
        },
      });
      return bare(res, 500);
    }
    const context = new InvocationContext({
      functionName,
      invocationId,
      traceContext: headers.traceparent ? { traceParent: headers.traceparent } : undefined,
      logHandler: (level, ...args) => log({ ...toRecord(level, args), functionName, invocationId }),
    });
    let response: HttpResponse;
    try {
      const result = await route.registration.handler(request, context);
      response = result instanceof HttpResponse ? result : new HttpResponse(result ?? {});
    } catch (err) {
      // What Azure does with an exception that escapes a handler: a bare 500.
      log({
        level: 'error',
        functionName,
        invocationId,
        message: 'handler threw',
        fields: { errorName: err instanceof Error ? err.name : typeof err },
      });
      return bare(res, 500);
    }
    const out = Buffer.from(await response.arrayBuffer());
    const outHeaders: Record<string, string | string[]> = {};
    response.headers.forEach((value, name) => (outHeaders[name] = value));
    if (response.cookies.length > 0)
      outHeaders['set-cookie'] = response.cookies.map(serializeCookie);
    outHeaders['content-length'] = String(out.length);
    res.writeHead(response.status, outHeaders);
    res.end(method === 'HEAD' ? undefined : out);
  }

  const connections = kestrelConnections((req, res) => {
    serve(req, res).catch(() => {
      if (!res.headersSent) bare(res, 500);
      else res.destroy();
    });
  });
  const server = http.createServer(KESTREL_SERVER_OPTIONS, connections.onRequest);
  server.on('clientError', connections.onClientError);
  return server;
}
