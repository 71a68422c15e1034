import { randomBytes } from 'node:crypto';
import { CallerIdentities } from '../../src/domain/callerIdentities';
import { AppError } from '../../src/domain/errors';
import { PoolClaims, poolBinding, type PoolSlot } from '../../src/domain/identityPool';
import { fillPool, PoolBudget, type PoolFillerOptions } from '../../src/domain/poolFiller';
import { issueToken } from '../../src/domain/issueToken';
import { AesTokenSealer } from '../../src/infra/aesTokenSealer';
import { FakeIdentityService, MemoryIdentityMap, MemoryPoolStore } from '../support/fakes';

const grant = { scopes: ['voip' as const], expiresInMinutes: 60 };
const SCOPE = 'epoch|fingerprint';

function setup(size = 10) {
  const identity = new FakeIdentityService();
  const map = new MemoryIdentityMap();
  const store = new MemoryPoolStore();
  const sealer = new AesTokenSealer(randomBytes(32));
  const claims = (
    scope = SCOPE,
    extra: Partial<ConstructorParameters<typeof PoolClaims>[0]> = {},
  ) => new PoolClaims({ store, sealer, scope, grant, size, ...extra });
  const callers = (pool = claims()) =>
    new CallerIdentities({
      identity,
      map,
      leaseMs: 15_000,
      waitMs: 12_000,
      cache: sealer,
      cacheScope: SCOPE,
      pool,
    });
  const fill = (extra: Partial<PoolFillerOptions> = {}) =>
    fillPool({
      store,
      map,
      identity,
      sealer,
      scope: SCOPE,
      grant,
      size,
      budget: new PoolBudget(1),
      claimLeaseMs: 50,
      fillLeaseMs: 15_000,
      deadline: Date.now() + 10_000,
      ...extra,
    });
  const pooledIds = () =>
    new Set([...store.slots.values()].map((s) => s.communicationUserId).filter(Boolean));
  const acsCalls = () => identity.calls.length;
  return { identity, map, store, sealer, claims, callers, fill, pooledIds, acsCalls };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('identity pool: filling', () => {
  it('fills every slot once with one createUserAndToken each, and seals each token to its slot', async () => {
    const { fill, store, identity, sealer } = setup(10);
    const report = await fill();
    expect(report).toMatchObject({ created: 10, ready: 10, target: 10 });
    expect(identity.calls).toEqual(Array(10).fill('createUserAndToken'));
    for (const slot of store.slots.values()) {
      expect(slot.state).toBe('ready');
      const id = slot.communicationUserId ?? '';
      expect(sealer.open(slot.sealed ?? '', poolBinding(slot.slot, id, SCOPE))).toBeDefined();
      // Bound: the same entry does not open as another slot's or under another scope.
      expect(sealer.open(slot.sealed ?? '', poolBinding('s999999', id, SCOPE))).toBeUndefined();
      expect(sealer.open(slot.sealed ?? '', poolBinding(slot.slot, id, 'other'))).toBeUndefined();
    }
    expect(store.saved).toMatchObject({ ready: 10, claimed: 0, target: 10 });
    // A second run has nothing to do.
    expect(await fill()).toMatchObject({ created: 0, refreshed: 0 });
    expect(identity.calls).toHaveLength(10);
  });

  it('never holds more than POOL_SIZE, even with two fillers at once (no singleton)', async () => {
    const { fill, store, identity } = setup(25);
    identity.before = () => sleep(Math.random() * 5);
    await Promise.all([fill(), fill(), fill()]);
    expect(store.slots.size).toBe(25);
    // Every identity ACS made is in the pool: a lost race deletes what it made.
    expect([...identity.live].sort()).toEqual(
      [...store.slots.values()].map((s) => s.communicationUserId).sort(),
    );
  });

  it('spends at most POOL_QUOTA_SHARE of an ACS window, then waits for the window', async () => {
    let clock = 1_000_000;
    const { store, identity, map, sealer } = setup(40);
    const budget = new PoolBudget(0.01, () => clock); // 10 creates per 30 s
    const run = (deadline: number) =>
      fillPool({
        store,
        map,
        identity,
        sealer,
        scope: SCOPE,
        grant,
        size: 40,
        budget,
        claimLeaseMs: 50,
        fillLeaseMs: 15_000,
        deadline,
        now: () => clock,
        sleep: (ms) => {
          clock += ms;
          return Promise.resolve();
        },
      });
    const first = await run(clock + 1_000);
    expect(first).toMatchObject({ created: 10, stoppedBy: 'deadline' });
    const second = await run(clock + 65_000);
    // Two more windows' worth within the 65 s, never more.
    expect(second.created).toBeLessThanOrEqual(30);
    expect(second.created).toBeGreaterThanOrEqual(20);
  });

  it('stops at once when ACS throttles, and makes no call while the gate is shut', async () => {
    const { fill, identity, store } = setup(30);
    let calls = 0;
    identity.before = (op) => {
      if (op === 'createUserAndToken' && ++calls > 3) {
        return Promise.reject(new AppError('upstream_throttled', 'throttled'));
      }
      return Promise.resolve();
    };
    const report = await fill({ concurrency: 1 });
    expect(report.stoppedBy).toBe('throttled');
    expect(report.created).toBe(3);
    expect(calls).toBe(4);
    // The slot that was being filled is freed, not left behind as a reservation.
    expect([...store.slots.values()].every((s) => s.state === 'ready')).toBe(true);
  });

  it('re-issues tokens that would soon stop serving, and tokens sealed under an old key or epoch', async () => {
    const { fill, store, identity, sealer } = setup(4);
    await fill();
    const [first, second] = [...store.slots.values()] as PoolSlot[];
    // One about to stop serving (20 min left of 60), one sealed under a previous TOKEN_CACHE_EPOCH.
    store.slots.set(first!.slot, { ...first!, tokenExpiresOn: Date.now() + 20 * 60_000 });
    const id = second!.communicationUserId ?? '';
    store.slots.set(second!.slot, {
      ...second!,
      sealed: sealer.seal(
        { token: 'old', expiresOn: Date.now() + 3_600_000, scopes: ['voip'] },
        poolBinding(second!.slot, id, 'previous-epoch'),
      ),
    });
    identity.calls.length = 0;
    const report = await fill();
    expect(report.refreshed).toBe(2);
    expect(identity.calls).toEqual(['getToken', 'getToken']);
    const after = store.slots.get(second!.slot)!;
    expect(sealer.open(after.sealed ?? '', poolBinding(after.slot, id, SCOPE))?.token).not.toBe(
      'old',
    );
  });
});

describe('identity pool: claims', () => {
  it('answers a new principal from the pool with no ACS call; the slot leaves the pool once', async () => {
    const { fill, callers, identity, map, store, pooledIds } = setup(3);
    await fill();
    const before = pooledIds();
    identity.calls.length = 0;
    const answer = await callers().token('p1', grant);
    expect(identity.calls).toEqual([]);
    expect(before.has(answer.communicationUserId)).toBe(true);
    expect(map.rows.get('p1')?.communicationUserId).toBe(answer.communicationUserId);
    await sleep(5);
    expect(pooledIds().has(answer.communicationUserId)).toBe(false);
    expect(store.slots.size).toBe(2);
    // Returning: its sealed cache entry answers, still no ACS call.
    expect((await callers().token('p1', grant)).accessToken.token).toBe(answer.accessToken.token);
    expect(identity.calls).toEqual([]);
  });

  it('never gives one pooled identity to two principals, across two instances racing', async () => {
    const { fill, callers, claims, identity, map, store, pooledIds } = setup(20);
    await fill();
    const pooled = pooledIds();
    // Two instances: each its own PoolClaims (its own candidate list), one shared store and map.
    const a = callers(claims(SCOPE, { random: () => 0 }));
    const b = callers(claims(SCOPE, { random: () => 0 }));
    store.beforeWrite = () => sleep(Math.random() * 3);
    const principals = Array.from({ length: 40 }, (_, i) => `p${i}`);
    const answers = await Promise.all(principals.map((p, i) => (i % 2 ? a : b).token(p, grant)));
    const ids = answers.map((x) => x.communicationUserId);
    expect(new Set(ids).size).toBe(40);
    const handedOut = ids.filter((id) => pooled.has(id));
    const creates = identity.calls.filter((c) => c === 'createUserAndToken').length - 20;
    // Every principal that missed the pool cost one create; none got a pooled identity twice.
    expect(creates).toBe(40 - handedOut.length);
    expect(handedOut.length).toBeGreaterThanOrEqual(10);
    for (const p of principals) expect(map.rows.get(p)?.communicationUserId).toBeDefined();
    await sleep(20);
    // Each claimed identity left the pool exactly once; the rest are still there, ready.
    const left = [...store.slots.values()];
    expect(left.every((s) => s.state === 'ready')).toBe(true);
    expect(left.length + handedOut.length).toBe(20);
    for (const s of left) expect(handedOut).not.toContain(s.communicationUserId);
  });

  it('gives concurrent first requests of one principal one identity, and returns the spare slot', async () => {
    const { fill, callers, claims, store, map } = setup(5);
    await fill();
    const a = callers(claims());
    const b = callers(claims());
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).token('same', grant)),
    );
    expect(new Set(answers.map((x) => x.communicationUserId)).size).toBe(1);
    await sleep(20);
    // Only the winner's slot left; the others went back to the pool.
    expect(store.slots.size).toBe(4);
    expect([...store.slots.values()].every((s) => s.state === 'ready')).toBe(true);
    expect(map.rows.get('same')?.communicationUserId).toBe(answers[0]?.communicationUserId);
  });

  it('crash between taking the slot and writing the mapping: the filler deletes the identity nobody got', async () => {
    const { fill, callers, claims, identity, map, store } = setup(1);
    await fill();
    const [slot] = [...store.slots.values()];
    const pooled = slot!.communicationUserId!;
    const crashing = callers(
      claims(SCOPE, {
        afterClaimRecorded: () => Promise.reject(new Error('process died here')),
      }),
    );
    await expect(crashing.token('p1', grant)).rejects.toThrow('process died here');
    expect(store.slots.get(slot!.slot)).toMatchObject({ state: 'claimed', claimedBy: 'p1' });
    expect(map.rows.get('p1')).toBeUndefined();
    // Within the claim's lease the filler leaves it alone; after it, it finishes the claim.
    await sleep(60);
    identity.calls.length = 0;
    const report = await fill({ size: 0 });
    expect(report.discarded).toBe(1);
    expect(identity.calls).toEqual(['deleteUser']);
    expect(identity.live.has(pooled)).toBe(false);
    expect(store.slots.size).toBe(0);
    // The principal's next request works: the expired reservation left there is taken over.
    const answer = await callers().token('p1', grant);
    expect(answer.communicationUserId).not.toBe(pooled);
    expect(map.rows.get('p1')?.communicationUserId).toBe(answer.communicationUserId);
  });

  it('crash after the mapping was written: the filler clears the slot and deletes nothing', async () => {
    const { fill, callers, identity, map, store } = setup(1);
    await fill();
    const [slot] = [...store.slots.values()];
    // The slot's delete (step 3) is lost.
    store.beforeWrite = (op) =>
      op === 'remove' ? Promise.reject(new Error('lost')) : Promise.resolve();
    const answer = await callers().token('p1', grant);
    expect(answer.communicationUserId).toBe(slot!.communicationUserId);
    store.beforeWrite = () => Promise.resolve();
    await sleep(60);
    identity.calls.length = 0;
    const report = await fill({ size: 0 });
    expect(report).toMatchObject({ cleared: 1, discarded: 0 });
    expect(identity.calls).toEqual([]);
    expect(identity.live.has(answer.communicationUserId)).toBe(true);
    expect(map.rows.get('p1')?.communicationUserId).toBe(answer.communicationUserId);
  });

  it('a claim slower than its lease cannot land after the filler gave up on it', async () => {
    const { fill, callers, claims, identity, map, store } = setup(1);
    await fill();
    const pooled = [...store.slots.values()][0]!.communicationUserId!;
    let resume!: () => void;
    const paused = new Promise<void>((resolve) => (resume = resolve));
    const slow = callers(claims(SCOPE, { afterClaimRecorded: () => paused }));
    const answer = slow.token('p1', grant);
    await sleep(60);
    await fill({ size: 0 }); // the lease ran out: expired reservation for p1, pooled identity deleted
    resume();
    const got = await answer;
    expect(got.communicationUserId).not.toBe(pooled);
    expect(identity.live.has(pooled)).toBe(false);
    expect(map.rows.get('p1')?.communicationUserId).toBe(got.communicationUserId);
  });

  it('falls back to today’s path for another grant, an empty pool, or after a key rotation', async () => {
    const { fill, callers, claims, identity } = setup(2);
    // Empty pool: one createUserAndToken, as without a pool.
    await callers().token('empty', grant);
    expect(identity.calls).toEqual(['createUserAndToken']);
    await fill();
    identity.calls.length = 0;
    await callers().token('chat', { scopes: ['chat'], expiresInMinutes: 60 });
    await callers().token('longer', { scopes: ['voip'], expiresInMinutes: 120 });
    expect(identity.calls).toEqual(['createUserAndToken', 'createUserAndToken']);
    // Sealed under the old credential: a rotated instance never serves them.
    identity.calls.length = 0;
    await callers(claims('rotated|key')).token('rotated', grant);
    expect(identity.calls).toEqual(['createUserAndToken']);
  });

  it('revoke and delete after a claim behave as for any identity', async () => {
    const { fill, callers, identity, map } = setup(1);
    await fill();
    const first = await callers().token('p1', grant);
    identity.calls.length = 0;
    await callers().revoke('p1');
    expect(identity.calls).toEqual(['revokeTokens']);
    expect(map.rows.get('p1')?.generation).toBe(1);
    // The token sealed at claim time is bound to generation 0: a revoke retires it.
    const after = await callers().token('p1', grant);
    expect(after.communicationUserId).toBe(first.communicationUserId);
    expect(after.accessToken.token).not.toBe(first.accessToken.token);
    await callers().remove('p1');
    expect(identity.live.has(first.communicationUserId)).toBe(false);
    expect(map.rows.get('p1')).toBeUndefined();
  });

  it('key mode: a request for a new identity takes one from the pool by one etag delete', async () => {
    const { fill, claims, identity, store, pooledIds } = setup(3);
    await fill();
    const before = pooledIds();
    identity.calls.length = 0;
    const pool = claims();
    const access = { identity, callers: undefined, pool };
    const caller = { kind: 'keyHolder' as const, keyId: 'k' };
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => issueToken(access, caller, grant)),
    );
    const fromPool = answers.filter((a) => before.has(a.communicationUserId));
    expect(fromPool).toHaveLength(3);
    expect(new Set(answers.map((a) => a.communicationUserId)).size).toBe(5);
    expect(identity.calls).toEqual(['createUserAndToken', 'createUserAndToken']);
    expect(store.slots.size).toBe(0);
  });
});

describe('identity pool: refresh pacing', () => {
  it('starts re-issuing early when the budget could not re-issue a batch in time', async () => {
    const { fill, store } = setup(40);
    await fill();
    // All 40 stop serving (35 min left → refresh line) in 60 s; 10 issues per 30 s take 120 s.
    const soon = Date.now() + 36 * 60_000;
    for (const slot of store.slots.values()) {
      store.slots.set(slot.slot, { ...slot, tokenExpiresOn: soon });
    }
    const report = await fill({ budget: new PoolBudget(0.01), deadline: Date.now() + 500 });
    // Not all are due yet, but some already are, and the budget's 10 are spent on them.
    expect(report.refreshed).toBe(10);
    // With budget to spare and nothing close, nothing is re-issued early.
    const relaxed = await fill({ budget: new PoolBudget(1) });
    expect(relaxed.refreshed).toBe(0);
  });
});
