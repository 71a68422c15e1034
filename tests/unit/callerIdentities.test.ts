import { randomBytes } from 'node:crypto';
import { CallerIdentities } from '../../src/domain/callerIdentities';
import { AppError } from '../../src/domain/errors';
import type { MappingRecord, MappingUpdate } from '../../src/domain/identityMap';
import { AesTokenSealer } from '../../src/infra/aesTokenSealer';
import { FakeIdentityService, MemoryIdentityMap } from '../support/fakes';

const grant = { scopes: ['voip' as const], expiresInMinutes: 60 };

/** A memory map that lets a test hold a write (the creator storing its identity and token). */
class HoldingMap extends MemoryIdentityMap {
  beforeReplace: (next: MappingUpdate) => Promise<void> = () => Promise.resolve();
  override async replace(
    record: MappingRecord,
    next: MappingUpdate,
  ): Promise<MappingRecord | undefined> {
    await this.beforeReplace(next);
    return super.replace(record, next);
  }
}

function setup(
  options: { leaseMs?: number; waitMs?: number; realTime?: boolean; cache?: boolean } = {},
) {
  const identity = new FakeIdentityService();
  const map = new HoldingMap();
  let clock = 1_000_000;
  const callers = new CallerIdentities({
    identity,
    map,
    leaseMs: options.leaseMs ?? 15_000,
    waitMs: options.waitMs ?? 12_000,
    ...(options.cache ? { cache: new AesTokenSealer(randomBytes(32)) } : {}),
    ...(options.realTime
      ? {}
      : {
          now: () => clock,
          // Waiting advances the fake clock, so lease expiry is exercised without real time.
          sleep: (ms: number) => {
            clock += ms;
            return new Promise<void>((resolve) => setImmediate(resolve));
          },
        }),
  });
  return { identity, map, callers, advance: (ms: number) => (clock += ms) };
}

