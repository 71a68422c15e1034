import { randomBytes } from 'node:crypto';
import { startEmulator, type RunningEmulator } from '../../dev/emulator';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { call, type Answer } from '../support/http';
import { startLocalHost, type LocalHostProcess } from '../support/localHost';
import { pollUntil } from '../support/poll';
import { devLogin } from '../support/easyAuthSession';

const CACHE_KEY = randomBytes(32).toString('base64');
/** Short, so the cross-instance cases settle quickly; the default is 30. */
const LOCAL_SECONDS = 2;
let emulator: RunningEmulator;
let azurite: TestAzurite;
let hostA: LocalHostProcess;
let hostB: LocalHostProcess;
let otherKeyHost: LocalHostProcess;

const settings = (cacheKey: string) => ({
  ACS_CONNECTION_STRING: emulator.connectionString,
  AUTH_MODE: 'easyauth',
  IDENTITY_MAP_CONNECTION: azurite.connectionString,
  TOKEN_CACHE_KEY: cacheKey,
  TOKEN_CACHE_LOCAL_SECONDS: String(LOCAL_SECONDS),
});

beforeAll(async () => {
  [emulator, azurite] = await Promise.all([startEmulator({ port: 0 }), startTestAzurite()]);
  [hostA, hostB, otherKeyHost] = await Promise.all([
    startLocalHost(settings(CACHE_KEY)),
    startLocalHost(settings(CACHE_KEY)),
    startLocalHost(settings(randomBytes(32).toString('base64'))),
  ]);
  for (const host of [hostA, hostB, otherKeyHost]) host.secrets.add(CACHE_KEY);
});

afterAll(async () => {
  await Promise.all([hostA?.stop(), hostB?.stop(), otherKeyHost?.stop()]);
  await Promise.all([emulator?.close(), azurite?.dispose()]);
});

beforeEach(() => emulator.reset());

// Local hosts of one checkout share .dev/host-keys.json, so a session cookie works on each.
const login = (user: string) => devLogin(hostA.url, user);

const ask = (host: LocalHostProcess, cookie: string, json: unknown = { scopes: ['voip'] }) =>
  call(`${host.url}/api/token`, { method: 'POST', headers: { cookie }, json });
const tokenOf = (a: Answer) => (a.json as { token: string }).token;
/**
 * Asks `host` until `done` holds for its answer. The deadline is far beyond LOCAL_SECONDS: it
 * only stops a broken build from hanging the suite; the bound itself is unit-tested on a clock.
 */
async function askUntil(host: LocalHostProcess, cookie: string, done: (a: Answer) => boolean) {
  const answer = await pollUntil(() => ask(host, cookie), done, 30_000 + LOCAL_SECONDS * 1000, 100);
  if (!done(answer)) throw new Error(`still ${answer.status} ${answer.text.length}`);
  return answer;
}
const acsOps = () => {
  const c = emulator.counts();
  return c.createUserAndToken + c.issueAccessToken;
};

describe('token cache shared by two instances through the identity map', () => {
  it('serves a returning principal from either instance with no ACS call', async () => {
    const cookie = await login(`cache-${Date.now()}`);
    const first = await ask(hostA, cookie);
    expect(first.status).toBe(200);
    expect(acsOps()).toBe(1);
    const fromA = await ask(hostA, cookie);
    const fromB = await ask(hostB, cookie);
    expect([tokenOf(fromA), tokenOf(fromB)]).toEqual([tokenOf(first), tokenOf(first)]);
    expect(acsOps()).toBe(1);
  });

  it('misses for other scopes or a shorter lifetime, then caches the new token', async () => {
    const cookie = await login(`scopes-${Date.now()}`);
    await ask(hostA, cookie);
    const chat = await ask(hostA, cookie, { scopes: ['chat'] });
    expect(acsOps()).toBe(2);
    expect(tokenOf(await ask(hostB, cookie, { scopes: ['chat'] }))).toBe(tokenOf(chat));
    expect(acsOps()).toBe(2);
  });

  it('forgets a revoke at once on its own instance, within TOKEN_CACHE_LOCAL_SECONDS on the other', async () => {
    const cookie = await login(`revoke-${Date.now()}`);
    const before = await ask(hostA, cookie);
    expect(tokenOf(await ask(hostB, cookie))).toBe(tokenOf(before)); // B remembers it too
    const revoke = await call(`${hostB.url}/api/token/revoke`, {
      method: 'POST',
      headers: { cookie },
    });
    expect(revoke.status).toBe(204);
    const onB = await ask(hostB, cookie);
    expect(onB.status).toBe(200);
    expect(tokenOf(onB)).not.toBe(tokenOf(before));
    const onA = await askUntil(
      hostA,
      cookie,
      (a) => a.status === 200 && tokenOf(a) !== tokenOf(before),
    );
    // A's fresh token is the one B put in the row after the revoke: still one ACS call for both.
    expect(tokenOf(onA)).toBe(tokenOf(onB));
    expect(emulator.counts().issueAccessToken).toBe(1);
  });

  it('forgets a delete at once on its own instance, within TOKEN_CACHE_LOCAL_SECONDS on the other', async () => {
    const cookie = await login(`delete-${Date.now()}`);
    const id = (a: Answer) =>
      (a.json as { user: { communicationUserId: string } }).user.communicationUserId;
    const before = await ask(hostA, cookie);
    expect(id(await ask(hostB, cookie))).toBe(id(before));
    expect(
      (await call(`${hostB.url}/api/user`, { method: 'DELETE', headers: { cookie } })).status,
    ).toBe(204);
    const onB = await ask(hostB, cookie);
    expect(id(onB)).not.toBe(id(before));
    const onA = await askUntil(hostA, cookie, (a) => a.status === 200 && id(a) !== id(before));
    expect(id(onA)).toBe(id(onB));
  });

  it('treats an entry sealed with another key as a miss, never an error', async () => {
    const cookie = await login(`rotated-${Date.now()}`);
    await ask(hostA, cookie);
    const rotated = await ask(otherKeyHost, cookie);
    expect(rotated.status).toBe(200);
    expect(emulator.counts().issueAccessToken).toBe(1);
  });
});
