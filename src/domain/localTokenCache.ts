import { CallerIdentities, type CallerIdentitiesOptions } from './callerIdentities';
import type { IssuedIdentity } from './identityService';
import { servesGrant, toCachedToken, type CachedToken } from './tokenCache';
import type { TokenGrant } from './tokenPolicy';

/** At most this many principals are remembered per process… */
const LOCAL_CACHE_MAX_ENTRIES = 10_000;
/** … and at most about this many bytes of their keys, identities and tokens (16 MiB). */
const LOCAL_CACHE_MAX_BYTES = 16 * 1024 * 1024;
/** What an entry costs beyond its strings: the Map slot, the objects, the scopes array. */
const ENTRY_OVERHEAD_BYTES = 256;

interface LocalEntry {
  communicationUserId: string;
  cached: CachedToken;
  /** When the identity map last showed this token as current (epoch ms). */
  confirmedAt: number;
  bytes: number;
}

interface LocalTokenCacheOptions {
  /** How long an entry answers without a look at the identity map (TOKEN_CACHE_LOCAL_SECONDS). */
  maxAgeMs: number;
  maxEntries?: number;
  maxBytes?: number;
}

/**
 * A principal's current token, remembered in this process so that a hot returning principal is
 * answered without touching the identity map. It sits in front of the sealed cache in the map's
 * row, which stays the one truth shared by all instances:
 * - an entry answers for at most `maxAgeMs` after the map last confirmed it, so a revoke or a
 *   delete made on another instance (which changes the row) is seen here within that time;
 * - a revoke or a delete on this instance forgets the entry at once;
 * - least recently used entries go first, within an entry cap and a byte cap.
 * Keys are principal keys: this class never logs them, nor anything else.
 */
export class LocalTokenCache {
  private readonly entries = new Map<string, LocalEntry>();
  private bytes = 0;
  /** Bumped by every forget(): a fill that began before it may carry what was just revoked. */
  private forgets = 0;
  private readonly maxEntries: number;
  private readonly maxBytes: number;

  constructor(private readonly options: LocalTokenCacheOptions) {
    this.maxEntries = options.maxEntries ?? LOCAL_CACHE_MAX_ENTRIES;
    this.maxBytes = options.maxBytes ?? LOCAL_CACHE_MAX_BYTES;
  }

  /** The remembered token when it is recent enough and serves the grant; else undefined. */
  answer(key: string, grant: TokenGrant, now: number): IssuedIdentity | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (now - entry.confirmedAt >= this.options.maxAgeMs || now < entry.confirmedAt) {
      this.drop(key, entry);
      return undefined;
    }
    if (!servesGrant(entry.cached, grant, now)) return undefined;
    // Most recently used goes last in the Map's order.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return {
      communicationUserId: entry.communicationUserId,
      accessToken: { token: entry.cached.token, expiresOn: new Date(entry.cached.expiresOn) },
    };
  }

  /** Taken before reading the identity map; `remember` refuses a fill older than a forget. */
  ticket(): number {
    return this.forgets;
  }

  /** Remembers the answer just given from the identity map (or from ACS) as current at `now`. */
  remember(
    key: string,
    answer: IssuedIdentity,
    grant: TokenGrant,
    now: number,
    ticket: number,
  ): void {
    if (ticket !== this.forgets) return;
    const { communicationUserId } = answer;
    const cached = toCachedToken(answer.accessToken, grant);
    const old = this.entries.get(key);
    if (old) this.drop(key, old);
    const bytes =
      2 * (key.length + communicationUserId.length + cached.token.length) + ENTRY_OVERHEAD_BYTES;
    if (bytes > this.maxBytes) return;
    this.entries.set(key, { communicationUserId, cached, confirmedAt: now, bytes });
    this.bytes += bytes;
    for (const [oldestKey, oldest] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.drop(oldestKey, oldest);
    }
  }

  /** Forgets the principal at once (a revoke or a delete on this instance). */
  forget(key: string): void {
    this.forgets += 1;
    const entry = this.entries.get(key);
    if (entry) this.drop(key, entry);
  }

  /** How many principals and bytes are held (for tests and the docs' memory bound). */
  size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }

  private drop(key: string, entry: LocalEntry): void {
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }
}

/**
 * CallerIdentities with the in-process layer in front: a remembered answer needs no identity-map
 * read; a revoke or a delete on this instance forgets the principal before it starts and again
 * when it ends, so a request that read the row meanwhile cannot leave the old token behind.
 */
export class LocallyCachedCallers extends CallerIdentities {
  private readonly clock: () => number;

  constructor(
    options: CallerIdentitiesOptions,
    private readonly local: LocalTokenCache,
  ) {
    super(options);
    this.clock = options.now ?? Date.now;
  }

  override async token(key: string, grant: TokenGrant): Promise<IssuedIdentity> {
    const remembered = this.local.answer(key, grant, this.clock());
    if (remembered) return remembered;
    const ticket = this.local.ticket();
    const answer = await super.token(key, grant);
    this.local.remember(key, answer, grant, this.clock(), ticket);
    return answer;
  }

  override async revoke(key: string): Promise<void> {
    this.local.forget(key);
    try {
      await super.revoke(key);
    } finally {
      this.local.forget(key);
    }
  }

  override async remove(key: string): Promise<void> {
    this.local.forget(key);
    try {
      await super.remove(key);
    } finally {
      this.local.forget(key);
    }
  }
}
