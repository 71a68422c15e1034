import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { HttpRequest, HttpResponse, InvocationContext, type Cookie } from '@azure/functions';
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
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > limit) return reject(new BodyTooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        reject(new BodyTooLarge());
        req.resume();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function requestHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
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
  const { routes, keys, log, platform = [] } = options;
  const maxBodyBytes = options.maxBodyBytes ?? 8 * 1024 * 1024;
  const keyAllows = keyChecker(keys);

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    } catch {
      return bare(res, 400);
    }
    // Userinfo (`Host: user:pass@host`) is not valid in an HTTP request, and the Request the app
    // gets cannot carry it: refuse it here instead of failing with a 500 further on.
    if (url.username || url.password) return bare(res, 400);
    for (const layer of platform) {
      if (await layer.handle(req, res, url)) return;
    }
    const method = (req.method ?? 'GET').toUpperCase();
    let params: Record<string, string> | undefined;
    const route = routes.find((r) => r.methods.has(method) && (params = r.match(url.pathname)));
    if (!route || !params) return bare(res, 404);
    if (!keyAllows(route.authLevel, presentedKey(req, url), route.registration.name)) {
      return bare(res, 401);
    }
    let body: Buffer;
    try {
      body = await readBody(req, maxBodyBytes);
    } catch (err) {
      return bare(res, err instanceof BodyTooLarge ? 413 : 400);
    }
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
        body: forwardsBody(req) ? { bytes: body } : undefined,
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

  return http.createServer((req, res) => {
    serve(req, res).catch(() => {
      if (!res.headersSent) bare(res, 500);
      else res.destroy();
    });
  });
}
