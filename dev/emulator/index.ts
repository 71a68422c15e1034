/**
 * Local emulator of the ACS Identity REST API (api-version 2023-10-01), for development,
 * tests and benchmarks. See `startEmulator`.
 */
import type { AcsOperation, OperationCounts } from './types';

export { startEmulator } from './server';
export type {
  AcsOperation,
  EmulatorIdentity,
  EmulatorOptions,
  FaultConfig,
  OperationCounts,
  RunningEmulator,
} from './types';
export { ACS_OPERATIONS } from './types';
export { DEFAULT_FAULTS } from './faults';

/**
 * Sums the counters of the given operations.
 *
 * @example
 * countOf(emu.counts(), 'createUser', 'createUserAndToken'); // identities created
 */
export function countOf(c: OperationCounts, ...ops: (AcsOperation | 'rejected')[]): number {
  return ops.reduce((sum, op) => sum + c[op], 0);
}
export { ACS_IDENTITY_LIMITS, ACS_QUOTA_WINDOW_SECONDS } from './quotas';
export type { QuotaConfig, QuotaPatch, QuotaStats } from './quotas';
export type { KeyType, ResourceKeys } from './accessKeys';
