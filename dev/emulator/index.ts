/**
 * Local emulator of the ACS Identity REST API (api-version 2023-10-01), for development,
 * tests and benchmarks. See `startEmulator`.
 */
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
export { ACS_IDENTITY_LIMITS, ACS_QUOTA_WINDOW_SECONDS } from './quotas';
export type { QuotaConfig, QuotaPatch, QuotaStats } from './quotas';
export type { KeyType, ResourceKeys } from './accessKeys';
