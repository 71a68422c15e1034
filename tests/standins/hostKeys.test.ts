import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpHandler } from '@azure/functions';
import type { Registration } from '../../dev/host/functionsCore';
import { buildRoutes } from '../../dev/host/routes';
import { createLocalHost } from '../../dev/host/server';

/**
 * The local host's function-key checks against Azure's host (docs/platform-parity.md, "Function
 * keys"), through real HTTP: which value it authenticates and how it compares it.
 */
const KEY = 'Fn-Key_0123456789abcdefABCDEF==';
const MASTER = 'Master-Key_0123456789abcdef==';

const ok: HttpHandler = () => Promise.resolve({ status: 200 });

function fn(name: string): Registration {
  return {
    name,
    handler: ok,
    trigger: { type: 'httpTrigger', methods: ['GET'], authLevel: 'function', route: name },
  };
}

let server: http.Server;
let base: string;

beforeAll(async () => {
  server = createLocalHost({
    routes: buildRoutes([fn('alpha'), fn('beta'), fn('gamma')], 'api'),
    keys: { functionKey: KEY, masterKey: MASTER, sessionSecret: 's' },
    log: () => undefined,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

/** Sends raw header lines, so a header can be repeated exactly as a client may. */
function get(path: string, headers: [string, string][] = []): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method: 'GET' });
    for (const [name, value] of headers) req.appendHeader(name, value);
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

const q = encodeURIComponent;

describe('which key the local host authenticates (AuthenticationLevelHandler)', () => {
  it('takes the first value of a repeated code', async () => {
    expect(await get(`/api/alpha?code=${q(KEY)}&code=x1`)).toBe(200);
    expect(await get(`/api/alpha?code=x1&code=${q(KEY)}`)).toBe(401);
  });

  it('reads the code query name case-insensitively, first value across spellings', async () => {
    expect(await get(`/api/alpha?CODE=${q(KEY)}`)).toBe(200);
    expect(await get(`/api/alpha?Code=${q(KEY)}`)).toBe(200);
    expect(await get(`/api/alpha?CoDe=x1&code=${q(KEY)}`)).toBe(401);
  });

  it('takes the first of two x-functions-key headers', async () => {
    expect(
      await get('/api/alpha', [
        ['x-functions-key', KEY],
        ['x-functions-key', 'x1'],
      ]),
    ).toBe(200);
    expect(
      await get('/api/alpha', [
        ['x-functions-key', 'x1'],
        ['x-functions-key', KEY],
      ]),
    ).toBe(401);
  });

  it('reads the header before the query, even an empty header', async () => {
    expect(await get(`/api/alpha?code=x1`, [['x-functions-key', KEY]])).toBe(200);
    expect(await get(`/api/alpha?code=${q(KEY)}`, [['x-functions-key', 'x1']])).toBe(401);
    expect(await get(`/api/alpha?code=${q(KEY)}`, [['x-functions-key', '']])).toBe(401);
  });
});

describe('how the local host compares keys (SecretManager._authorizationCache)', () => {
  it('refuses a case variant until the exact key was accepted, then accepts it, per function', async () => {
    const upper = KEY.toUpperCase();
    expect(await get(`/api/beta?code=${q(upper)}`)).toBe(401);
    expect(await get(`/api/beta?code=${q(KEY)}`)).toBe(200);
    expect(await get(`/api/beta?code=${q(upper)}`)).toBe(200);
    expect(await get('/api/beta', [['x-functions-key', KEY.toLowerCase()]])).toBe(200);
    // The cache is keyed by key and function: gamma has not seen the exact key yet.
    expect(await get(`/api/gamma?code=${q(upper)}`)).toBe(401);
  });

  it('never accepts a key that differs by more than case', async () => {
    expect(await get(`/api/beta?code=${q(KEY)}`)).toBe(200);
    expect(await get(`/api/beta?code=${q(`${KEY}x`)}`)).toBe(401);
    expect(await get(`/api/beta?code=${q(KEY.slice(1))}`)).toBe(401);
  });
});
