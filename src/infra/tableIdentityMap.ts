import type { TableClient, TableEntityResult } from '@azure/data-tables';
import type { TokenCredential } from '@azure/identity';
import type { TableConnection } from '../config';
import { isLoopback } from '../loopback';
import { createAzureCredential } from './azureCredential';
import { AppError } from '../domain/errors';
import type { IdentityMap, MappingRecord, MappingUpdate } from '../domain/identityMap';
import {
  createIfAbsent,
  createTableIfAbsent,
  deleteIfMatch,
  replaceIfMatch,
} from './conditionalWrites';
import { statusOf, underlyingFailure } from './restError';

interface MappingEntity {
  partitionKey: string;
  rowKey: string;
  communicationUserId: string;
  leaseUntil: number;
  generation: number;
  cache: string;
}

/**
 * Retries of the Table client, the same whichever way it authenticates (with a managed identity
 * the SDK default of 3 used to apply): each map call has its own deadline (`timeoutMs`), and a
 * failed call is reported as `storage_unavailable`, so two retries is all a request can afford.
 */
export const TABLE_RETRY_OPTIONS = { maxRetries: 2 };

/**
 * Builds the Table client: a connection string (Azurite, Cosmos DB) or an Entra ID credential,
 * by default the app's managed identity (src/infra/azureCredential.ts), made only on that path.
 */
export async function createTableClient(
  connection: TableConnection,
  credential?: TokenCredential | (() => Promise<TokenCredential>),
): Promise<TableClient> {
  const { TableClient } = await import('@azure/data-tables');
  if (connection.kind === 'connectionString') {
    const endpoint = /TableEndpoint=([^;]+)/i.exec(connection.connectionString)?.[1];
    const local = endpoint
      ? isLoopback(new URL(endpoint))
      : /UseDevelopmentStorage=true/i.test(connection.connectionString);
    return TableClient.fromConnectionString(connection.connectionString, connection.table, {
      allowInsecureConnection: local,
      retryOptions: TABLE_RETRY_OPTIONS,
    });
  }
  const tokenCredential =
    typeof credential === 'function'
      ? await credential()
      : (credential ??
        (await createAzureCredential({ kind: 'managedIdentity', clientId: undefined })));
  return new TableClient(connection.endpoint.href, connection.table, tokenCredential, {
    allowInsecureConnection: isLoopback(connection.endpoint),
    retryOptions: TABLE_RETRY_OPTIONS,
  });
}

/**
 * `IdentityMap` on Azure Table Storage. Rows are spread over 256 partitions by the first byte of
 * the principal's hash; every write is conditional on the etag that was read.
 */
export class TableIdentityMap implements IdentityMap {
  private ready: Promise<TableClient> | undefined;

  constructor(
    private readonly connect: () => Promise<TableClient>,
    private readonly timeoutMs = 5_000,
  ) {}

  async get(principalKey: string): Promise<MappingRecord | undefined> {
    return this.call(async (table, abortSignal) => {
      try {
        const entity = await table.getEntity<MappingEntity>(
          partitionOf(principalKey),
          principalKey,
          { abortSignal },
        );
        return toRecord(entity);
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
    });
  }

  async reserve(principalKey: string, leaseUntil: number): Promise<MappingRecord | undefined> {
    return this.insert(principalKey, { leaseUntil, generation: 0 });
  }

  async insert(principalKey: string, next: MappingUpdate): Promise<MappingRecord | undefined> {
    const entity = toEntity(principalKey, next);
    return this.call(async (table, abortSignal) => {
      const etag = await createIfAbsent(table, entity, abortSignal);
      return etag === undefined ? undefined : toRecord({ ...entity, etag });
    });
  }

  async replace(record: MappingRecord, next: MappingUpdate): Promise<MappingRecord | undefined> {
    const entity = toEntity(record.principalKey, next);
    return this.call(async (table, abortSignal) => {
      const etag = await replaceIfMatch(table, entity, record.etag, abortSignal);
      return etag === undefined ? undefined : toRecord({ ...entity, etag });
    });
  }

  async remove(record: MappingRecord): Promise<boolean> {
    return this.call((table, abortSignal) =>
      deleteIfMatch(
        table,
        partitionOf(record.principalKey),
        record.principalKey,
        record.etag,
        abortSignal,
      ),
    );
  }

  /**
   * Readiness: opens the table a token request would use (the client, its credential and the
   * table itself), once. Resolves with the failure instead of throwing.
   */
  async openFailure(): Promise<unknown> {
    try {
      await this.call(() => Promise.resolve());
      return undefined;
    } catch (err) {
      return underlyingFailure(err);
    }
  }

  private async call<T>(
    operation: (table: TableClient, signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    try {
      this.ready ??= this.open().catch((err: unknown) => {
        this.ready = undefined;
        throw err;
      });
      return await operation(await this.ready, AbortSignal.timeout(this.timeoutMs));
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw new AppError(
        'storage_unavailable',
        'The identity map is unavailable; try again shortly.',
        {
          retryAfterSeconds: 5,
          cause: err,
        },
      );
    }
  }

  private async open(): Promise<TableClient> {
    const table = await this.connect();
    await createTableIfAbsent(table);
    return table;
  }
}

function partitionOf(principalKey: string): string {
  return principalKey.slice(0, 2);
}

function toEntity(principalKey: string, next: MappingUpdate): MappingEntity {
  return {
    partitionKey: partitionOf(principalKey),
    rowKey: principalKey,
    communicationUserId: next.communicationUserId ?? '',
    leaseUntil: next.leaseUntil ?? 0,
    generation: next.generation,
    cache: next.cache ?? '',
  };
}

function toRecord(
  entity: TableEntityResult<MappingEntity> | (MappingEntity & { etag: string }),
): MappingRecord {
  return {
    principalKey: entity.rowKey ?? '',
    ...(entity.communicationUserId ? { communicationUserId: entity.communicationUserId } : {}),
    ...(entity.leaseUntil ? { leaseUntil: Number(entity.leaseUntil) } : {}),
    generation: Number(entity.generation ?? 0),
    ...(entity.cache ? { cache: entity.cache } : {}),
    etag: entity.etag,
  };
}
