import type { TableClient, TableEntity } from '@azure/data-tables';
import { statusOf } from './restError';

/**
 * Table Storage's optimistic concurrency, read once for the identity map and the pool: each write
 * is conditional, and losing the condition is an answer (`undefined` / `false`), not a failure.
 * Every other error is thrown for the caller's retry and error mapping.
 */

/** Inserts `entity` unless its row exists (409): the new etag, or `undefined`. */
export async function createIfAbsent<T extends object>(
  table: TableClient,
  entity: TableEntity<T>,
  abortSignal: AbortSignal,
): Promise<string | undefined> {
  try {
    const { etag } = await table.createEntity(entity, { abortSignal });
    return etag ?? '';
  } catch (err) {
    if (statusOf(err) === 409) return undefined;
    throw err;
  }
}

/** Replaces the row if it is still at `etag`: the new etag, or `undefined` (412, or gone: 404). */
export async function replaceIfMatch<T extends object>(
  table: TableClient,
  entity: TableEntity<T>,
  etag: string,
  abortSignal: AbortSignal,
): Promise<string | undefined> {
  try {
    const answer = await table.updateEntity(entity, 'Replace', { etag, abortSignal });
    return answer.etag ?? '';
  } catch (err) {
    if (statusOf(err) === 412 || statusOf(err) === 404) return undefined;
    throw err;
  }
}

/**
 * Deletes the row if it is still at `etag`. `true` when it is gone (already gone counts: the
 * outcome the caller wanted), `false` when another writer changed it first (412).
 */
export async function deleteIfMatch(
  table: TableClient,
  partitionKey: string,
  rowKey: string,
  etag: string,
  abortSignal: AbortSignal,
): Promise<boolean> {
  try {
    await table.deleteEntity(partitionKey, rowKey, { etag, abortSignal });
    return true;
  } catch (err) {
    if (statusOf(err) === 404) return true;
    if (statusOf(err) === 412) return false;
    throw err;
  }
}

/** Creates the table unless it exists (409): every instance opens it, and the first one wins. */
export async function createTableIfAbsent(table: TableClient): Promise<void> {
  try {
    await table.createTable();
  } catch (err) {
    if (statusOf(err) !== 409) throw err;
  }
}
