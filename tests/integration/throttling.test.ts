import { randomBytes } from 'node:crypto';

import { startEmulator, type RunningEmulator } from '../../dev/emulator';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { call, type Answer } from '../support/http';
import { startLocalHost, type LocalHostProcess } from '../support/localHost';
import { pollUntil } from '../support/poll';
import { devLogin } from '../support/easyAuthSession';

// Long enough that a Retry-After exceeds the gateway's own 2 s retry ceiling: what is measured is
// the throttle gate, not a retry that happens to wait the window out.
const WINDOW_SECONDS = 4;
const CACHE_KEY = randomBytes(32).toString('base64');

let emulator: RunningEmulator;
let azurite: TestAzurite;
let hostA: LocalHostProcess;
let hostB: LocalHostProcess;

beforeAll(async () => {
  [emulator, azurite] = await Promise.all([
    startEmulator({
      port: 0,
      quotas: { windowSeconds: WINDOW_SECONDS, limits: { createUserAndToken: 2 } },
    }),
    startTestAzurite(),
  ]);
  const settings = {
    ACS_CONNECTION_STRING: emulator.connectionString,
    AUTH_MODE: 'easyauth',
    IDENTITY_MAP_CONNECTION: azurite.connectionString,
    TOKEN_CACHE_KEY: CACHE_KEY,
  };
  [hostA, hostB] = await Promise.all([startLocalHost(settings), startLocalHost(settings)]);
  for (const host of [hostA, hostB]) host.secrets.add(CACHE_KEY);
});

afterAll(async () => {
  await Promise.all([hostA?.stop(), hostB?.stop()]);
  await Promise.all([emulator?.close(), azurite?.dispose()]);
});

const login = (host: LocalHostProcess, user: string) => devLogin(host.url, user);

const ask = (host: LocalHostProcess, cookie: string, json: unknown = { scopes: ['voip'] }) =>
  call(`${host.url}/api/token`, { method: 'POST', headers: { cookie }, json });
const code = (a: Answer) => (a.json as { code?: string }).code;
const acs429 = () => emulator.quotaStats().createUserAndToken.throttled;
const creates = () => emulator.counts().createUserAndToken;

describe('the service while ACS throttles an operation', () => {
  it('stops sending that operation, answers 429 at once, serves cached callers, says so on /api/health', async () => {
    const run = `t${Date.now()}`;
    const returning = await login(hostA, `${run}-returning`);
    expect((await ask(hostA, returning)).status).toBe(200);
    expect((await ask(hostA, await login(hostA, `${run}-second`))).status).toBe(200);

    // The window is spent: ACS refuses the next create, and host A learns from it.
    const first = await ask(hostA, await login(hostA, `${run}-third`));
    expect(first.status).toBe(429);
    expect(code(first)).toBe('upstream_throttled');
    expect(acs429()).toBe(1);
    const sentBefore = creates();

    // Until Retry-After has passed, A answers new callers itself: no call reaches ACS.
    for (let i = 0; i < 5; i++) {
      const answer = await ask(hostA, await login(hostA, `${run}-new-${i}`));
      expect(answer.status).toBe(429);
      expect(code(answer)).toBe('upstream_throttled');
      const retryAfter = Number(answer.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(WINDOW_SECONDS);
    }
    expect(creates()).toBe(sentBefore);
    expect(acs429()).toBe(1);

    // A returning caller with a valid cached token is still served, with no ACS call.
    const cached = await ask(hostA, returning);
    expect(cached.status).toBe(200);
    expect(creates()).toBe(sentBefore);
    // Another operation class (a token for other scopes) is not throttled.
    expect((await ask(hostA, returning, { scopes: ['chat'] })).status).toBe(200);

    const health = await call(`${hostA.url}/api/health`);
    expect(health.status).toBe(200);
    const throttled = (health.json as { acs: { throttled: { operation: string }[] } }).acs
      .throttled;
    expect(throttled.map((t) => t.operation)).toEqual(['createUserAndToken']);

    // Host B has not seen a 429 yet: it learns on its own, at the cost of one more from ACS.
    const fromB = await ask(hostB, await login(hostB, `${run}-on-b`));
    expect(fromB.status).toBe(429);
    expect(acs429()).toBe(2);
    expect((await ask(hostB, await login(hostB, `${run}-on-b-again`))).status).toBe(429);
    expect(acs429()).toBe(2);

    // Once the window admits again, so does the service (polled, not slept).
    const later = await login(hostA, `${run}-later`);
    const answer = await pollUntil(
      () => ask(hostA, later),
      (a) => a.status !== 429,
      (WINDOW_SECONDS + 5) * 1000,
      200,
    );
    expect(answer.status).toBe(200);
    const healthy = await call(`${hostA.url}/api/health`);
    expect((healthy.json as { acs: { throttled: unknown[] } }).acs.throttled).toEqual([]);
  });
});
