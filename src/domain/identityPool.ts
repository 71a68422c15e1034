import type { IssuedIdentity } from './identityService';
import type { IdentityMap } from './identityMap';
import { servesGrant, type CachedToken, type TokenSealer } from './tokenCache';
import type { TokenGrant } from './tokenPolicy';

/**
 * One slot of the identity pool. A slot's life: `filling` (the filler holds it while ACS creates
 * the identity) → `ready` (an identity and its sealed token, waiting) → `claimed` (one principal's
 * claim is recorded; its mapping is being written) → gone. `discarding` is the way out for an
 * identity nobody may have: the filler deletes it in ACS, then the row.
 */
export type PoolSlotState = 'filling' | 'ready' | 'claimed' | 'discarding';

export interface PoolSlot {
  /** The slot's key, `s000000` … one per place in the pool, so it never holds more than its size. */
  slot: string;
  state: PoolSlotState;
  communicationUserId?: string;
  /** The token, sealed like a cache entry and bound by `poolBinding`. */
  sealed?: string;
  /** When the token expires (epoch ms), in the clear: for the filler's refresh and for health. */
  tokenExpiresOn?: number;
  /** `filling`: until when the filler that took the slot owns it. */
  leaseUntil?: number;
  /** `claimed`: the principal key the identity is promised to (`key` for a key-mode claim). */
  claimedBy?: string;
  claimedAt?: number;
  etag: string;
}

export type PoolSlotUpdate = Omit<PoolSlot, 'slot' | 'etag'>;

/** What the filler leaves behind after each run, for /api/health (one read, not a listing). */
export interface PoolSummary {
  ready: number;
  /** Claims recorded but not yet cleared from the pool. */
  claimed: number;
  target: number;
  /** When the oldest ready token was issued (epoch ms); undefined for an empty pool. */
  oldestIssuedAt?: number;
  ranAt: number;
}

/**
 * Storage for pool slots, with the identity map's one rule: every write names the etag it read and
 * fails if the row changed since. All slots share one partition, so each write is atomic; the
 * principal's mapping lives in another partition, hence the claim protocol below.
 */
export interface PoolStore {
  /** Up to `limit` ready slots, in key order from `from` (wrapping to the start when short). */
  ready(from: string, limit: number): Promise<PoolSlot[]>;
  /** Every slot (the filler's view). */
  list(): Promise<PoolSlot[]>;
  /** Inserts a slot; undefined when it exists already. */
  insert(slot: string, next: PoolSlotUpdate): Promise<PoolSlot | undefined>;
  /** Replaces a slot if it is still the one read; undefined when it changed or is gone. */
  replace(slot: PoolSlot, next: PoolSlotUpdate): Promise<PoolSlot | undefined>;
  /** Deletes a slot if it is still the one read (or is gone); false when it changed. */
  remove(slot: PoolSlot): Promise<boolean>;
  summary(): Promise<PoolSummary | undefined>;
  writeSummary(summary: PoolSummary): Promise<void>;
}

/** The key of slot `index`: fixed width, so key order is index order. */
export function slotKey(index: number): string {
  return `s${String(index).padStart(6, '0')}`;
}

export function slotIndex(slot: string): number {
  return /^s\d{6}$/.test(slot) ? Number(slot.slice(1)) : Number.NaN;
}

/** What a pooled token is bound to: its slot, its identity, and the cache scope (key and epoch). */
export function poolBinding(slot: string, communicationUserId: string, scope: string): string {
  return `pool|${slot}|${communicationUserId}|${scope}`;
}

function sameScopes(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((s) => b.includes(s));
}

export interface PoolClaimsOptions {
  store: PoolStore;
  sealer: TokenSealer;
  /** The credential fingerprint and TOKEN_CACHE_EPOCH (`cacheScopeOf`). */
  scope: string;
  /** The grant the pool's tokens were issued for (POOL_SCOPES, POOL_TOKEN_EXPIRY_MINUTES). */
  grant: TokenGrant;
  size: number;
  now?: () => number;
  random?: () => number;
  /** Test seam: runs between recording a claim and writing the principal's mapping. */
  afterClaimRecorded?: (slot: PoolSlot) => Promise<void>;
}

/** How many candidates one request tries before it falls back to creating an identity. */
const CLAIM_ATTEMPTS = 4;
/** Candidates fetched per query. */
const CANDIDATES_PER_QUERY = 32;
/** After the pool was found empty, this instance asks again no sooner than this. */
const EMPTY_RECHECK_MS = 1_000;
/** Candidates older than this are dropped: other instances have claimed many of them since. */
const CANDIDATES_MAX_AGE_MS = 2_000;

interface Candidate {
  slot: PoolSlot;
  cached: CachedToken;
}

/** The result of a principal's claim: its answer, nothing to claim, or its row appeared meanwhile. */
export type PrincipalClaim = IssuedIdentity | 'none' | 'row-exists';

/**
 * Claims pooled identities for new callers. The claim of slot P by principal K:
 * 1. replace P `ready` → `claimed` by K, by etag: of all the requests that read P as ready, one
 *    wins; the slot never returns to `ready` unless its claimer knows K's row does not name it;
 * 2. insert K's mapping naming P's identity, with P's token sealed for K: the commit point;
 * 3. delete P (by etag). A crash between 1 and 2 leaves P `claimed`: the filler finishes it after
 *    the claim's lease (docs/design.md, "Identity pool").
 * No ACS call is made. Key mode skips 2: deleting P by etag is the claim.
 */
