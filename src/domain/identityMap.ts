/**
 * One row per principal. While `communicationUserId` is absent the row is a reservation: the
 * request holding its lease is creating the ACS identity, the others wait for it.
 */
export interface MappingRecord {
  principalKey: string;
  communicationUserId?: string;
  /** Epoch ms until which a reservation belongs to the request that made it. */
  leaseUntil?: number;
  /** Bumped whenever the identity's tokens are revoked or the identity is replaced. */
  generation: number;
  /** The principal's last token, sealed by the token cache (see `TokenSealer`). */
  cache?: string;
  etag: string;
}

export type MappingUpdate = Pick<
  MappingRecord,
  'communicationUserId' | 'leaseUntil' | 'generation' | 'cache'
>;

/**
 * Storage for principal → ACS identity, with optimistic concurrency: every write names the etag
 * it read, so two instances can never both believe they own a principal's identity.
 */
export interface IdentityMap {
  get(principalKey: string): Promise<MappingRecord | undefined>;
  /** Inserts a reservation; `undefined` when a row for the principal exists already. */
  reserve(principalKey: string, leaseUntil: number): Promise<MappingRecord | undefined>;
  /**
   * Inserts a complete row (a pooled identity claimed for a new principal); `undefined` when a
   * row for the principal exists already.
   */
  insert(principalKey: string, next: MappingUpdate): Promise<MappingRecord | undefined>;
  /** Replaces the row if it is still the one read; `undefined` when someone changed it since. */
  replace(record: MappingRecord, next: MappingUpdate): Promise<MappingRecord | undefined>;
  /** Deletes the row if it is still the one read (or is gone already); false when it changed. */
  remove(record: MappingRecord): Promise<boolean>;
}
