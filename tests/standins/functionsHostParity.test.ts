import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { HttpHandler } from '@azure/functions';
import { corsLayer, corsPolicyFrom } from '../../dev/host/cors';
import type { Registration } from '../../dev/host/functionsCore';
import { listenOnLoopback } from '../../dev/host/listen';
import { buildRoutes } from '../../dev/host/routes';
import { createLocalHost, type LocalHostOptions, type PlatformLayer } from '../../dev/host/server';
import { staticFiles } from '../../dev/host/staticFiles';

/**
 * The local host against the real Functions host (4.1037.0, Node worker 3.9.1), row by row of
 * issue #19 item 4: each request is sent as raw bytes (fetch and http.request cannot send most of
 * them) and the answer must be the one Azure's host gives. Sources: docs/platform-parity.md,
 * "Requests Kestrel and the host see before the app".
 */

const KEY = 'function-key-for-parity';

/** Reports what the host handed the app. */
const echo: HttpHandler = async (request) => {
  const body = Buffer.from(await request.arrayBuffer());
  return {
    jsonBody: {
      method: request.method,
      url: request.url,
      bodyBytes: body.length,
      contentLength: request.headers.get('content-length'),
      xContentLength: request.headers.get('x-content-length'),
      transferEncoding: request.headers.get('transfer-encoding'),
      name: request.headers.get('x-name'),
    },
  };
};

const ALL = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE'] as const;
const registrations: Registration[] = [
  {
    name: 'token',
    handler: echo,
    trigger: { type: 'httpTrigger', route: 'token', methods: [...ALL], authLevel: 'function' },
  },
  {
    name: 'health',
    handler: echo,
    trigger: { type: 'httpTrigger', route: 'health', methods: ['GET'], authLevel: 'anonymous' },
  },
];

const servers: http.Server[] = [];
let workspace: string;

beforeAll(() => {
  workspace = mkdtempSync(path.join(os.tmpdir(), 'acs-parity-'));
  writeFileSync(path.join(workspace, 'index.html'), '<!doctype html><title>demo</title>');
});

afterAll(async () => {
  await Promise.all(
    servers.map((s) => {
      s.closeAllConnections();
      return new Promise((resolve) => s.close(resolve));
    }),
  );
  rmSync(workspace, { recursive: true, force: true });
});

