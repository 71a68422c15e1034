import type { AcsScope } from '../../src/domain/scopes';
import { AppError } from '../../src/domain/errors';
import type {
  AccessToken,
  IdentityService,
  IssuedIdentity,
} from '../../src/domain/identityService';
import type { IdentityMap, MappingRecord, MappingUpdate } from '../../src/domain/identityMap';
import type {
  PoolSlot,
  PoolSlotUpdate,
  PoolStore,
  PoolSummary,
} from '../../src/domain/identityPool';

/**
 * An identity map in memory, with the etag rules of Table Storage: the contract suite
 * (tests/integration/identityMapContract.test.ts) runs against both.
 */
export class MemoryIdentityMap implements IdentityMap {
  readonly rows = new Map<string, MappingRecord>();
  private version = 0;

  get(key: string): Promise<MappingRecord | undefined> {
    return Promise.resolve(this.rows.get(key));
  }

  reserve(key: string, leaseUntil: number): Promise<MappingRecord | undefined> {
    if (this.rows.has(key)) return Promise.resolve(undefined);
    return Promise.resolve(this.write(key, { leaseUntil, generation: 0 }));
  }

  insert(key: string, next: MappingUpdate): Promise<MappingRecord | undefined> {
    if (this.rows.has(key)) return Promise.resolve(undefined);
    return Promise.resolve(this.write(key, next));
  }

  replace(record: MappingRecord, next: MappingUpdate): Promise<MappingRecord | undefined> {
    if (this.rows.get(record.principalKey)?.etag !== record.etag) return Promise.resolve(undefined);
    return Promise.resolve(this.write(record.principalKey, next));
  }

  remove(record: MappingRecord): Promise<boolean> {
    const current = this.rows.get(record.principalKey);
    if (!current) return Promise.resolve(true);
    if (current.etag !== record.etag) return Promise.resolve(false);
    this.rows.delete(record.principalKey);
    return Promise.resolve(true);
  }

  private write(key: string, next: MappingUpdate): MappingRecord {
    const record: MappingRecord = {
      principalKey: key,
      ...(next.communicationUserId ? { communicationUserId: next.communicationUserId } : {}),
      ...(next.leaseUntil ? { leaseUntil: next.leaseUntil } : {}),
      generation: next.generation,
      ...(next.cache ? { cache: next.cache } : {}),
      etag: `e${++this.version}`,
    };
    this.rows.set(key, record);
    return record;
  }
}

/** ACS in memory: knows which identities exist, and lets a test pause or fail calls. */
export class FakeIdentityService implements IdentityService {
  readonly live = new Set<string>();
  readonly calls: string[] = [];
  private next = 0;
  private issued = 0;
  /** Runs before every call; a test can delay or throw here. */
  before: (operation: string) => Promise<void> = () => Promise.resolve();

  async createUserAndToken(scopes: AcsScope[], expiresInMinutes: number): Promise<IssuedIdentity> {
    await this.enter('createUserAndToken');
    const id = `8:acs:fake_${++this.next}`;
    this.live.add(id);
    return { communicationUserId: id, accessToken: this.token(id, scopes, expiresInMinutes) };
  }

  async getToken(id: string, scopes: AcsScope[], expiresInMinutes: number): Promise<AccessToken> {
    await this.enter('getToken');
    this.mustExist(id);
    return this.token(id, scopes, expiresInMinutes);
  }

  async revokeTokens(id: string): Promise<void> {
    await this.enter('revokeTokens');
    this.mustExist(id);
  }

  async deleteUser(id: string): Promise<void> {
    await this.enter('deleteUser');
    this.mustExist(id);
    this.live.delete(id);
  }

  async exchangeTeamsToken(_token: string, _appId: string, userId: string): Promise<AccessToken> {
    await this.enter('exchangeTeamsToken');
    return this.token(`8:orgid:${userId}`, ['voip'], 60);
  }

  private async enter(operation: string) {
    this.calls.push(operation);
    await this.before(operation);
  }

  private mustExist(id: string) {
    if (!this.live.has(id))
      throw new AppError('identity_not_found', 'That ACS identity does not exist.');
  }

  private token(id: string, scopes: AcsScope[], minutes: number): AccessToken {
    return {
      token: `token-${++this.issued}-for-${id}-${scopes.join('+')}`,
      expiresOn: new Date(Date.now() + minutes * 60_000),
    };
  }
}

/** The pool's store in memory, with Table Storage's etag rules (one partition: atomic writes). */
export class MemoryPoolStore implements PoolStore {
  readonly slots = new Map<string, PoolSlot>();
  saved: PoolSummary | undefined;
  private version = 0;
  /** Runs before every write; a test can delay or throw here. */
  beforeWrite: (op: 'insert' | 'replace' | 'remove', slot: string) => Promise<void> = () =>
    Promise.resolve();

  ready(from: string, limit: number): Promise<PoolSlot[]> {
    const sorted = [...this.slots.values()]
      .filter((s) => s.state === 'ready')
      .sort((a, b) => a.slot.localeCompare(b.slot));
    const after = sorted.filter((s) => s.slot >= from);
    const before = sorted.filter((s) => s.slot < from);
    return Promise.resolve([...after, ...before].slice(0, limit));
  }

  list(): Promise<PoolSlot[]> {
    return Promise.resolve([...this.slots.values()]);
  }

  async insert(slot: string, next: PoolSlotUpdate): Promise<PoolSlot | undefined> {
    await this.beforeWrite('insert', slot);
    if (this.slots.has(slot)) return undefined;
    return this.write(slot, next);
  }

  async replace(slot: PoolSlot, next: PoolSlotUpdate): Promise<PoolSlot | undefined> {
    await this.beforeWrite('replace', slot.slot);
    if (this.slots.get(slot.slot)?.etag !== slot.etag) return undefined;
    return this.write(slot.slot, next);
  }

  async remove(slot: PoolSlot): Promise<boolean> {
    await this.beforeWrite('remove', slot.slot);
    const current = this.slots.get(slot.slot);
    if (!current) return true;
    if (current.etag !== slot.etag) return false;
    this.slots.delete(slot.slot);
    return true;
  }

  summary(): Promise<PoolSummary | undefined> {
    return Promise.resolve(this.saved);
  }

  writeSummary(summary: PoolSummary): Promise<void> {
    this.saved = summary;
    return Promise.resolve();
  }

  private write(slot: string, next: PoolSlotUpdate): PoolSlot {
    const record: PoolSlot = { slot, ...next, etag: `p${++this.version}` };
    this.slots.set(slot, record);
    return record;
  }
}
