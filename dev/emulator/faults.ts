import { badRequest } from './errors';
import { ACS_OPERATIONS, type AcsOperation, type FaultConfig } from './types';

export const DEFAULT_FAULTS: Readonly<FaultConfig> = Object.freeze({
  latencyMs: 0,
  errorStatus: 503,
  errorRate: 0,
  retryAfterSeconds: 1,
  dropRate: 0,
  dropAfterCommitRate: 0,
  malformedRate: 0,
});

const RATE_KEYS = ['errorRate', 'dropRate', 'dropAfterCommitRate', 'malformedRate'] as const;
const KNOWN_KEYS = new Set<string>([
  ...RATE_KEYS,
  'latencyMs',
  'errorStatus',
  'retryAfterSeconds',
  'operations',
]);

/**
 * Validates a partial fault configuration coming from outside (the admin API or
 * `setFaults`) and throws a 400 AcsError naming the first bad field. `operations: null`
 * (or undefined) means "clear the filter".
 */
export function parseFaultPatch(input: unknown): Partial<FaultConfig> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw badRequest('The fault configuration must be a JSON object.');
  }
  const source = input as Record<string, unknown>;
  const patch: Partial<FaultConfig> = {};
  for (const key of Object.keys(source)) {
    if (!KNOWN_KEYS.has(key)) throw badRequest(`Unknown fault setting '${key}'.`);
  }
  for (const key of RATE_KEYS) {
    const value = source[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
      throw badRequest(`'${key}' must be a number between 0 and 1.`);
    }
    patch[key] = value;
  }
  if (source.latencyMs !== undefined) {
    const value = source.latencyMs;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw badRequest("'latencyMs' must be a number >= 0.");
    }
    patch.latencyMs = value;
  }
  if (source.errorStatus !== undefined) {
    const value = source.errorStatus;
    if (!Number.isInteger(value) || (value as number) < 100 || (value as number) > 599) {
      throw badRequest("'errorStatus' must be an integer HTTP status between 100 and 599.");
    }
    patch.errorStatus = value as number;
  }
  if (source.retryAfterSeconds !== undefined) {
    const value = source.retryAfterSeconds;
    if (!Number.isInteger(value) || (value as number) < 0) {
      throw badRequest("'retryAfterSeconds' must be an integer >= 0.");
    }
    patch.retryAfterSeconds = value as number;
  }
  if ('operations' in source) {
    const value = source.operations;
    if (value === null || value === undefined) {
      patch.operations = undefined;
    } else if (
      !Array.isArray(value) ||
      !value.every((op) => ACS_OPERATIONS.includes(op as AcsOperation))
    ) {
      throw badRequest(`'operations' must be an array of: ${ACS_OPERATIONS.join(', ')}.`);
    } else {
      patch.operations = [...new Set(value as AcsOperation[])];
    }
  }
  return patch;
}

/** Merges a validated patch; an `operations` key holding undefined clears the filter. */
export function mergeFaults(current: FaultConfig, patch: Partial<FaultConfig>): FaultConfig {
  const { operations, ...scalars } = patch;
  const merged: FaultConfig = { ...current, ...scalars };
  if ('operations' in patch) {
    if (operations === undefined) delete merged.operations;
    else merged.operations = [...operations];
  }
  return merged;
}

export function copyFaults(config: FaultConfig): FaultConfig {
  return config.operations ? { ...config, operations: [...config.operations] } : { ...config };
}

export function faultsApplyTo(config: FaultConfig, op: AcsOperation): boolean {
  return config.operations === undefined || config.operations.includes(op);
}

/** Rates of 0 never fire and 1 always fires, whatever the random source returns. */
export function fires(rate: number, random: () => number): boolean {
  if (rate <= 0) return false;
  if (rate >= 1) return true;
  return random() < rate;
}
