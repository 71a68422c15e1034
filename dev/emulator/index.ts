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
