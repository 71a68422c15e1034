import { randomBytes } from 'node:crypto';
import type { IdentityMap, MappingRecord } from '../../src/domain/identityMap';
import { createTableClient, TableIdentityMap } from '../../src/infra/tableIdentityMap';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { MemoryIdentityMap } from '../support/fakes';

/*
 * One contract, two implementations: the in-memory map the unit tests use, and the Table Storage
 * map the service uses, here on Azurite. The reservation protocol (src/domain/callerIdentities.ts)
 * is proven against the fake; this suite is what makes that proof hold for Table Storage too.
 */

let azurite: TestAzurite;

beforeAll(async () => {
  azurite = await startTestAzurite();
});

afterAll(async () => {
  await azurite.dispose();
});

const implementations: [string, () => IdentityMap][] = [
  ['MemoryIdentityMap', () => new MemoryIdentityMap()],
  [
    'TableIdentityMap on Azurite',
    () => {
      // A fresh table per test, so no test sees another's rows.
      const table = `contract${randomBytes(6).toString('hex')}`;
      return new TableIdentityMap(() =>
        createTableClient({
          kind: 'connectionString',
          connectionString: azurite.connectionString,
          table,
        }),
      );
    },
  ],
];

/** A principal key shaped like the service's (a SHA-256 in hex). */
const key = () => randomBytes(32).toString('hex');

describe.each(implementations)('IdentityMap contract: %s', (_name, create) => {
  let map: IdentityMap;
  beforeEach(() => {
    map = create();
  });

  it('knows no row it was never given', async () => {
    expect(await map.get(key())).toBeUndefined();
  });

  it('inserts a reservation once; a second reserve of the same principal gets nothing', async () => {
    const k = key();
    const reserved = await map.reserve(k, 1_234_567);
    expect(reserved).toMatchObject({ principalKey: k, leaseUntil: 1_234_567, generation: 0 });
    expect(reserved?.communicationUserId).toBeUndefined();
    expect(await map.reserve(k, 9_999_999)).toBeUndefined();
    expect(await map.get(k)).toEqual(reserved);
  });

  it('replaces a row only with the etag it was read with, and gives the new row a new etag', async () => {
    const k = key();
    const reserved = (await map.reserve(k, 1_000)) as MappingRecord;
    const done = await map.replace(reserved, { communicationUserId: '8:acs:r_1', generation: 0 });
    expect(done).toMatchObject({
      principalKey: k,
      communicationUserId: '8:acs:r_1',
      generation: 0,
    });
    expect(done?.etag).not.toBe(reserved.etag);
    expect(done?.leaseUntil).toBeUndefined();
    expect(await map.get(k)).toEqual(done);
    // The reservation's etag is stale now: a second writer holding it loses.
    expect(await map.replace(reserved, { communicationUserId: '8:acs:r_2', generation: 0 })).toBe(
      undefined,
    );
    expect((await map.get(k))?.communicationUserId).toBe('8:acs:r_1');
  });

  it('keeps every field it is given, and drops the ones left out', async () => {
    const k = key();
    const reserved = (await map.reserve(k, 1_000)) as MappingRecord;
    const full = await map.replace(reserved, {
      communicationUserId: '8:acs:r_1',
      leaseUntil: 5_000,
      generation: 3,
      cache: 'v1.sealed',
    });
    expect(await map.get(k)).toEqual(full);
    const bare = await map.replace(full as MappingRecord, { generation: 4 });
    expect(bare).toEqual({ principalKey: k, generation: 4, etag: bare?.etag });
    expect(await map.get(k)).toEqual(bare);
  });

  it('does not replace a row that is gone', async () => {
    const k = key();
    const reserved = (await map.reserve(k, 1_000)) as MappingRecord;
    expect(await map.remove(reserved)).toBe(true);
    expect(await map.replace(reserved, { generation: 1 })).toBeUndefined();
    expect(await map.get(k)).toBeUndefined();
  });

  it('removes only with the current etag, and a row that is gone already counts as removed', async () => {
    const k = key();
    const reserved = (await map.reserve(k, 1_000)) as MappingRecord;
    const current = (await map.replace(reserved, { generation: 1 })) as MappingRecord;
    expect(await map.remove(reserved)).toBe(false);
    expect(await map.get(k)).toEqual(current);
    expect(await map.remove(current)).toBe(true);
    expect(await map.get(k)).toBeUndefined();
    expect(await map.remove(current)).toBe(true);
  });

  it('lets a principal reserve again once its row is removed', async () => {
    const k = key();
    const first = (await map.reserve(k, 1_000)) as MappingRecord;
    await map.remove(first);
    const again = await map.reserve(k, 2_000);
    expect(again).toMatchObject({ principalKey: k, leaseUntil: 2_000, generation: 0 });
  });

  it('keeps principals apart', async () => {
    const [a, b] = [key(), key()];
    const ra = (await map.reserve(a, 1_000)) as MappingRecord;
    await map.reserve(b, 2_000);
    await map.replace(ra, { communicationUserId: '8:acs:a_1', generation: 0 });
    expect((await map.get(b))?.communicationUserId).toBeUndefined();
    expect((await map.get(b))?.leaseUntil).toBe(2_000);
  });
});
