import { startEmulator, type RunningEmulator } from '../../dev/emulator';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { call } from '../support/http';
import { startLocalHost, type LocalHostProcess } from '../support/localHost';
import { eventually } from '../support/poll';
import { devLogin } from '../support/easyAuthSession';

const APP_ORIGIN = 'https://app.example.com';
let emulator: RunningEmulator;
let azurite: TestAzurite;
let keyHost: LocalHostProcess;
let authHost: LocalHostProcess;

beforeAll(async () => {
  [emulator, azurite] = await Promise.all([startEmulator({ port: 0 }), startTestAzurite()]);
  [keyHost, authHost] = await Promise.all([
    startLocalHost({
      ACS_CONNECTION_STRING: emulator.connectionString,
      CORS_ALLOWED_ORIGINS: APP_ORIGIN,
      RATE_LIMIT_KEY_PER_MINUTE: '1',
      RATE_LIMIT_KEY_BURST: '3',
      FUNCTIONS_DEV_KEY: 'rate-limited-key-0001',
    }),
    startLocalHost({
      ACS_CONNECTION_STRING: emulator.connectionString,
      AUTH_MODE: 'easyauth',
      IDENTITY_MAP_CONNECTION: azurite.connectionString,
      CORS_ALLOWED_ORIGINS: APP_ORIGIN,
      RATE_LIMIT_PER_MINUTE: '1',
      RATE_LIMIT_BURST: '2',
    }),
  ]);
});

afterAll(async () => {
  await Promise.all([keyHost?.stop(), authHost?.stop()]);
  await Promise.all([emulator?.close(), azurite?.dispose()]);
});

beforeEach(() => emulator.reset());

const login = (host: LocalHostProcess, user: string) => devLogin(host.url, user);

describe('CORS (answered by the host, as in Azure)', () => {
  it('lets a listed origin read answers, with credentials, and no one else', async () => {
    const cookie = await login(authHost, `cors-${Date.now()}`);
    const listed = await call(`${authHost.url}/api/user`, {
      headers: { cookie, origin: APP_ORIGIN },
    });
    expect(listed.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(listed.headers.get('access-control-allow-credentials')).toBe('true');
    // One origin listed: ASP.NET Core's CorsService adds no Vary (VaryByOrigin needs two).
    expect(listed.headers.get('vary')).toBeNull();
    const other = await call(`${authHost.url}/api/user`, {
      headers: { cookie, origin: 'https://evil.example' },
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers a preflight without a key, and only for a listed origin', async () => {
    const preflight = (origin: string) =>
      call(`${keyHost.url}/api/token`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
    const listed = await preflight(APP_ORIGIN);
    expect(listed.status).toBe(204);
    expect(listed.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    // The platform's policy allows any method and header: it echoes what was asked for.
    expect(listed.headers.get('access-control-allow-methods')).toBe('POST');
    expect(listed.headers.get('access-control-allow-headers')).toBe('content-type');
    // Key mode: no Easy Auth cookie, so no credentials unless CORS_SUPPORT_CREDENTIALS says so.
    expect(listed.headers.get('access-control-allow-credentials')).toBeNull();
    const other = await preflight('https://evil.example');
    expect(other.status).toBe(204);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(emulator.counts().createUserAndToken).toBe(0);
  });

  it('sends no-store and nosniff on every answer, errors included', async () => {
    for (const answer of [
      await call(`${keyHost.url}/api/health`),
      await call(`${keyHost.url}/api/token`, {
        method: 'PUT',
        headers: { 'x-functions-key': keyHost.key },
      }),
    ]) {
      expect(answer.headers.get('cache-control')).toBe('no-store');
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });
});

describe('rate limits', () => {
  it('refuses a key over its limit with 429 and Retry-After before calling ACS', async () => {
    const statuses: number[] = [];
    let limited;
    for (let i = 0; i < 5; i++) {
      const answer = await call(`${keyHost.url}/api/token`, {
        method: 'POST',
        headers: { 'x-functions-key': keyHost.key },
        json: {},
      });
      statuses.push(answer.status);
      if (answer.status === 429) limited = answer;
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(limited?.headers.get('retry-after')).toBe('60');
    expect(limited?.json).toMatchObject({ code: 'rate_limited', status: 429 });
    expect(emulator.counts().createUserAndToken).toBe(3);
  });

  it('limits each signed-in principal separately', async () => {
    const alice = await login(authHost, `rl-alice-${Date.now()}`);
    const bob = await login(authHost, `rl-bob-${Date.now()}`);
    const ask = (cookie: string) =>
      call(`${authHost.url}/api/token`, { method: 'POST', headers: { cookie }, json: {} }).then(
        (a) => a.status,
      );
    expect([await ask(alice), await ask(alice), await ask(alice)]).toEqual([200, 200, 429]);
    expect(await ask(bob)).toBe(200);
  });
});

describe('safe retries', () => {
  it('retries a token issue for a known identity, bounded, and then gives up', async () => {
    const cookie = await login(authHost, `retry-${Date.now()}`);
    const first = await call(`${authHost.url}/api/token`, {
      method: 'POST',
      headers: { cookie },
      json: {},
    });
    expect(first.status).toBe(200);
    emulator.reset();
    emulator.setFaults({ errorStatus: 500, errorRate: 1, operations: ['issueAccessToken'] });
    const failed = await call(`${authHost.url}/api/token`, {
      method: 'POST',
      headers: { cookie },
      json: {},
    });
    expect(failed.status).toBe(502);
    expect(emulator.counts().issueAccessToken).toBe(3);
  });
});

describe('correlation', () => {
  it('logs the W3C trace id of a request that sent one', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await call(`${keyHost.url}/api/health`, {
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    await eventually('a record with the trace id', () =>
      keyHost.output().includes(`"correlationId":"${traceId}"`),
    );
  });
});
