import { TableClient } from '@azure/data-tables';
import { startEmulator, type RunningEmulator } from '../../dev/emulator';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { call, type Answer } from '../support/http';
import { startLocalHost, type LocalHostProcess } from '../support/localHost';
import { eventually } from '../support/poll';
import { devLogin } from '../support/easyAuthSession';

let emulator: RunningEmulator;
let azurite: TestAzurite;
let host: LocalHostProcess;

/** A small seeded generator, so the injected faults are the same on every run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

beforeAll(async () => {
  [emulator, azurite] = await Promise.all([
    startEmulator({ port: 0, random: seeded(20261128) }),
    startTestAzurite(),
  ]);
  host = await startLocalHost({
    ACS_CONNECTION_STRING: emulator.connectionString,
    AUTH_MODE: 'easyauth',
    IDENTITY_MAP_CONNECTION: azurite.connectionString,
  });
});

afterAll(async () => {
  await host?.stop();
  await Promise.all([emulator?.close(), azurite?.dispose()]);
});

const login = (user: string) => devLogin(host.url, user);

const requestToken = (cookie: string) =>
  call(`${host.url}/api/token`, {
    method: 'POST',
    headers: { cookie },
    json: { scopes: ['voip'] },
  });

async function mappingRows(): Promise<{ communicationUserId: string; leaseUntil: number }[]> {
  const table = TableClient.fromConnectionString(azurite.connectionString, 'acsidentities', {
    allowInsecureConnection: true,
  });
  const rows: { communicationUserId: string; leaseUntil: number }[] = [];
  for await (const row of table.listEntities<{
    communicationUserId: string;
    leaseUntil: number;
  }>()) {
    rows.push({ communicationUserId: row.communicationUserId, leaseUntil: Number(row.leaseUntil) });
  }
  return rows;
}

/** Zero orphans and zero broken mappings, checked against both stores. */
async function expectConsistent(): Promise<Set<string>> {
  const rows = await mappingRows();
  const mapped = rows.map((r) => r.communicationUserId);
  const live = emulator
    .identities()
    .filter((i) => !i.deleted)
    .map((i) => i.id);
  expect(rows.filter((r) => !r.communicationUserId)).toEqual([]); // no reservation left behind
  expect(new Set(mapped).size).toBe(mapped.length); // no identity mapped twice
  expect([...mapped].sort()).toEqual([...live].sort()); // every live identity mapped, every row live
  return new Set(mapped);
}

const idOf = (a: Answer) =>
  (a.json as { user: { communicationUserId: string } }).user.communicationUserId;

describe('100 concurrent first requests with 10% injected ACS faults', () => {
  it('answers each with a token or a mapped error and leaves no orphan or broken mapping', async () => {
    const cookies = await Promise.all(
      Array.from({ length: 100 }, (_, i) => login(`load-${i}-${Date.now()}`)),
    );
    // Faults whose outcome the service can know: ACS refused (503) or the request never ran (drop).
    emulator.setFaults({ errorStatus: 503, errorRate: 0.05, retryAfterSeconds: 1, dropRate: 0.05 });
    const first = await Promise.all(cookies.map(requestToken));
    emulator.reset();

    const statuses = first.map((a) => a.status);
    expect(statuses.filter((s) => ![200, 429, 502, 503, 504].includes(s))).toEqual([]);
    expect(statuses.filter((s) => s !== 200).length).toBeGreaterThan(0); // the faults did fire
    for (const failed of first.filter((a) => a.status !== 200)) {
      expect(failed.headers.get('content-type')).toBe('application/problem+json');
    }
    const mapped = await expectConsistent();
    for (const ok of first.filter((a) => a.status === 200)) expect(mapped.has(idOf(ok))).toBe(true);

    // The ones that failed simply try again and get their identity.
    const retried = await Promise.all(cookies.map(requestToken));
    expect(retried.map((a) => a.status)).toEqual(Array(100).fill(200));
    const after = await expectConsistent();
    expect(after.size).toBe(100);
    first.forEach((answer, i) => {
      if (answer.status === 200) expect(idOf(retried[i]!)).toBe(idOf(answer));
    });
  });
});

describe('a create whose answer is lost after ACS committed it', () => {
  it('is answered 503, frees the reservation and is flagged in the log for reconciliation', async () => {
    const cookie = await login(`lost-${Date.now()}`);
    const before = emulator.identities().length;
    emulator.setFaults({ dropAfterCommitRate: 1, operations: ['createUserAndToken'] });
    const answer = await requestToken(cookie);
    emulator.reset();
    expect(answer.status).toBe(503);
    // ACS Identity has no idempotency key: the identity exists, and only the log knows of it.
    expect(emulator.identities().length).toBe(before + 1);
    await eventually('the request record flagging the lost create', () =>
      host.output().includes('"acsCreateOutcomeUnknown":true'),
    );
    const healed = await requestToken(cookie);
    expect(healed.status).toBe(200);
  });
});
