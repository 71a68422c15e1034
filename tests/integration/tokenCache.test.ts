import { randomBytes } from 'node:crypto';
import { startEmulator, type RunningEmulator } from '../../dev/emulator';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { call, type Answer } from '../support/http';
import { startLocalHost, type LocalHostProcess } from '../support/localHost';

const CACHE_KEY = randomBytes(32).toString('base64');
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
async function login(user: string): Promise<string> {
  const answer = await fetch(`${hostA.url}/.auth/login/dev?user=${user}&roles=member`);
  return (answer.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
}

const ask = (host: LocalHostProcess, cookie: string, json: unknown = { scopes: ['voip'] }) =>
  call(`${host.url}/api/token`, { method: 'POST', headers: { cookie }, json });
const tokenOf = (a: Answer) => (a.json as { token: string }).token;
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

  it('forgets on every instance when one of them revokes', async () => {
    const cookie = await login(`revoke-${Date.now()}`);
    const before = await ask(hostA, cookie);
    const revoke = await call(`${hostB.url}/api/token/revoke`, {
      method: 'POST',
      headers: { cookie },
    });
    expect(revoke.status).toBe(204);
    const after = await ask(hostA, cookie);
    expect(after.status).toBe(200);
    expect(tokenOf(after)).not.toBe(tokenOf(before));
    expect(emulator.counts().issueAccessToken).toBe(1);
  });

  it('forgets on every instance when one of them deletes the user', async () => {
    const cookie = await login(`delete-${Date.now()}`);
    const before = await ask(hostA, cookie);
    expect(
      (await call(`${hostB.url}/api/user`, { method: 'DELETE', headers: { cookie } })).status,
    ).toBe(204);
    const after = await ask(hostA, cookie);
    const id = (a: Answer) =>
      (a.json as { user: { communicationUserId: string } }).user.communicationUserId;
    expect(id(after)).not.toBe(id(before));
  });

  it('treats an entry sealed with another key as a miss, never an error', async () => {
    const cookie = await login(`rotated-${Date.now()}`);
    await ask(hostA, cookie);
    const rotated = await ask(otherKeyHost, cookie);
    expect(rotated.status).toBe(200);
    expect(emulator.counts().issueAccessToken).toBe(1);
  });
});
