import { randomUUID } from 'node:crypto';

import type { EmulatorIdentity } from './types';

interface IssuedRecently {
  jti: string;
  atMs: number;
}

interface IdentityRecord {
  id: string;
  createdAtMs: number;
  deleted: boolean;
  revokedAtMs?: number;
  /** Tokens issued in the same second as the last revocation, but before it. */
  revokedInSameSecond: Set<string>;
  /** Tokens issued during the current second; enough to settle same-second revocations. */
  recent: IssuedRecently[];
  tokensIssued: number;
}

/** One identity as a state file keeps it (see `persistence.ts`). */
export interface StoredIdentity {
  id: string;
  createdAtMs: number;
  deleted: boolean;
  revokedAtMs?: number | undefined;
  revokedInSameSecond: string[];
  tokensIssued: number;
}

export type TokenStanding = 'active' | 'revoked' | 'deleted' | 'unknown';

const second = (ms: number): number => Math.floor(ms / 1000);

/**
 * Identities of the emulated resource, in memory. `revision` counts changes, so the emulator
 * knows when there is something to save (see `EmulatorState.persist`).
 */
export class IdentityStore {
  private readonly records = new Map<string, IdentityRecord>();
  private changes = 0;

  constructor(
    readonly resourceId: string,
    restored: readonly StoredIdentity[] = [],
  ) {
    for (const r of restored) {
      this.records.set(r.id, {
        id: r.id,
        createdAtMs: r.createdAtMs,
        deleted: r.deleted,
        ...(r.revokedAtMs === undefined ? {} : { revokedAtMs: r.revokedAtMs }),
        revokedInSameSecond: new Set(r.revokedInSameSecond),
        recent: [],
        tokensIssued: r.tokensIssued,
      });
    }
  }

  get revision(): number {
    return this.changes;
  }

  /**
   * Whether an id is one this resource could have made. ACS ids carry the resource id
   * (`8:acs:<resourceId>_<guid>`); ACS refuses any other with 401 IdentityNotOwned.
   */
  owns(id: string): boolean {
    return id.startsWith(`8:acs:${this.resourceId}_`);
  }

  create(nowMs: number): string {
    const id = `8:acs:${this.resourceId}_${randomUUID()}`;
    this.records.set(id, {
      id,
      createdAtMs: nowMs,
      deleted: false,
      revokedInSameSecond: new Set(),
      recent: [],
      tokensIssued: 0,
    });
    this.changes += 1;
    return id;
  }

  /** True when the identity exists and has not been deleted. */
  isLive(id: string): boolean {
    return this.records.get(id)?.deleted === false;
  }

  recordIssued(id: string, jti: string, nowMs: number): void {
    const record = this.records.get(id);
    if (!record) return;
    record.tokensIssued += 1;
    record.recent = record.recent.filter((t) => second(t.atMs) === second(nowMs));
    record.recent.push({ jti, atMs: nowMs });
    this.changes += 1;
  }

  /** Returns false when the identity is unknown or deleted. */
  revoke(id: string, nowMs: number): boolean {
    const record = this.records.get(id);
    if (!record || record.deleted) return false;
    record.revokedAtMs = nowMs;
    // Token iat has whole-second precision, so a token issued earlier in this very second
    // cannot be told apart by time from one issued just after the revoke; its jti can.
    record.revokedInSameSecond = new Set(
      record.recent.filter((t) => second(t.atMs) === second(nowMs)).map((t) => t.jti),
    );
    this.changes += 1;
    return true;
  }

  /** Returns false when the identity is unknown or already deleted. */
  delete(id: string): boolean {
    const record = this.records.get(id);
    if (!record || record.deleted) return false;
    record.deleted = true;
    record.recent = [];
    this.changes += 1;
    return true;
  }

  /** Whether a token for `sub`, issued at `iat` (seconds) with id `jti`, still stands. */
  standing(sub: string, iat: number, jti: string): TokenStanding {
    const record = this.records.get(sub);
    if (!record) return 'unknown';
    if (record.deleted) return 'deleted';
    if (record.revokedAtMs === undefined) return 'active';
    const revokedSecond = second(record.revokedAtMs);
    if (iat < revokedSecond) return 'revoked';
    if (iat === revokedSecond && record.revokedInSameSecond.has(jti)) return 'revoked';
    return 'active';
  }

  list(): EmulatorIdentity[] {
    return [...this.records.values()].map((r) => ({
      id: r.id,
      createdAt: new Date(r.createdAtMs).toISOString(),
      deleted: r.deleted,
      ...(r.revokedAtMs === undefined ? {} : { revokedAt: new Date(r.revokedAtMs).toISOString() }),
      tokensIssued: r.tokensIssued,
    }));
  }

  summary(): { total: number; active: number; deleted: number } {
    let deleted = 0;
    for (const r of this.records.values()) if (r.deleted) deleted += 1;
    return { total: this.records.size, active: this.records.size - deleted, deleted };
  }

  /** What a state file keeps: everything but the current second's issue log. */
  snapshot(): StoredIdentity[] {
    return [...this.records.values()].map((r) => ({
      id: r.id,
      createdAtMs: r.createdAtMs,
      deleted: r.deleted,
      ...(r.revokedAtMs === undefined ? {} : { revokedAtMs: r.revokedAtMs }),
      revokedInSameSecond: [...r.revokedInSameSecond],
      tokensIssued: r.tokensIssued,
    }));
  }

  clear(): void {
    this.records.clear();
    this.changes += 1;
  }
}
