import { randomBytes } from 'node:crypto';
import type { MappingRecord } from '../../src/domain/identityMap';
import { LocalTokenCache, LocallyCachedCallers } from '../../src/domain/localTokenCache';
import { AesTokenSealer } from '../../src/infra/aesTokenSealer';
import { FakeIdentityService, MemoryIdentityMap } from '../support/fakes';

const grant = { scopes: ['voip' as const], expiresInMinutes: 60 };
const BOUND_MS = 30_000;

/** Counts every identity-map read, the table operation a remembered answer must avoid. */
class CountingMap extends MemoryIdentityMap {
  gets = 0;
  /** A test can hold a read here (a request that read the row before a revoke). */
  beforeGet: () => Promise<void> = () => Promise.resolve();
  override async get(key: string): Promise<MappingRecord | undefined> {
    this.gets += 1;
    const record = await super.get(key);
    await this.beforeGet();
    return record;
  }
}

/** Two instances: one identity map and one ACS, each instance its own process memory. */
function twoInstances() {
  const identity = new FakeIdentityService();
  const map = new CountingMap();
  const sealer = new AesTokenSealer(randomBytes(32));
  let clock = Date.now();
  const instance = () =>
    new LocallyCachedCallers(
      { identity, map, leaseMs: 15_000, waitMs: 12_000, cache: sealer, now: () => clock },
      new LocalTokenCache({ maxAgeMs: BOUND_MS }),
    );
  return { identity, map, a: instance(), b: instance(), advance: (ms: number) => (clock += ms) };
}

describe('LocallyCachedCallers', () => {
  it('answers a hot principal with no identity-map read and no ACS call', async () => {
    const { identity, map, a } = twoInstances();
    const first = await a.token('p1', grant);
    const readsAfterFirst = map.gets;
    for (let i = 0; i < 5; i++) expect(await a.token('p1', grant)).toEqual(first);
    expect(map.gets).toBe(readsAfterFirst);
    expect(identity.calls).toEqual(['createUserAndToken']);
  });

  it('reads the map again once the entry is TOKEN_CACHE_LOCAL_SECONDS old', async () => {
    const { map, a, advance } = twoInstances();
    await a.token('p1', grant);
    const reads = map.gets;
    advance(BOUND_MS - 1);
    await a.token('p1', grant);
    expect(map.gets).toBe(reads);
    advance(1);
    await a.token('p1', grant);
    expect(map.gets).toBe(reads + 1);
  });

  it('sees a revoke on another instance within the bound, and one on itself at once', async () => {
    const { a, b, advance } = twoInstances();
    const before = await b.token('p1', grant);
    await a.revoke('p1');
    // Within the bound, B may still hand out the token ACS is revoking: the accepted staleness.
    expect((await b.token('p1', grant)).accessToken.token).toBe(before.accessToken.token);
    advance(BOUND_MS);
    const afterBound = await b.token('p1', grant);
    expect(afterBound.accessToken.token).not.toBe(before.accessToken.token);
    await b.revoke('p1');
    expect((await b.token('p1', grant)).accessToken.token).not.toBe(afterBound.accessToken.token);
  });

  it('sees a delete on another instance within the bound, and one on itself at once', async () => {
    const { a, b, advance } = twoInstances();
    const before = await b.token('p1', grant);
    await a.remove('p1');
    advance(BOUND_MS);
    const recreated = await b.token('p1', grant);
    expect(recreated.communicationUserId).not.toEqual(before.communicationUserId);
    await b.remove('p1');
    expect((await b.token('p1', grant)).communicationUserId).not.toEqual(
      recreated.communicationUserId,
    );
  });

  it.each(['the creating instance', 'another instance'])(
    'a revoke on %s during the first request: its token is never served from the row again',
    async (where) => {
      const { identity, a, b, advance } = twoInstances();
      let reached!: () => void;
      let release!: () => void;
      const atAcs = new Promise<void>((resolve) => (reached = resolve));
      identity.before = (op) => {
        if (op !== 'createUserAndToken') return Promise.resolve();
        reached();
        return new Promise<void>((resolve) => (release = resolve));
      };
      const first = a.token('p1', grant);
      await atAcs;
      const revoker = where === 'another instance' ? b : a;
      const revoke = revoker.revoke('p1');
      await new Promise((resolve) => setTimeout(resolve, 30));
      release();
      const old = (await first).accessToken.token;
      await revoke;
      expect(identity.calls).toEqual(['createUserAndToken', 'revokeTokens']);
      expect((await revoker.token('p1', grant)).accessToken.token).not.toBe(old);
      // The creator answered the first request itself; on another instance's revoke its memory
      // may serve that answer within the bound (the accepted staleness above), never after it.
      advance(BOUND_MS);
      expect((await a.token('p1', grant)).accessToken.token).not.toBe(old);
      expect((await b.token('p1', grant)).accessToken.token).not.toBe(old);
    },
  );

  it('does not remember a token read before a revoke on the same instance finished', async () => {
    const { map, a, advance } = twoInstances();
    const old = await a.token('p1', grant);
    advance(BOUND_MS); // the next request reads the row
    let release: (() => void) | undefined;
    map.beforeGet = () => new Promise<void>((resolve) => (release = resolve));
    const inFlight = a.token('p1', grant);
    for (let i = 0; !release && i < 1_000; i++) await new Promise((r) => setImmediate(r));
    map.beforeGet = () => Promise.resolve();
    // The revoke finishes while the in-flight request still holds the row it read before it.
    await a.revoke('p1');
    release?.();
    expect((await inFlight).accessToken.token).toBe(old.accessToken.token);
    const after = await a.token('p1', grant);
    expect(after.accessToken.token).not.toBe(old.accessToken.token);
  });

  it('never answers a grant its remembered token does not serve', async () => {
    const { identity, a } = twoInstances();
    await a.token('p1', grant);
    const chat = await a.token('p1', { scopes: ['chat'], expiresInMinutes: 60 });
    expect(chat.accessToken.token).toContain('chat');
    expect(identity.calls).toEqual(['createUserAndToken', 'getToken']);
  });
});

describe('LocalTokenCache bounds', () => {
  const answer = (i: number, tokenLength = 100) => ({
    communicationUserId: `8:acs:user-${i}`,
    accessToken: { token: 'x'.repeat(tokenLength), expiresOn: new Date(Date.now() + 60 * 60_000) },
  });

  it('keeps at most maxEntries, dropping the least recently used first', () => {
    const cache = new LocalTokenCache({ maxAgeMs: BOUND_MS, maxEntries: 3 });
    const now = Date.now();
    for (let i = 0; i < 3; i++) cache.remember(`k${i}`, answer(i), grant, now, cache.ticket());
    expect(cache.answer('k0', grant, now)).toBeDefined(); // k0 becomes the most recent
    cache.remember('k3', answer(3), grant, now, cache.ticket());
    expect(cache.size().entries).toBe(3);
    expect(cache.answer('k1', grant, now)).toBeUndefined();
    expect(cache.answer('k0', grant, now)).toBeDefined();
  });

  it('keeps its bytes under maxBytes however long the tokens are', () => {
    const cache = new LocalTokenCache({ maxAgeMs: BOUND_MS, maxBytes: 10_000 });
    const now = Date.now();
    for (let i = 0; i < 50; i++) {
      cache.remember(`k${i}`, answer(i, 1_000), grant, now, cache.ticket());
      expect(cache.size().bytes).toBeLessThanOrEqual(10_000);
    }
    expect(cache.size().entries).toBeGreaterThan(0);
    expect(cache.answer('k49', grant, now)).toBeDefined();
  });
});