describe('CallerIdentities', () => {
  it('creates the identity on first use with one ACS call, then reuses it', async () => {
    const { identity, callers, map } = setup();
    const first = await callers.token('p1', grant);
    expect(identity.calls).toEqual(['createUserAndToken']);
    const second = await callers.token('p1', grant);
    expect(identity.calls).toEqual(['createUserAndToken', 'getToken']);
    expect(second.communicationUserId).toBe(first.communicationUserId);
    expect(map.rows.get('p1')).toMatchObject({
      communicationUserId: first.communicationUserId,
      generation: 0,
    });
    expect(map.rows.get('p1')?.leaseUntil).toBeUndefined();
  });

  it('gives 50 concurrent first requests one identity and creates no other', async () => {
    const { identity, callers } = setup({ realTime: true });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    identity.before = (op) => (op === 'createUserAndToken' ? gate : Promise.resolve());
    const answers = Promise.all(Array.from({ length: 50 }, () => callers.token('p1', grant)));
    await new Promise((r) => setTimeout(r, 20));
    release();
    const ids = new Set((await answers).map((a) => a.communicationUserId));
    expect(ids.size).toBe(1);
    expect(identity.calls.filter((c) => c === 'createUserAndToken')).toHaveLength(1);
    expect(identity.live.size).toBe(1);
  });

  it('takes over a reservation whose holder died, once its lease has run out', async () => {
    const { identity, callers, map, advance } = setup({ leaseMs: 15_000 });
    await map.reserve('p1', 1_000_000 + 15_000); // a holder that never finishes
    advance(15_001);
    const answer = await callers.token('p1', grant);
    expect(identity.live.has(answer.communicationUserId)).toBe(true);
    expect(map.rows.get('p1')?.communicationUserId).toBe(answer.communicationUserId);
  });

  it('answers 503 when a live reservation is not finished within the wait', async () => {
    const { callers, map } = setup({ leaseMs: 60_000, waitMs: 1_000 });
    await map.reserve('p1', 1_000_000 + 60_000);
    await expect(callers.token('p1', grant)).rejects.toMatchObject({
      code: 'upstream_unavailable',
      retryAfterSeconds: 1,
    });
  });

  it('deletes what it created when its lease was taken over meanwhile', async () => {
    const { identity, callers, map } = setup();
    identity.before = async (op) => {
      if (op !== 'createUserAndToken' || identity.calls.length > 1) return;
      // While the first creation is in flight, another instance takes the row over and finishes.
      const row = await map.get('p1');
      if (row) await map.replace(row, { communicationUserId: '8:acs:other_1', generation: 0 });
      identity.live.add('8:acs:other_1');
    };
    const answer = await callers.token('p1', grant);
    expect(answer.communicationUserId).toBe('8:acs:other_1');
    expect([...identity.live]).toEqual(['8:acs:other_1']);
    expect(identity.calls).toEqual(['createUserAndToken', 'deleteUser', 'getToken']);
  });

  it('frees the reservation when ACS fails, so the next request can try at once', async () => {
    const { identity, callers, map } = setup();
    identity.before = () => Promise.reject(new AppError('upstream_unavailable', 'down'));
    await expect(callers.token('p1', grant)).rejects.toMatchObject({
      code: 'upstream_unavailable',
    });
    expect(map.rows.size).toBe(0);
    identity.before = () => Promise.resolve();
    await expect(callers.token('p1', grant)).resolves.toMatchObject({
      communicationUserId: expect.anything() as unknown,
    });
  });

  it('heals a mapping whose identity was deleted elsewhere', async () => {
    const { identity, callers, map } = setup();
    const first = await callers.token('p1', grant);
    identity.live.delete(first.communicationUserId);
    const healed = await callers.token('p1', grant);
    expect(healed.communicationUserId).not.toBe(first.communicationUserId);
    expect(map.rows.get('p1')).toMatchObject({
      communicationUserId: healed.communicationUserId,
      generation: 1,
    });
  });

  it('revokes by bumping the generation, and removes idempotently', async () => {
    const { identity, callers, map } = setup();
    const user = await callers.token('p1', grant);
    await callers.revoke('p1');
    expect(map.rows.get('p1')?.generation).toBe(1);
    await callers.remove('p1');
    await callers.remove('p1');
    expect(identity.live.has(user.communicationUserId)).toBe(false);
    expect(map.rows.size).toBe(0);
    expect(await callers.find('p1')).toBeUndefined();
    await expect(callers.revoke('p1')).resolves.toBeUndefined();
  });

  describe('while the same user keeps fetching tokens', () => {
    const chat = { scopes: ['chat' as const], expiresInMinutes: 60 };
    /** Every ACS call of `operation` overlaps one token request of p1 that writes its row. */
    function busyUser(setupResult: ReturnType<typeof setup>, operation: string, limit: number) {
      const { identity, callers } = setupResult;
      let fetches = 0;
      identity.before = async (op) => {
        if (op !== operation || fetches >= limit) return;
        fetches++;
        // Alternating scopes misses the cache, so each request rewrites the row (a new etag).
        await callers.token('p1', fetches % 2 ? chat : grant);
      };
      return () => fetches;
    }

    it('completes a revoke with one ACS call', async () => {
      const user = setup({ cache: true });
      await user.callers.token('p1', grant);
      const fetches = busyUser(user, 'revokeTokens', 1_000);
      await user.callers.revoke('p1');
      expect(fetches()).toBeGreaterThan(0);
      expect(user.identity.calls.filter((c) => c === 'revokeTokens')).toHaveLength(1);
      expect(user.map.rows.get('p1')?.generation).toBe(1);
    });

    it('completes a delete without deleting the same identity twice', async () => {
      const user = setup({ cache: true });
      const first = await user.callers.token('p1', grant);
      // Token requests that overlap the delete only rewrite the cache entry of the same identity.
      let rewrites = 0;
      user.identity.before = async (op) => {
        if (op !== 'deleteUser' || ++rewrites > 1_000) return;
        const row = await user.map.get('p1');
        if (row) await user.map.replace(row, { ...row, cache: 'rewritten' });
      };
      await user.callers.remove('p1');
      expect(user.identity.calls.filter((c) => c === 'deleteUser')).toHaveLength(1);
      expect(user.identity.live.has(first.communicationUserId)).toBe(false);
      expect(user.map.rows.size).toBe(0);
    });

    it('gives up a delete after a bounded number of passes, backing off, orphaning nothing', async () => {
      const user = setup({ cache: true });
      await user.callers.token('p1', grant);
      // Each delete reaches ACS just before a token request of the same user, which finds its
      // identity gone and heals the row with a new one.
      let heals = 0;
      user.identity.before = async (op) => {
        if (op !== 'deleteUser' || ++heals > 1_000) return;
        const row = await user.map.get('p1');
        if (row?.communicationUserId) user.identity.live.delete(row.communicationUserId);
        await user.callers.token('p1', grant);
      };
      const sleeps: number[] = [];
      const callers = new CallerIdentities({
        identity: user.identity,
        map: user.map,
        leaseMs: 15_000,
        waitMs: 12_000,
        sleep: (ms) => {
          sleeps.push(ms);
          return Promise.resolve();
        },
      });
      await expect(callers.remove('p1')).rejects.toMatchObject({
        code: 'upstream_unavailable',
        retryAfterSeconds: 1,
      });
      const deletes = user.identity.calls.filter((c) => c === 'deleteUser').length;
      expect(deletes).toBeLessThanOrEqual(5);
      expect(sleeps.length).toBe(deletes - 1);
      expect(sleeps.every((ms) => ms > 0)).toBe(true);
      // The only live identity is the one the row maps.
      expect([...user.identity.live]).toEqual([user.map.rows.get('p1')?.communicationUserId]);
    });
  });

  describe('a revoke or a delete racing the first token request (issue #19)', () => {
    /** A point a call stops at until released; `reached` resolves once it got there. */
    function holdPoint() {
      let arrive!: () => void;
      let release!: () => void;
      const reached = new Promise<void>((resolve) => (arrive = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      return {
        reached,
        release,
        hold: () => {
          arrive();
          return released;
        },
      };
    }
    const settle = (ms = 50) => new Promise((resolve) => setTimeout(resolve, ms));
    const pending = (promise: Promise<unknown>) => {
      let done = false;
      void promise.then(
        () => (done = true),
        () => (done = true),
      );
      return () => !done;
    };

    it('a revoke before ACS created the identity waits for it, then revokes its token', async () => {
      const { identity, callers, map } = setup({ realTime: true, cache: true });
      const create = holdPoint();
      identity.before = (op) => (op === 'createUserAndToken' ? create.hold() : Promise.resolve());
      const first = callers.token('p1', grant);
      await create.reached;
      const revoke = callers.revoke('p1');
      const revoking = pending(revoke);
      await settle();
      expect(revoking()).toBe(true); // no 204 while the identity is still being made
      create.release();
      const issued = await first;
      await revoke;
      expect(identity.calls).toEqual(['createUserAndToken', 'revokeTokens']);
      expect(map.rows.get('p1')).toMatchObject({
        communicationUserId: issued.communicationUserId,
        generation: 1,
      });
      const after = await callers.token('p1', grant);
      expect(after.accessToken.token).not.toBe(issued.accessToken.token);
    });

    it('a revoke after ACS created it but before the row records it waits for the row', async () => {
      const { identity, callers, map } = setup({ realTime: true, cache: true });
      const write = holdPoint();
      map.beforeReplace = (next) =>
        next.communicationUserId && next.cache ? write.hold() : Promise.resolve();
      const first = callers.token('p1', grant);
      await write.reached; // ACS has made the identity and its token; the row is a reservation
      const revoke = callers.revoke('p1');
      const revoking = pending(revoke);
      await settle();
      expect(revoking()).toBe(true);
      expect(identity.calls).toEqual(['createUserAndToken']);
      map.beforeReplace = () => Promise.resolve();
      write.release();
      const issued = await first;
      await revoke;
      expect(identity.calls).toEqual(['createUserAndToken', 'revokeTokens']);
      expect(map.rows.get('p1')?.generation).toBe(1);
      const after = await callers.token('p1', grant);
      expect(after.accessToken.token).not.toBe(issued.accessToken.token);
      expect(identity.calls).toEqual(['createUserAndToken', 'revokeTokens', 'getToken']);
    });

    it('a revoke after the row records it moves the generation: the sealed copy does not open', async () => {
      const { identity, callers } = setup({ realTime: true, cache: true });
      const issued = await callers.token('p1', grant);
      expect((await callers.token('p1', grant)).accessToken.token).toBe(issued.accessToken.token);
      await callers.revoke('p1');
      const after = await callers.token('p1', grant);
      expect(after.accessToken.token).not.toBe(issued.accessToken.token);
      expect(identity.calls).toEqual(['createUserAndToken', 'revokeTokens', 'getToken']);
    });

    it('a revoke that waited past its bound answers 503 with Retry-After, having touched nothing', async () => {
      const { identity, callers, map } = setup({ leaseMs: 60_000, waitMs: 1_000 });
      const reservation = await map.reserve('p1', 1_000_000 + 60_000);
      for (const act of [() => callers.revoke('p1'), () => callers.remove('p1')]) {
        await expect(act()).rejects.toMatchObject({
          code: 'upstream_unavailable',
          retryAfterSeconds: 1,
        });
      }
      expect(identity.calls).toEqual([]);
      expect(map.rows.get('p1')).toEqual(reservation);
    });

    it('a revoke on an expired reservation takes it from a late holder, which deletes what it made', async () => {
      const { identity, callers, map } = setup({ realTime: true, cache: true, leaseMs: 30 });
      const create = holdPoint();
      identity.before = (op) =>
        op === 'createUserAndToken' && identity.calls.length === 1
          ? create.hold()
          : Promise.resolve();
      const first = callers.token('p1', grant);
      await create.reached;
      await settle(60); // the holder outlives its lease
      await callers.revoke('p1');
      expect(map.rows.get('p1')).toMatchObject({ generation: 1 });
      expect(map.rows.get('p1')?.communicationUserId).toBeUndefined();
      create.release();
      const issued = await first;
      // The late holder's write failed: it deleted its identity (and with it the token made
      // before the revoke) and made a new one under the new generation.
      expect(identity.calls).toEqual(['createUserAndToken', 'deleteUser', 'createUserAndToken']);
      expect([...identity.live]).toEqual([issued.communicationUserId]);
      expect(map.rows.get('p1')).toMatchObject({
        communicationUserId: issued.communicationUserId,
        generation: 1,
      });
    });

    it('a delete before ACS created the identity waits for it, then deletes it and its row', async () => {
      const { identity, callers, map } = setup({ realTime: true, cache: true });
      const create = holdPoint();
      identity.before = (op) => (op === 'createUserAndToken' ? create.hold() : Promise.resolve());
      const first = callers.token('p1', grant);
      await create.reached;
      const remove = callers.remove('p1');
      const removing = pending(remove);
      await settle();
      expect(removing()).toBe(true);
      create.release();
      const issued = await first;
      await remove;
      expect(identity.calls).toEqual(['createUserAndToken', 'deleteUser']);
      expect(identity.live.has(issued.communicationUserId)).toBe(false);
      expect(map.rows.size).toBe(0);
    });

    it('a delete that ACS refuses after the wait fails, leaving the identity mapped', async () => {
      const { identity, callers, map } = setup({ realTime: true, cache: true });
      const create = holdPoint();
      identity.before = (op) => {
        if (op === 'createUserAndToken') return create.hold();
        if (op === 'deleteUser')
          return Promise.reject(new AppError('upstream_unavailable', 'down'));
        return Promise.resolve();
      };
      const first = callers.token('p1', grant);
      await create.reached;
      const remove = callers.remove('p1');
      create.release();
      const issued = await first;
      await expect(remove).rejects.toMatchObject({ code: 'upstream_unavailable' });
      // Not orphaned: the row still maps the identity, so a retried delete finds it.
      expect(map.rows.get('p1')?.communicationUserId).toBe(issued.communicationUserId);
      expect([...identity.live]).toEqual([issued.communicationUserId]);
    });
  });
});
