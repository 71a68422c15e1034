import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { HttpHandler } from '@azure/functions';
import type { Registration } from '../../dev/host/functionsCore';
import { buildRoutes } from '../../dev/host/routes';
import { createLocalHost, type PlatformLayer } from '../../dev/host/server';
import { DEMO_CONTENT_SECURITY_POLICY, staticFiles } from '../../dev/host/staticFiles';

interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Sends the path exactly as written: fetch() would resolve `..` before it leaves the process. */
function raw(port: number, method: string, requestPath: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: requestPath }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const pingHandler: HttpHandler = () => Promise.resolve({ status: 200, body: 'pong' });
const ping: Registration = {
  name: 'ping',
  handler: pingHandler,
  trigger: { type: 'httpTrigger', methods: ['GET'], authLevel: 'anonymous', route: 'ping' },
};

let workspace: string;
let root: string;
let server: http.Server;
let port: number;
const seen: string[] = [];

beforeAll(async () => {
  workspace = mkdtempSync(path.join(os.tmpdir(), 'acs-static-'));
  root = path.join(workspace, 'site');
  mkdirSync(path.join(root, 'assets'), { recursive: true });
  writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>demo</title>');
  writeFileSync(path.join(root, 'main.js'), 'export {};');
  writeFileSync(path.join(root, 'assets', 'style.css'), 'body{}');
  writeFileSync(path.join(root, 'data.bin'), 'x');
  writeFileSync(path.join(root, '.env'), 'SECRET=1');
  // Under the route prefix, a file never shadows the app (nor costs a file lookup per request).
  mkdirSync(path.join(root, 'api'));
  writeFileSync(path.join(root, 'api', 'ping'), 'a file, not the app');
  writeFileSync(path.join(workspace, 'outside.txt'), 'outside');
  symlinkSync(path.join(workspace, 'outside.txt'), path.join(root, 'escape.txt'));
  // A second layer records what reaches it, to prove which requests the files layer let through.
  const recorder: PlatformLayer = {
    handle: (req) => {
      seen.push(req.url ?? '');
      return false;
    },
  };
  server = createLocalHost({
    routes: buildRoutes([ping], 'api'),
    keys: { functionKey: 'f', masterKey: 'm', sessionSecret: 's' },
    log: () => undefined,
    platform: [staticFiles({ root, appPrefix: 'api' }), recorder],
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(workspace, { recursive: true, force: true });
});

beforeEach(() => {
  seen.length = 0;
});

describe('staticFiles', () => {
  it('serves index.html for / with no-store, nosniff and a strict CSP', async () => {
    const answer = await raw(port, 'GET', '/');
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('<!doctype html><title>demo</title>');
    expect(answer.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'content-length': '34',
      'cache-control': 'no-store',
      'content-security-policy': DEMO_CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
    });
    expect(DEMO_CONTENT_SECURITY_POLICY).toMatch(/^default-src 'self'; /);
  });

  it('picks the content type from the extension', async () => {
    const types = await Promise.all(
      ['/main.js', '/assets/style.css', '/data.bin'].map(async (p) => {
        const answer = await raw(port, 'GET', p);
        return [answer.status, answer.headers['content-type']];
      }),
    );
    expect(types).toEqual([
      [200, 'text/javascript; charset=utf-8'],
      [200, 'text/css; charset=utf-8'],
      [200, 'application/octet-stream'],
    ]);
  });

  it('answers HEAD with the headers and no body', async () => {
    const answer = await raw(port, 'HEAD', '/main.js');
    expect([answer.status, answer.headers['content-length'], answer.body]).toEqual([200, '10', '']);
  });

  it('lets other methods go on to the host, which has no route for a file (404)', async () => {
    const answer = await raw(port, 'POST', '/index.html');
    expect([answer.status, answer.body]).toEqual([404, '']);
    expect(seen).toEqual(['/index.html']);
  });

  // Kestrel resolves dot segments before anything sees the path (dev/host/kestrel.ts), and never
  // above `/`: these name a file of the folder itself, which does not exist.
  it.each(['/../outside.txt', '/assets/../../outside.txt', '/%2e%2e/outside.txt'])(
    'resolves %s inside the folder, as Kestrel does',
    async (requestPath) => {
      const answer = await raw(port, 'GET', requestPath);
      expect(answer.status).toBe(404);
      expect(answer.body).not.toContain('outside');
    },
  );

  it.each([
    '/..%2foutside.txt',
    '/assets%2f..%2f..%2foutside.txt',
    '/..%5coutside.txt',
    '/main.js%00.html',
  ])('refuses %s with 400 before it reaches anything else', async (requestPath) => {
    const answer = await raw(port, 'GET', requestPath);
    expect([answer.status, answer.body]).toEqual([400, '']);
    expect(seen).toEqual([]);
  });

  it('reads the path of an absolute-form target', async () => {
    const answers = await Promise.all(
      [
        `http://127.0.0.1:${port}/main.js`,
        `http://127.0.0.1:${port}/api/ping?x=1`,
        `http://127.0.0.1:${port}`,
        `http://127.0.0.1:${port}/../outside.txt`,
        // Kestrel: the Host header must be the target's authority (ValidateNonOriginHostHeader).
        'http://example.test:8080/api/ping?x=1',
      ].map((p) => raw(port, 'GET', p)),
    );
    expect(answers.map((a) => [a.status, a.body])).toEqual([
      [200, 'export {};'],
      [200, 'pong'],
      [200, '<!doctype html><title>demo</title>'],
      [404, ''],
      [400, ''],
    ]);
  });

  it('does not follow a symbolic link out of the folder', async () => {
    const answer = await raw(port, 'GET', '/escape.txt');
    expect(answer.status).toBe(404);
    expect(answer.body).not.toContain('outside');
    expect(seen).toEqual(['/escape.txt']);
  });

  it('lets hidden names, folders, unknown paths and app routes through', async () => {
    const answers = await Promise.all(
      ['/.env', '/assets', '/missing.js', '/api/ping'].map((p) => raw(port, 'GET', p)),
    );
    expect(answers.map((a) => a.status)).toEqual([404, 404, 404, 200]);
    expect(answers[3]?.body).toBe('pong');
    expect([...seen].sort()).toEqual(['/.env', '/api/ping', '/assets', '/missing.js']);
  });
});
