import type { TokenResponse } from '../contracts/token';
import { AppError } from './errors';
import type { AccessToken, IdentityService } from './identityService';
import type { IdentityMap, MappingRecord } from './identityMap';
import type { TokenGrant } from './tokenPolicy';

export interface CallerIdentitiesOptions {
  identity: IdentityService;
  map: IdentityMap;
  /** How long a reservation is honoured; longer than one ACS call can take. */
  leaseMs: number;
  /** How long a request waits for another one to finish creating the identity. */
  waitMs: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Told about identities this service created and then had to delete again. */
  onDiscarded?: (reason: string) => void;
}

const isNotFound = (err: unknown) => err instanceof AppError && err.code === 'identity_not_found';

function toResponse(communicationUserId: string, token: AccessToken): TokenResponse {
  return {
    user: { communicationUserId },
    token: token.token,
    expiresOn: token.expiresOn.toISOString(),
  };
}

/**
 * Keeps exactly one ACS identity per principal, across requests, instances and restarts.
 *
 * The first request of a principal reserves its row in the identity map before it calls ACS, so
 * concurrent first requests wait for the winner instead of creating identities they would have to
 * delete. A reservation whose holder died expires and is taken over. When ACS no longer knows a
 * mapped identity (deleted elsewhere) the row is re-reserved and a new identity created.
 */
export class CallerIdentities {
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly o: CallerIdentitiesOptions) {
    this.now = o.now ?? Date.now;
    this.sleep = o.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** A token for the principal's identity, creating the identity on first use. */
  async token(key: string, grant: TokenGrant): Promise<TokenResponse> {
    const giveUpAt = this.now() + this.o.waitMs;
    for (let attempt = 0; ; attempt++) {
      const record = await this.o.map.get(key);
      let owned: MappingRecord | undefined;
      if (!record) {
        owned = await this.o.map.reserve(key, this.now() + this.o.leaseMs);
      } else if (record.communicationUserId) {
        try {
          const token = await this.o.identity.getToken(
            record.communicationUserId,
            grant.scopes,
            grant.expiresInMinutes,
          );
          return toResponse(record.communicationUserId, token);
        } catch (err) {
          if (!isNotFound(err)) throw err;
          // Deleted behind our back: take the row back as a reservation and start afresh.
          owned = await this.o.map.replace(record, this.reservation(record.generation + 1));
        }
      } else if ((record.leaseUntil ?? 0) <= this.now()) {
        owned = await this.o.map.replace(record, this.reservation(record.generation)); // holder died
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
    return (await this.o.map.get(key))?.communicationUserId;
  }

  /** Revokes every token of the principal's identity; a principal without one has none to revoke. */
  async revoke(key: string): Promise<void> {
    for (;;) {
      const record = await this.o.map.get(key);
      if (!record?.communicationUserId) return;
      try {
        await this.o.identity.revokeTokens(record.communicationUserId);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      // The generation bump is what tells token caches on every instance about the revocation.
      const next = {
        communicationUserId: record.communicationUserId,
        generation: record.generation + 1,
      };
      if (await this.o.map.replace(record, next)) return;
    }
  }

  /** Deletes the principal's ACS identity (revoking its tokens) and then its row. Idempotent. */
  async remove(key: string): Promise<void> {
    for (;;) {
      const record = await this.o.map.get(key);
      if (!record) return;
      if (record.communicationUserId) {
        try {
          await this.o.identity.deleteUser(record.communicationUserId);
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
      if (await this.o.map.remove(record)) return;
    }
  }

  private reservation(generation: number) {
    return { communicationUserId: undefined, leaseUntil: this.now() + this.o.leaseMs, generation };
  }

  /** Creates the identity for a row we hold; undefined when the row was taken from us meanwhile. */
  private async createFor(
    owned: MappingRecord,
    grant: TokenGrant,
  ): Promise<TokenResponse | undefined> {
    let issued;
    try {
      issued = await this.o.identity.createUserAndToken(grant.scopes, grant.expiresInMinutes);
    } catch (err) {
      // Free the reservation so the next request can try at once instead of waiting out the lease.
      await this.o.map.remove(owned).catch(() => false);
      throw err;
    }
    const done = await this.o.map.replace(owned, {
      communicationUserId: issued.communicationUserId,
      generation: owned.generation,
    });
    if (done) return toResponse(issued.communicationUserId, issued.accessToken);
    // Our lease ran out and another request took the row over: never leave our identity orphaned.
    await this.o.identity.deleteUser(issued.communicationUserId).catch(() => undefined);
    this.o.onDiscarded?.('lease lost while creating');
    return undefined;
  }
}
