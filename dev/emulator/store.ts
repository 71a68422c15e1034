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

export type TokenStanding = 'active' | 'revoked' | 'deleted' | 'unknown';

const second = (ms: number): number => Math.floor(ms / 1000);

/** In-memory identities of the emulated resource. */
export class IdentityStore {
  private readonly records = new Map<string, IdentityRecord>();

  constructor(private readonly resourceId: string) {}

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
    return true;
  }

  /** Returns false when the identity is unknown or already deleted. */
  delete(id: string): boolean {
    const record = this.records.get(id);
    if (!record || record.deleted) return false;
    record.deleted = true;
    record.recent = [];
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

  clear(): void {
    this.records.clear();
  }
}
