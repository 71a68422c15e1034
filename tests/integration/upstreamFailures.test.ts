import { startEmulator, type RunningEmulator } from '../../dev/emulator';
import { call } from '../support/http';
import { startLocalHost, type LocalHostProcess } from '../support/localHost';

let emulator: RunningEmulator;
let host: LocalHostProcess;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  host = await startLocalHost({
    ACS_CONNECTION_STRING: emulator.connectionString,
    // Generous enough for a busy machine (the suites run in parallel), short enough for the
    // latency case below to exceed it.
    ACS_TIMEOUT_MS: '2000',
  });
  // The ACS client is loaded on first use, inside the first call's deadline; load it before the
  // cases so each one is about its fault alone.
  await requestToken();
});

afterAll(async () => {
  await host?.stop();
  await emulator?.close();
});

beforeEach(() => emulator.reset({ identities: true }));

const requestToken = () =>
  call(`${host.url}/api/token`, {
    method: 'POST',
    headers: { 'x-functions-key': host.key },
    json: { scopes: ['voip'] },
  });

describe('ACS failures map to gateway statuses', () => {
  it.each([
    [{ errorStatus: 503, errorRate: 1, retryAfterSeconds: 9 }, 503, 'upstream_unavailable', '9'],
    [{ errorStatus: 500, errorRate: 1 }, 502, 'upstream_error', null],
    [{ dropRate: 1 }, 503, 'upstream_unavailable', '5'],
    [{ malformedRate: 1 }, 502, 'upstream_error', null],
    [{ latencyMs: 4_000 }, 504, 'upstream_timeout', null],
  ])('%j → %i %s', async (faults, status, code, retryAfter) => {
    emulator.setFaults(faults);
    const answer = await requestToken();
    expect(answer.status).toBe(status);
    expect(answer.headers.get('content-type')).toBe('application/problem+json');
    expect(answer.headers.get('retry-after')).toBe(retryAfter);
    expect(answer.json).toMatchObject({ code, status });
    expect(answer.text).not.toMatch(/eyJ|accesskey|RestError|\.js:\d+/);
    // Exactly one attempt: a retried create could leave an orphaned identity behind.
    expect(emulator.counts().createUserAndToken).toBe(1);
  });

  it('recovers as soon as ACS does', async () => {
    emulator.setFaults({ errorStatus: 503, errorRate: 1 });
    expect((await requestToken()).status).toBe(503);
    emulator.reset();
    expect((await requestToken()).status).toBe(200);
  });

  // Last: the 429 shuts creates on this host for its Retry-After (the throttle gate).
  it('maps a 429 to 429 upstream_throttled with ACS Retry-After, and holds creates back', async () => {
    emulator.setFaults({ errorStatus: 429, errorRate: 1, retryAfterSeconds: 17 });
    const answer = await requestToken();
    expect(answer.status).toBe(429);
    expect(answer.headers.get('content-type')).toBe('application/problem+json');
    expect(answer.headers.get('retry-after')).toBe('17');
    expect(answer.json).toMatchObject({ code: 'upstream_throttled', status: 429 });
    expect(answer.text).not.toMatch(/eyJ|accesskey|RestError|\.js:\d+/);
    expect(emulator.counts().createUserAndToken).toBe(1);
    emulator.reset();
    const held = await requestToken();
    expect(held.status).toBe(429);
    expect(Number(held.headers.get('retry-after'))).toBeLessThanOrEqual(17);
    expect(emulator.counts().createUserAndToken).toBe(0);
  });
});

describe('start-up configuration', () => {
  it('a wrong access key is a 503 configuration fault naming the setting, not a leak', async () => {
    const wrongKey = Buffer.alloc(32, 1).toString('base64');
    const misconfigured = await startLocalHost({
      ACS_CONNECTION_STRING: `endpoint=${emulator.endpoint};accesskey=${wrongKey}`,
    });
    try {
      const answer = await call(`${misconfigured.url}/api/token`, {
        method: 'POST',
        headers: { 'x-functions-key': misconfigured.key },
        json: {},
      });
      expect(answer.status).toBe(503);
      expect(answer.json).toMatchObject({ code: 'upstream_auth_failed' });
      expect(answer.text).not.toContain(wrongKey);
      expect(misconfigured.output()).toMatch(
        /"event":"dependency_failure","code":"upstream_auth_failed".*"check":"ACS_CONNECTION_STRING/,
      );
      expect(misconfigured.output()).not.toContain(wrongKey);
      expect(emulator.counts().rejected).toBe(1);
    } finally {
      await misconfigured.stop();
    }
  });
});
