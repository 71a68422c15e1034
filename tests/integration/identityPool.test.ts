import { TableClient } from '@azure/data-tables';
import { randomBytes } from 'node:crypto';
import { startEmulator, type RunningEmulator } from '../../dev/emulator';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { call } from '../support/http';
import { startLocalHost, type LocalHostProcess } from '../support/localHost';

/**
 * The identity pool over real HTTP: two local hosts (two instances of one app: one host id, one
 * timer lock) sharing the emulator and Azurite. The pool fills under the hosts' own timer.
 */
const POOL_SIZE = 12;
const CACHE_KEY = randomBytes(32).toString('base64');
let emulator: RunningEmulator;
let azurite: TestAzurite;
let hosts: LocalHostProcess[] = [];

const settings = () => ({
  ACS_CONNECTION_STRING: emulator.connectionString,
  AUTH_MODE: 'easyauth',
  IDENTITY_MAP_CONNECTION: azurite.connectionString,
  AzureWebJobsStorage: azurite.connectionString,
  TOKEN_CACHE_KEY: CACHE_KEY,
  POOL_SIZE: String(POOL_SIZE),
  RATE_LIMIT_PER_MINUTE: '0',
});

interface PoolHealth {
  status: string;
  size?: number;
  target?: number;
  oldestTokenAgeSeconds?: number | null;
}

async function poolHealth(host: LocalHostProcess): Promise<PoolHealth | undefined> {
  const answer = await call(`${host.url}/api/health`);
  return (answer.json as { pool?: PoolHealth }).pool;
}

async function poolFilled(host: LocalHostProcess, size: number): Promise<PoolHealth> {
  const giveUpAt = Date.now() + 25_000;
  for (;;) {
    const pool = await poolHealth(host);
    if (pool?.size === size) return pool;
    if (Date.now() > giveUpAt) throw new Error(`pool not filled: ${JSON.stringify(pool)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function pooledIdentities(): Promise<Set<string>> {
  const table = TableClient.fromConnectionString(azurite.connectionString, 'acsidentities', {
    allowInsecureConnection: true,
  });
  const ids = new Set<string>();
  for await (const row of table.listEntities<{ state?: string; communicationUserId?: string }>({
    queryOptions: { filter: "PartitionKey eq 'pool'" },
  })) {
    if (row.state === 'ready' && row.communicationUserId) ids.add(row.communicationUserId);
  }
  return ids;
}

async function login(host: LocalHostProcess, user: string): Promise<string> {
  const answer = await fetch(`${host.url}/.auth/login/dev?user=${user}&roles=member`);
  return (answer.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
}

beforeAll(async () => {
  [emulator, azurite] = await Promise.all([startEmulator({ port: 0 }), startTestAzurite()]);
  hosts = await Promise.all([startLocalHost(settings()), startLocalHost(settings())]);
  for (const host of hosts) host.secrets.add(CACHE_KEY);
}, 60_000);

afterAll(async () => {
  await Promise.all(hosts.map((h) => h.stop()));
  await Promise.all([emulator?.close(), azurite?.dispose()]);
});

describe('identity pool across two instances', () => {
  it('fills under the hosts’ timer, on one instance only, and reports its size and age', async () => {
    const pool = await poolFilled(hosts[0]!, POOL_SIZE);
    expect(pool).toMatchObject({ status: 'reported', size: POOL_SIZE, target: POOL_SIZE });
    expect(pool.oldestTokenAgeSeconds).toBeGreaterThanOrEqual(0);
    expect(await poolHealth(hosts[1]!)).toMatchObject({ size: POOL_SIZE });
    expect(emulator.counts().createUserAndToken).toBe(POOL_SIZE);
    // The singleton: exactly one instance ran the timer.
    const runners = hosts.filter((h) => /"event":"pool_run"/.test(h.output()));
    expect(runners).toHaveLength(1);
  });

  it('races new principals over both instances: each pooled identity to one principal, no ACS call for those', async () => {
    await poolFilled(hosts[0]!, POOL_SIZE);
    const pooled = await pooledIdentities();
    expect(pooled.size).toBe(POOL_SIZE);
    const users = Array.from({ length: 2 * POOL_SIZE }, (_, i) => `race-${Date.now()}-${i}`);
    const cookies = await Promise.all(users.map((u, i) => login(hosts[i % 2]!, u)));
    const before = emulator.counts();
    const answers = await Promise.all(
      cookies.map((cookie, i) =>
        call(`${hosts[(i + 1) % 2]!.url}/api/token`, {
          method: 'POST',
          headers: { cookie },
          json: {},
        }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(users.map(() => 200));
    const ids = answers.map(
      (a) => (a.json as { user: { communicationUserId: string } }).user.communicationUserId,
    );
    expect(new Set(ids).size).toBe(ids.length);
    const fromPool = ids.filter((id) => pooled.has(id));
    expect(fromPool.length).toBeGreaterThan(0);
    const creates = emulator.counts().createUserAndToken - before.createUserAndToken;
    // The rest were created as today: one call each, none for a claim.
    expect(creates).toBe(ids.length - fromPool.length);
    expect(emulator.counts().issueAccessToken).toBe(before.issueAccessToken);
    // A claimed identity is no longer in the pool; returning users keep theirs on either host.
    const left = await pooledIdentities();
    for (const id of fromPool) expect(left.has(id)).toBe(false);
    const again = await call(`${hosts[0]!.url}/api/token`, {
      method: 'POST',
      headers: { cookie: cookies[1]! },
      json: {},
    });
    expect((again.json as { user: { communicationUserId: string } }).user.communicationUserId).toBe(
      ids[1],
    );
  });
});
