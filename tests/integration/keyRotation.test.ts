import { randomBytes } from 'node:crypto';

import { startEmulator, type RunningEmulator } from '../../dev/emulator';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { call, jwtClaims, type Answer } from '../support/http';
import { startLocalHost, type LocalHostProcess } from '../support/localHost';
import { devLogin } from '../support/easyAuthSession';

/**
 * docs/operations.md's rotation runbook, walked end to end with the token cache on: the host is
 * restarted with each new connection string, as an app-setting change restarts a Function App.
 */
const CACHE_KEY = randomBytes(32).toString('base64');
const USERS = 3;

let emulator: RunningEmulator;
let azurite: TestAzurite;
let host: LocalHostProcess | undefined;

beforeAll(async () => {
  [emulator, azurite] = await Promise.all([startEmulator({ port: 0 }), startTestAzurite()]);
});

afterAll(async () => {
  await host?.stop();
  await Promise.all([emulator?.close(), azurite?.dispose()]);
});

async function restartWith(connectionString: string): Promise<LocalHostProcess> {
  await host?.stop();
  host = await startLocalHost({
    ACS_CONNECTION_STRING: connectionString,
    AUTH_MODE: 'easyauth',
    IDENTITY_MAP_CONNECTION: azurite.connectionString,
    TOKEN_CACHE_KEY: CACHE_KEY,
  });
  host.secrets.add(CACHE_KEY);
  const keys = emulator.keys();
  for (const key of [keys.primaryKey, keys.secondaryKey]) host.secrets.add(key);
  return host;
}

const login = (on: LocalHostProcess, user: string) => devLogin(on.url, user);

const tokenOf = (a: Answer) => (a.json as { token: string }).token;

async function active(token: string): Promise<boolean> {
  const answer = await call(`${emulator.url}/admin/introspect`, {
    method: 'POST',
    json: { token },
  });
  return (answer.json as { active: boolean }).active;
}

/** Every user's token from the current host; each must be valid at ACS and no older than `notBefore`. */
async function tokensOf(cookies: string[], notBeforeMs: number): Promise<string[]> {
  const tokens: string[] = [];
  for (const cookie of cookies) {
    const answer = await call(`${host?.url}/api/token`, {
      method: 'POST',
      headers: { cookie },
      json: { scopes: ['voip'] },
    });
    expect(answer.status).toBe(200);
    const token = tokenOf(answer);
    expect(await active(token)).toBe(true);
    expect(Number(jwtClaims(token).iat)).toBeGreaterThanOrEqual(Math.floor(notBeforeMs / 1000));
    tokens.push(token);
  }
  return tokens;
}

describe('access key rotation with the token cache on', () => {
  it('walks the runbook and never returns a token issued under a replaced key', async () => {
    const start = emulator.keys();
    const first = await restartWith(start.primaryConnectionString);
    const cookies: string[] = [];
    for (let i = 0; i < USERS; i++) cookies.push(await login(first, `rotate-${Date.now()}-${i}`));
    const beforeRotation = await tokensOf(cookies, 0);
    // The cache is on: a second round is served from it.
    expect(await tokensOf(cookies, 0)).toEqual(beforeRotation);

    // 1. Switch the app to the secondary key.
    const switchedAt = Date.now();
    await restartWith(start.secondaryConnectionString);
    const onSecondary = await tokensOf(cookies, switchedAt);
    expect(onSecondary.filter((t) => beforeRotation.includes(t))).toEqual([]);

    // 2. Regenerate the primary: what it issued is revoked; the app, on the secondary, is unaffected.
    const regeneratedAt = Date.now();
    const next = emulator.regenerateKey('Primary');
    for (const token of beforeRotation) expect(await active(token)).toBe(false);
    expect(await tokensOf(cookies, switchedAt)).toEqual(onSecondary);

    // 3. Switch back to the new primary.
    await restartWith(next.primaryConnectionString);
    const onNewPrimary = await tokensOf(cookies, regeneratedAt);
    expect(onNewPrimary.filter((t) => onSecondary.includes(t))).toEqual([]);
    expect(await tokensOf(cookies, regeneratedAt)).toEqual(onNewPrimary);
  });

  it('retires every cached token at once when TOKEN_CACHE_EPOCH changes', async () => {
    const current = emulator.keys().primaryConnectionString;
    const cookie = await login(await restartWith(current), `epoch-${Date.now()}`);
    const [first] = await tokensOf([cookie], 0);
    await host?.stop();
    host = await startLocalHost({
      ACS_CONNECTION_STRING: current,
      AUTH_MODE: 'easyauth',
      IDENTITY_MAP_CONNECTION: azurite.connectionString,
      TOKEN_CACHE_KEY: CACHE_KEY,
      TOKEN_CACHE_EPOCH: 'after-rotation-1',
    });
    host.secrets.add(CACHE_KEY);
    const bumpedAt = Date.now();
    const [after] = await tokensOf([cookie], bumpedAt);
    expect(after).not.toBe(first);
  });
});