async function startHost(
  options: { platform?: PlatformLayer[] } & Partial<LocalHostOptions> = {},
): Promise<number> {
  const server = createLocalHost({
    routes: buildRoutes(registrations, 'api'),
    keys: { functionKey: KEY, masterKey: 'master-key-for-parity', sessionSecret: 's' },
    log: () => undefined,
    ...options,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return (server.address() as AddressInfo).port;
}

interface Exchange {
  /** Everything the host sent before it closed the connection or the wait ran out. */
  text: string;
  /** The status of each answer, in order. */
  statuses: number[];
  /** Whether the host closed the connection. */
  closed: boolean;
  elapsedMs: number;
}

/** Writes raw bytes on one connection and collects what comes back. */
function exchange(
  port: number,
  bytes: string | Buffer,
  options: { waitMs?: number; host?: string } = {},
): Promise<Exchange> {
  const waitMs = options.waitMs ?? 1_500;
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect(port, options.host ?? '127.0.0.1');
    let text = '';
    let closed = false;
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({
        text,
        statuses: [...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1])),
        closed,
        elapsedMs: Date.now() - started,
      });
    };
    const timer = setTimeout(done, waitMs);
    socket.on('connect', () =>
      socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes),
    );
    socket.on('data', (d: Buffer) => (text += d.toString('utf8')));
    socket.on('end', () => {
      closed = true;
      done();
    });
    socket.on('close', () => {
      closed = true;
      done();
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** The JSON body of the first answer. */
function firstJson(text: string): Record<string, unknown> {
  const start = text.indexOf('\r\n\r\n');
  const length = Number(/content-length: (\d+)/i.exec(text)?.[1] ?? 0);
  return JSON.parse(text.slice(start + 4, start + 4 + length)) as Record<string, unknown>;
}

const withKey = `x-functions-key: ${KEY}\r\n`;
const get = (target: string, extra = '') =>
  `GET ${target} HTTP/1.1\r\nHost: localhost\r\n${extra}Connection: close\r\n\r\n`;

describe('paths: decoded and normalised as Kestrel does (UrlDecoder, PathNormalizer)', () => {
  it.each(['/api/%74oken', '/api/../api/token', '/api/%2e%2e/api/./token', '/API/Token'])(
    '%s reaches the function as /api/token',
    async (target) => {
      // With the demo's file layer in front, as `npm start` runs it once the demo is built.
      const port = await startHost({
        platform: [staticFiles({ root: workspace, appPrefix: 'api' })],
      });
      const answer = await exchange(port, get(target, withKey));
      expect(answer.statuses).toEqual([200]);
      expect(firstJson(answer.text).url).toMatch(/^http:\/\/localhost\/api\/token$/i);
    },
  );

  it('keeps empty segments: //api/token is no route (404)', async () => {
    const port = await startHost({
      platform: [staticFiles({ root: workspace, appPrefix: 'api' })],
    });
    const answer = await exchange(port, get('//api/token', withKey));
    expect(answer.statuses).toEqual([404]);
  });

  it('refuses %00 in the path with 400', async () => {
    const port = await startHost();
    expect((await exchange(port, get('/api/tok%00en', withKey))).statuses).toEqual([400]);
  });
});

describe('request line limit: KestrelServerLimits.MaxRequestLineSize (8 KB) → 414', () => {
  /** A GET whose request line, CRLF included, is exactly `size` bytes. */
  const lineOf = (size: number) => {
    const fixed = 'GET /api/token?x= HTTP/1.1\r\n'.length;
    return `GET /api/token?x=${'a'.repeat(size - fixed)} HTTP/1.1\r\n`;
  };

  it('answers a 10 KB URL with 414 and an empty body, before the app', async () => {
    const port = await startHost();
    const answer = await exchange(
      port,
      `${lineOf(10 * 1024)}Host: localhost\r\n${withKey}Connection: close\r\n\r\n`,
    );
    expect(answer.statuses).toEqual([414]);
    expect(answer.text).toMatch(/content-length: 0\r\n/i);
    expect(answer.text.endsWith('\r\n\r\n')).toBe(true);
  });

  it('passes a request line of exactly 8,192 bytes and refuses 8,193', async () => {
    const port = await startHost();
    const send = (size: number) =>
      exchange(port, `${lineOf(size)}Host: localhost\r\n${withKey}Connection: close\r\n\r\n`);
    expect((await send(8192)).statuses).toEqual([200]);
    expect((await send(8193)).statuses).toEqual([414]);
  });
});

describe('OPTIONS without CORS origins (JobHostCorsMiddleware not running)', () => {
  const preflight = `OPTIONS /api/token HTTP/1.1\r\nHost: localhost\r\nOrigin: https://app.example.test\r\nAccess-Control-Request-Method: POST\r\nConnection: close\r\n\r\n`;

  it('reaches the route, so the missing key gets 401', async () => {
    const port = await startHost({ platform: [corsLayer(corsPolicyFrom({}, false))] });
    expect((await exchange(port, preflight)).statuses).toEqual([401]);
  });

  it('is still ended with 204 where the host runs the CORS middleware anyway (Flex)', async () => {
    const policy = corsPolicyFrom({ WEBSITE_SKU: 'FlexConsumption' }, false);
    const port = await startHost({ platform: [corsLayer(policy)] });
    expect((await exchange(port, preflight)).statuses).toEqual([204]);
  });
});

describe('request bodies (Http1MessageBody.For, ToRpcHttp)', () => {
  it('treats a POST with neither Content-Length nor Transfer-Encoding as bodiless and ignores the stray bytes', async () => {
    const port = await startHost();
    const answer = await exchange(
      port,
      `POST /api/token HTTP/1.1\r\nHost: localhost\r\n${withKey}Content-Type: application/json\r\n\r\n{"scopes":["chat"]}`,
    );
    expect(answer.statuses).toEqual([200]);
    expect(firstJson(answer.text)).toMatchObject({ bodyBytes: 0, contentLength: null });
  });

  it('answers 500 once a short body falls below 240 bytes/s after the 5 s grace period', async () => {
    const port = await startHost();
    const answer = await exchange(
      port,
      `POST /api/token HTTP/1.1\r\nHost: localhost\r\n${withKey}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"scopes":`,
      { waitMs: 9_000 },
    );
    expect(answer.statuses).toEqual([500]);
    expect(answer.closed).toBe(true);
    // Never before the grace period is over; the check runs on a 1 s heartbeat after it.
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(5_000);
  }, 15_000);

  it('passes Transfer-Encoding with Content-Length to the app, without the body or Content-Length', async () => {
    const port = await startHost();
    const answer = await exchange(
      port,
      `POST /api/token HTTP/1.1\r\nHost: localhost\r\n${withKey}Transfer-Encoding: chunked\r\nContent-Length: 5\r\nConnection: close\r\n\r\n3\r\n{}x\r\n0\r\n\r\n`,
    );
    expect(answer.statuses).toEqual([200]);
    expect(firstJson(answer.text)).toMatchObject({
      bodyBytes: 0,
      transferEncoding: 'chunked',
      contentLength: null,
      xContentLength: '5',
    });
  });

  it('refuses a final transfer coding other than chunked, and an HTTP/1.0 POST without a length', async () => {
    const port = await startHost();
    const gzip = await exchange(
      port,
      `POST /api/token HTTP/1.1\r\nHost: localhost\r\n${withKey}Transfer-Encoding: gzip\r\n\r\n`,
    );
    const http10 = await exchange(
      port,
      `POST /api/token HTTP/1.0\r\nHost: localhost\r\n${withKey}\r\n`,
    );
    expect([gzip.statuses, http10.statuses]).toEqual([[400], [400]]);
  });
});

describe('header values: Kestrel decodes UTF-8, the Node worker cannot build the request', () => {
  const utf8Name = Buffer.from('X-Name: アリス\r\n', 'utf8');
  const request = (target: string, header: Buffer, extra = '') =>
    Buffer.concat([
      Buffer.from(`GET ${target} HTTP/1.1\r\nHost: localhost\r\n${extra}`, 'latin1'),
      header,
      Buffer.from('Connection: close\r\n\r\n', 'latin1'),
    ]);

  it.each([
    ['/api/health', ''],
    ['/api/token', withKey],
  ])('answers 500 for a value outside Latin-1 on %s', async (target, extra) => {
    const port = await startHost();
    expect((await exchange(port, request(target, utf8Name, extra))).statuses).toEqual([500]);
  });

  it('hands the app a UTF-8 value inside Latin-1 as its character, not as its bytes', async () => {
    const port = await startHost();
    const answer = await exchange(
      port,
      request('/api/health', Buffer.from('X-Name: é\r\n', 'utf8')),
    );
    expect(answer.statuses).toEqual([200]);
    expect(firstJson(answer.text).name).toBe('é');
  });

  it('refuses bytes that are not UTF-8 with 400', async () => {
    const port = await startHost();
    const latin1 = Buffer.from('X-Name: \xe9t\xe9\r\n', 'latin1');
    expect((await exchange(port, request('/api/health', latin1))).statuses).toEqual([400]);
  });

  it('still answers 401 and 404 before the worker is involved', async () => {
    const port = await startHost();
    const [noKey, noRoute] = await Promise.all([
      exchange(port, request('/api/token', utf8Name)),
      exchange(port, request('/api/nothing', utf8Name)),
    ]);
    expect([noKey.statuses, noRoute.statuses]).toEqual([[401], [404]]);
  });
});

describe('methods and request lines (HttpParser)', () => {
  it('routes an unknown method such as FOO and finds no function: 404', async () => {
    const port = await startHost();
    const answer = await exchange(
      port,
      `FOO /api/token HTTP/1.1\r\nHost: localhost\r\n${withKey}\r\n`,
    );
    expect(answer.statuses).toEqual([404]);
  });

  it('matches a method case-insensitively (HttpMethodRouteConstraint) and reads its body', async () => {
    // `patch` is no method llhttp knows; Kestrel takes it as a custom method.
    const port = await startHost();
    const answer = await exchange(
      port,
      `patch /api/token HTTP/1.1\r\nHost: localhost\r\n${withKey}Constructor: x\r\n__proto__: y\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`,
    );
    expect(answer.statuses).toEqual([200]);
    expect(firstJson(answer.text)).toMatchObject({ method: 'PATCH', bodyBytes: 2 });
  });

  it('refuses a header name that is no token, and an absolute-form target for another host', async () => {
    const port = await startHost();
    const [name, absolute] = await Promise.all([
      exchange(port, `GET /api/health HTTP/1.1\r\nHost: localhost\r\nBad@Name: x\r\n\r\n`),
      exchange(port, `GET http://example.test/api/health HTTP/1.1\r\nHost: localhost\r\n\r\n`),
    ]);
    expect([name.statuses, absolute.statuses]).toEqual([[400], [400]]);
  });

  it('reads the head of an unknown method that arrives in two packets', async () => {
    const port = await startHost();
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      let text = '';
      socket.on('connect', () => {
        socket.write(`XGET /api/token HTTP/1.1\r\nHost: localhost\r\nX-Pad: ${'a'.repeat(20_000)}`);
        setTimeout(() => socket.write('\r\nConnection: close\r\n\r\n'), 100);
      });
      socket.on('data', (d: Buffer) => (text += d.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 404 /);
  });

  it('refuses a request line without a version (HTTP/0.9) with 400', async () => {
    const port = await startHost();
    expect((await exchange(port, 'GET /api/health\r\n\r\n')).statuses).toEqual([400]);
  });

  it('refuses a version other than 1.0 and 1.1 with 505', async () => {
    const port = await startHost();
    expect(
      (await exchange(port, 'GET /api/health HTTP/1.2\r\nHost: localhost\r\n\r\n')).statuses,
    ).toEqual([505]);
  });

  it('accepts bare LF line ends', async () => {
    const port = await startHost();
    const answer = await exchange(
      port,
      `GET /api/health HTTP/1.1\nHost: localhost\nConnection: close\n\n`,
    );
    expect(answer.statuses).toEqual([200]);
  });

  it('keeps the connection usable after a request that llhttp and Kestrel both accept', async () => {
    const port = await startHost();
    const answer = await exchange(
      port,
      `GET /api/health HTTP/1.1\r\nHost: localhost\r\n\r\nGET /api/health HTTP/1.1\nHost: localhost\nConnection: close\n\n`,
    );
    expect(answer.statuses).toEqual([200, 200]);
  });

  it('answers the same on the ::1 twin that listenOnLoopback starts', async () => {
    const server = createLocalHost({
      routes: buildRoutes(registrations, 'api'),
      keys: { functionKey: KEY, masterKey: 'm', sessionSecret: 's' },
      log: () => undefined,
    });
    const listening = await listenOnLoopback(server, 0);
    servers.push(...listening);
    const port = (listening[0]?.address() as AddressInfo).port;
    const hosts = listening.map((s) => (s.address() as AddressInfo).address);
    const answers = await Promise.all(
      hosts.map((host) =>
        exchange(port, `FOO /api/token HTTP/1.1\r\nHost: localhost\r\n\r\nGET /x\r\n`, { host }),
      ),
    );
    expect(answers.map((a) => a.statuses)).toEqual(hosts.map(() => [404]));
  });
});

describe('the host default page at / (HomepageMiddleware)', () => {
  it.each(['GET', 'POST', 'DELETE', 'FOO'])('%s / answers with the page', async (method) => {
    const port = await startHost();
    const answer = await exchange(
      port,
      `${method} / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
    );
    expect(answer.statuses).toEqual([200]);
    expect(answer.text).toMatch(/content-type: text\/html/i);
    expect(answer.text).toContain('Your Azure Function App is up and running');
  });

  it('answers 204 when AzureWebJobsDisableHomepage is true', async () => {
    const port = await startHost({ disableHomepage: true });
    expect((await exchange(port, get('/'))).statuses).toEqual([204]);
  });

  it('keeps the demo for GET and HEAD (a documented difference) and gives other methods the page', async () => {
    const port = await startHost({
      platform: [staticFiles({ root: workspace, appPrefix: 'api' })],
    });
    const demo = await exchange(port, get('/'));
    const post = await exchange(
      port,
      `POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
    );
    expect(demo.text).toContain('<title>demo</title>');
    expect(post.statuses).toEqual([200]);
    expect(post.text).toContain('Your Azure Function App is up and running');
  });
});