export class PoolClaims {
  private readonly now: () => number;
  private readonly random: () => number;
  private candidates: Candidate[] = [];
  private fetchedAt = 0;
  private emptyUntil = 0;
  private fetching: Promise<void> | undefined;

  constructor(private readonly options: PoolClaimsOptions) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  /** Whether the pool's tokens can answer this grant at all (same scopes, same lifetime). */
  serves(grant: TokenGrant): boolean {
    const pool = this.options.grant;
    return (
      grant.expiresInMinutes === pool.expiresInMinutes && sameScopes(grant.scopes, pool.scopes)
    );
  }

  /**
   * For a principal without a row: a pooled identity, its mapping written (sealed with `seal`).
   * `none` when the pool cannot help (empty, another grant, every candidate lost); `row-exists`
   * when the principal's row appeared meanwhile (a concurrent first request): read it again.
   */
  async forPrincipal(
    key: string,
    grant: TokenGrant,
    map: IdentityMap,
    sealFor: (communicationUserId: string, cached: CachedToken) => string,
  ): Promise<PrincipalClaim> {
    if (!this.serves(grant)) return 'none';
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      const candidate = await this.next(grant);
      if (!candidate) return 'none';
      const { slot, cached } = candidate;
      const id = slot.communicationUserId ?? '';
      const claimed = await this.options.store.replace(slot, {
        ...readyFields(slot),
        state: 'claimed',
        claimedBy: key,
        claimedAt: this.now(),
      });
      if (!claimed) continue; // another request took it first
      await this.options.afterClaimRecorded?.(claimed);
      const mapped = await map.insert(key, {
        communicationUserId: id,
        generation: 0,
        cache: sealFor(id, cached),
      });
      if (!mapped) {
        // A row exists: if a retried insert of ours made it, the claim is complete.
        const row = await map.get(key);
        if (row?.communicationUserId !== id) {
          // Never written anywhere: the slot may go back to the pool (its etag is still ours).
          await this.options.store
            .replace(claimed, { ...readyFields(slot), state: 'ready' })
            .catch(() => undefined);
          return 'row-exists';
        }
      }
      // Off the answer's path: if this delete is lost, the filler clears the slot.
      this.options.store.remove(claimed).catch(() => undefined);
      return toIssued(id, cached);
    }
    return 'none';
  }

  /** Key mode: a new identity for a trusted backend, taken from the pool by one etag delete. */
  async forKeyHolder(grant: TokenGrant): Promise<IssuedIdentity | undefined> {
    if (!this.serves(grant)) return undefined;
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      const candidate = await this.next(grant);
      if (!candidate) return undefined;
      if (await this.options.store.remove(candidate.slot)) {
        return toIssued(candidate.slot.communicationUserId ?? '', candidate.cached);
      }
    }
    return undefined;
  }

  /** The next ready slot whose token opens under the current scope and serves the grant. */
  private async next(grant: TokenGrant): Promise<Candidate | undefined> {
    for (;;) {
      if (this.now() - this.fetchedAt > CANDIDATES_MAX_AGE_MS) this.candidates = [];
      const candidate = this.candidates.pop();
      if (candidate) {
        if (servesGrant(candidate.cached, grant, this.now())) return candidate;
        continue;
      }
      if (this.now() < this.emptyUntil) return undefined;
      this.fetching ??= this.fetch().finally(() => (this.fetching = undefined));
      await this.fetching;
      if (this.candidates.length === 0) return undefined;
    }
  }

  /** One page of ready slots from a random place, so instances rarely chase the same ones. */
  private async fetch(): Promise<void> {
    const from = slotKey(Math.floor(this.random() * Math.max(1, this.options.size)));
    const slots = await this.options.store.ready(from, CANDIDATES_PER_QUERY);
    const usable: Candidate[] = [];
    for (const slot of slots) {
      const id = slot.communicationUserId;
      if (slot.state !== 'ready' || !id || !slot.sealed) continue;
      // Sealed under another key or epoch (a rotation): retired, never served; the filler re-issues.
      const cached = this.options.sealer.open(
        slot.sealed,
        poolBinding(slot.slot, id, this.options.scope),
      );
      if (cached) usable.push({ slot, cached });
    }
    // Taken from the end: reverse so that claims walk forward from the random start.
    this.candidates = usable.reverse();
    this.fetchedAt = this.now();
    if (usable.length === 0) this.emptyUntil = this.now() + EMPTY_RECHECK_MS;
  }
}

function readyFields(slot: PoolSlot): PoolSlotUpdate {
  return {
    state: 'ready',
    ...(slot.communicationUserId ? { communicationUserId: slot.communicationUserId } : {}),
    ...(slot.sealed ? { sealed: slot.sealed } : {}),
    ...(slot.tokenExpiresOn ? { tokenExpiresOn: slot.tokenExpiresOn } : {}),
  };
}

function toIssued(communicationUserId: string, cached: CachedToken): IssuedIdentity {
  return {
    communicationUserId,
    accessToken: { token: cached.token, expiresOn: new Date(cached.expiresOn) },
  };
}
