import { AppError, isIdentityNotFound } from './errors';
import type { IdentityService, IssuedIdentity } from './identityService';
import type { IdentityMap, MappingRecord } from './identityMap';
import { servesGrant, toCachedToken, type TokenSealer } from './tokenCache';
import type { TokenGrant } from './tokenPolicy';

export interface CallerIdentitiesOptions {
  identity: IdentityService;
  map: IdentityMap;
  /** How long a reservation is honoured; longer than one ACS call can take. */
  leaseMs: number;
  /** How long a request waits for another one to finish creating the identity. */
  waitMs: number;
  /** Keeps each principal's last token, sealed, in its row; undefined turns the cache off. */
  cache?: TokenSealer | undefined;
  /**
   * Also binds every cache entry (the ACS credential's fingerprint and TOKEN_CACHE_EPOCH): an entry
   * sealed under another credential or epoch does not open, so a rotated key's tokens are never
   * served from the cache.
   */
  cacheScope?: string;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Told when a mapped identity turned out to be gone and is being replaced. */
  onIdentityGone?: () => void;
}

/** Passes a revoke or delete makes before it gives up on a row that keeps changing under it. */
const MAX_CONTENDED_PASSES = 5;

/**
 * Keeps exactly one ACS identity per principal, across requests, instances and restarts.
 *
 * The first request of a principal reserves its row in the identity map before it calls ACS, so
 * concurrent first requests wait for the winner instead of creating identities they would have to
 * delete. A reservation whose holder died expires and is taken over. When ACS no longer knows a
 * mapped identity (deleted elsewhere, or made by another resource) the row is re-reserved and a
 * new identity created.
 */
