import type { TableClient } from '@azure/data-tables';
import { AppError } from '../domain/errors';
import type {
  PoolSlot,
  PoolSlotState,
  PoolSlotUpdate,
  PoolStore,
  PoolSummary,
} from '../domain/identityPool';
import {
  createIfAbsent,
  createTableIfAbsent,
  deleteIfMatch,
  replaceIfMatch,
} from './conditionalWrites';
import { statusOf } from './restError';

/**
 * Pool slots share the identity map's table, in a partition of their own: one partition makes
 * every slot write atomic, and its name can never be a principal's (those are two hex digits).
 * Whoever lists the table for orphans therefore sees pooled identities as tracked.
 */
export const POOL_PARTITION = 'pool';
const SUMMARY_PARTITION = 'poolsummary';
const SUMMARY_ROW = 'summary';

/**
 * An OData string literal (single quotes doubled), as the SDK's `odata` tag writes it; the SDK's
 * module is only loaded lazily (cold start), so its helper is not imported here.
 */
const text = (value: string) => `'${value.replace(/'/g, "''")}'`;

interface SlotEntity {
  partitionKey: string;
  rowKey: string;
  state: PoolSlotState;
  communicationUserId: string;
  sealed: string;
  tokenExpiresOn: number;
  leaseUntil: number;
  claimedBy: string;
  claimedAt: number;
}

interface SummaryEntity extends Omit<PoolSummary, 'oldestIssuedAt'> {
  partitionKey: string;
  rowKey: string;
  oldestIssuedAt: number;
}

/** `PoolStore` on Azure Table Storage (or Azurite). */
export class TableIdentityPool implements PoolStore {
  private ready_: Promise<TableClient> | undefined;

  constructor(
    private readonly connect: () => Promise<TableClient>,
    private readonly timeoutMs = 5_000,
  ) {}

  async ready(from: string, limit: number): Promise<PoolSlot[]> {
    const page = (filter: string) =>
      this.call(async (table, abortSignal) => {
        const out: PoolSlot[] = [];
        const pages = table
          .listEntities<SlotEntity>({ queryOptions: { filter }, abortSignal })
          .byPage({ maxPageSize: limit });
        for await (const entities of pages) {
          for (const entity of entities) out.push(toSlot(entity));
          break; // one page is all a claim needs
        }
        return out.slice(0, limit);
      });
    const after = await page(
      `PartitionKey eq ${text(POOL_PARTITION)} and RowKey ge ${text(from)} and state eq 'ready'`,
    );
    if (after.length >= limit || from === '') return after;
    const before = await page(
      `PartitionKey eq ${text(POOL_PARTITION)} and RowKey lt ${text(from)} and state eq 'ready'`,
    );
    return [...after, ...before].slice(0, limit);
  }

  async list(): Promise<PoolSlot[]> {
    return this.call(async (table, abortSignal) => {
      const out: PoolSlot[] = [];
      const filter = `PartitionKey eq ${text(POOL_PARTITION)}`;
      for await (const entity of table.listEntities<SlotEntity>({
        queryOptions: { filter },
        abortSignal,
      })) {
        out.push(toSlot(entity));
      }
      return out;
    }, 60_000);
  }

  async insert(slot: string, next: PoolSlotUpdate): Promise<PoolSlot | undefined> {
    const entity = toEntity(slot, next);
    return this.call(async (table, abortSignal) => {
      const etag = await createIfAbsent(table, entity, abortSignal);
      return etag === undefined ? undefined : toSlot({ ...entity, etag });
    });
  }

  async replace(slot: PoolSlot, next: PoolSlotUpdate): Promise<PoolSlot | undefined> {
    const entity = toEntity(slot.slot, next);
    return this.call(async (table, abortSignal) => {
      const etag = await replaceIfMatch(table, entity, slot.etag, abortSignal);
      return etag === undefined ? undefined : toSlot({ ...entity, etag });
    });
  }

  async remove(slot: PoolSlot): Promise<boolean> {
    return this.call((table, abortSignal) =>
      deleteIfMatch(table, POOL_PARTITION, slot.slot, slot.etag, abortSignal),
    );
  }

  async summary(): Promise<PoolSummary | undefined> {
    return this.call(async (table, abortSignal) => {
      try {
        const e = await table.getEntity<SummaryEntity>(SUMMARY_PARTITION, SUMMARY_ROW, {
          abortSignal,
        });
        return {
          ready: Number(e.ready),
          claimed: Number(e.claimed),
          target: Number(e.target),
          ...(e.oldestIssuedAt ? { oldestIssuedAt: Number(e.oldestIssuedAt) } : {}),
          ranAt: Number(e.ranAt),
        };
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
    });
  }

  async writeSummary(summary: PoolSummary): Promise<void> {
    await this.call(async (table, abortSignal) => {
      const entity: SummaryEntity = {
        partitionKey: SUMMARY_PARTITION,
        rowKey: SUMMARY_ROW,
        ...summary,
        oldestIssuedAt: summary.oldestIssuedAt ?? 0,
      };
      await table.upsertEntity(entity, 'Replace', { abortSignal });
    });
  }

  private async call<T>(
    operation: (table: TableClient, signal: AbortSignal) => Promise<T>,
    timeoutMs = this.timeoutMs,
  ): Promise<T> {
    try {
      this.ready_ ??= this.open().catch((err: unknown) => {
        this.ready_ = undefined;
        throw err;
      });
      return await operation(await this.ready_, AbortSignal.timeout(timeoutMs));
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw new AppError('storage_unavailable', 'The identity pool is unavailable.', {
        retryAfterSeconds: 5,
        cause: err,
      });
    }
  }

  private async open(): Promise<TableClient> {
    const table = await this.connect();
    await createTableIfAbsent(table);
    return table;
  }
}

function toEntity(slot: string, next: PoolSlotUpdate): SlotEntity {
  return {
    partitionKey: POOL_PARTITION,
    rowKey: slot,
    state: next.state,
    communicationUserId: next.communicationUserId ?? '',
    sealed: next.sealed ?? '',
    tokenExpiresOn: next.tokenExpiresOn ?? 0,
    leaseUntil: next.leaseUntil ?? 0,
    claimedBy: next.claimedBy ?? '',
    claimedAt: next.claimedAt ?? 0,
  };
}

function toSlot(entity: Partial<SlotEntity> & { rowKey?: string; etag: string }): PoolSlot {
  const n = (v: unknown) => Number(v ?? 0);
  return {
    slot: entity.rowKey ?? '',
    state: entity.state ?? 'discarding',
    ...(entity.communicationUserId ? { communicationUserId: entity.communicationUserId } : {}),
    ...(entity.sealed ? { sealed: entity.sealed } : {}),
    ...(n(entity.tokenExpiresOn) ? { tokenExpiresOn: n(entity.tokenExpiresOn) } : {}),
    ...(n(entity.leaseUntil) ? { leaseUntil: n(entity.leaseUntil) } : {}),
    ...(entity.claimedBy ? { claimedBy: entity.claimedBy } : {}),
    ...(n(entity.claimedAt) ? { claimedAt: n(entity.claimedAt) } : {}),
    etag: entity.etag,
  };
}