export class CallerIdentities {
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: CallerIdentitiesOptions) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** A token for the principal's identity, creating the identity on first use. */
  async token(key: string, grant: TokenGrant): Promise<IssuedIdentity> {
    const giveUpAt = this.now() + this.options.waitMs;
    for (let attempt = 0; ; attempt++) {
      const record = await this.options.map.get(key);
      let owned: MappingRecord | undefined;
      if (!record) {
        owned = await this.options.map.reserve(key, this.now() + this.options.leaseMs);
      } else if (record.communicationUserId) {
        try {
          return await this.tokenFor(record, record.communicationUserId, grant);
        } catch (err) {
          if (!isIdentityNotFound(err)) throw err;
          this.options.onIdentityGone?.();
          // Deleted behind our back: take the row back as a reservation and start afresh.
          owned = await this.options.map.replace(record, this.reservation(record.generation + 1));
        }
      } else if ((record.leaseUntil ?? 0) <= this.now()) {
        owned = await this.options.map.replace(record, this.reservation(record.generation)); // holder died
      }
      if (owned) {
        const issued = await this.createFor(owned, grant);
        if (issued) return issued;
        continue; // lost the row while creating; what we made is gone again, read the winner's
      }
      if (this.now() >= giveUpAt) {
        throw new AppError(
          'upstream_unavailable',
          'Your ACS identity is still being set up; try again.',
          {
            retryAfterSeconds: 1,
          },
        );
      }
      await this.sleep(Math.min(25 * 2 ** Math.min(attempt, 3), 200));
    }
  }

  /** The principal's identity, if it has one. */
  async find(key: string): Promise<string | undefined> {
    return (await this.options.map.get(key))?.communicationUserId;
  }

  /**
   * Revokes every token of the principal's identity; a principal without one has none to revoke.
   * ACS is called once per identity: a pass that lost its write to a concurrent one (a token
   * request storing its cache entry) only has to bump the generation again. A first request still
   * creating the identity is waited for (see `settled`), so its token is revoked too.
   */
  async revoke(key: string): Promise<void> {
    const giveUpAt = this.now() + this.options.waitMs;
    let revoked: string | undefined;
    for (let pass = 0; ; pass++) {
      const record = await this.settled(key, giveUpAt);
      if (!record) return;
      if (!record.communicationUserId) {
        // An expired reservation. Its holder may only be late: still about to write its identity
        // and token under this etag. Moving the generation makes that write fail, and the holder
        // then deletes what it made (see `createFor`), so nothing made before this answer survives.
        const taken = await this.options.map.replace(record, {
          communicationUserId: undefined,
          leaseUntil: record.leaseUntil,
          generation: record.generation + 1,
        });
        if (taken) return;
        await this.backOff(pass);
        continue;
      }
      if (record.communicationUserId !== revoked) {
        try {
          await this.options.identity.revokeTokens(record.communicationUserId);
        } catch (err) {
          if (!isIdentityNotFound(err)) throw err;
        }
        revoked = record.communicationUserId;
      }
      // The generation bump is what tells token caches on every instance about the revocation.
      const next = {
        communicationUserId: record.communicationUserId,
        generation: record.generation + 1,
      };
      if (await this.options.map.replace(record, next)) return;
      await this.backOff(pass);
    }
  }

  /**
   * Deletes the principal's ACS identity (revoking its tokens) and then its row. Idempotent. Like
   * `revoke`, it waits for a first request still creating the identity, deletes each identity
   * once and gives up after a few contended passes. Removing an expired reservation makes a late
   * holder's write fail, and the holder deletes what it made.
   */
  async remove(key: string): Promise<void> {
    const giveUpAt = this.now() + this.options.waitMs;
    let deleted: string | undefined;
    for (let pass = 0; ; pass++) {
      const record = await this.settled(key, giveUpAt);
      if (!record) return;
      const id = record.communicationUserId;
      if (id && id !== deleted) {
        try {
          await this.options.identity.deleteUser(id);
        } catch (err) {
          if (!isIdentityNotFound(err)) throw err;
        }
        deleted = id;
      }
      if (await this.options.map.remove(record)) return;
      await this.backOff(pass);
    }
  }

  /**
   * The principal's row once no request is creating its identity: no row, a mapped identity, or
   * a reservation whose lease ran out. A revoke or a delete that acted on a live reservation would
   * miss the identity and token its holder is about to store and hand out (issue #19), so it
   * waits for the holder as `token()` does. Waiting longer than `waitMs` answers 503 with
   * Retry-After, never a 204 that revoked nothing.
   */
  private async settled(key: string, giveUpAt: number): Promise<MappingRecord | undefined> {
    for (let attempt = 0; ; attempt++) {
      const record = await this.options.map.get(key);
      if (!record || record.communicationUserId || (record.leaseUntil ?? 0) <= this.now()) {
        return record;
      }
      if (this.now() >= giveUpAt) {
        throw new AppError(
          'upstream_unavailable',
          'Your ACS identity is still being set up; try again.',
          { retryAfterSeconds: 1 },
        );
      }
      await this.sleep(Math.min(25 * 2 ** Math.min(attempt, 3), 200));
    }
  }

  /**
   * Between passes of a loop whose conditional write lost to a concurrent one. Each pass may
   * cost an ACS call, so a row that keeps changing ends the loop with a 503 instead of spinning.
   */
  private async backOff(pass: number): Promise<void> {
    if (pass + 1 >= MAX_CONTENDED_PASSES) {
      throw new AppError('upstream_unavailable', 'Your ACS identity is busy; try again.', {
        retryAfterSeconds: 1,
      });
    }
    await this.sleep(25 * 2 ** pass);
  }

  /**
   * A returning principal: its cached token when that still serves the grant (no ACS call, no
   * write), else a new one from ACS, remembered in the same row for next time.
   */
  private async tokenFor(
    record: MappingRecord,
    id: string,
    grant: TokenGrant,
  ): Promise<IssuedIdentity> {
    const binding = this.bindingOf(record.principalKey, id, record.generation);
    const cached = record.cache ? this.options.cache?.open(record.cache, binding) : undefined;
    if (cached && servesGrant(cached, grant, this.now())) {
      return {
        communicationUserId: id,
        accessToken: { token: cached.token, expiresOn: new Date(cached.expiresOn) },
      };
    }
    const token = await this.options.identity.getToken(id, grant.scopes, grant.expiresInMinutes);
    if (this.options.cache) {
      const cache = this.options.cache.seal(toCachedToken(token, grant), binding);
      // Best effort: losing this write (a concurrent change, a storage blip) only costs a miss.
      await this.options.map
        .replace(record, { communicationUserId: id, generation: record.generation, cache })
        .catch(() => undefined);
    }
    return { communicationUserId: id, accessToken: token };
  }

  /**
   * What a sealed cache entry is bound to: one principal, one identity, one revocation generation,
   * and the cache scope (credential and epoch) it was written under.
   */
  private bindingOf(principalKey: string, communicationUserId: string, generation: number) {
    const base = `${principalKey}|${communicationUserId}|${generation}`;
    return this.options.cacheScope === undefined ? base : `${base}|${this.options.cacheScope}`;
  }

  private reservation(generation: number) {
    return {
      communicationUserId: undefined,
      leaseUntil: this.now() + this.options.leaseMs,
      generation,
    };
  }

  /** Creates the identity for a row we hold; undefined when the row was taken from us meanwhile. */
  private async createFor(
    owned: MappingRecord,
    grant: TokenGrant,
  ): Promise<IssuedIdentity | undefined> {
    let issued;
    try {
      issued = await this.options.identity.createUserAndToken(grant.scopes, grant.expiresInMinutes);
    } catch (err) {
      // Free the reservation so the next request can try at once instead of waiting out the lease.
      await this.options.map.remove(owned).catch(() => false);
      throw err;
    }
    const id = issued.communicationUserId;
    let done;
    try {
      done = await this.options.map.replace(owned, {
        communicationUserId: id,
        generation: owned.generation,
        cache: this.options.cache?.seal(
          toCachedToken(issued.accessToken, grant),
          this.bindingOf(owned.principalKey, id, owned.generation),
        ),
      });
    } catch (err) {
      // The map could not record it (a storage timeout under load): nobody could ever reach this
      // identity again. Should the write have landed after all, the row names a deleted identity,
      // which the next request replaces.
      await this.options.identity.deleteUser(id).catch(() => undefined);
      throw err;
    }
    if (done) return issued;
    // Our lease ran out and another request took the row over: never leave our identity orphaned.
    await this.options.identity.deleteUser(id).catch(() => undefined);
    return undefined;
  }
}
