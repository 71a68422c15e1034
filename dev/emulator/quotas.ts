import { AcsError, badRequest } from './errors';
import { ACS_OPERATIONS, type AcsOperation } from './types';

/**
 * ACS's per-resource limits for the Identity operations, per 30 s ("Service limits for Azure
 * Communication Services", Identity table:
 * https://learn.microsoft.com/azure/communication-services/concepts/service-limits).
 */
export const ACS_IDENTITY_LIMITS: Readonly<Record<AcsOperation, number>> = Object.freeze({
  createUser: 1000,
  createUserAndToken: 1000,
  issueAccessToken: 1000,
  deleteIdentity: 500,
  revokeAccessTokens: 500,
  exchangeTeamsToken: 500,
});
export const ACS_QUOTA_WINDOW_SECONDS = 30;

export interface QuotaConfig {
  /** False lets every call through (a throughput benchmark measuring CPU, not ACS). */
  enabled: boolean;
  windowSeconds: number;
  limits: Record<AcsOperation, number>;
}

export interface QuotaStats {
  limit: number;
  windowSeconds: number;
  admitted: number;
  throttled: number;
}

export const DEFAULT_QUOTAS: Readonly<QuotaConfig> = Object.freeze({
  enabled: true,
  windowSeconds: ACS_QUOTA_WINDOW_SECONDS,
  limits: { ...ACS_IDENTITY_LIMITS },
});

export type QuotaPatch = Partial<Omit<QuotaConfig, 'limits'>> & {
  limits?: Partial<Record<AcsOperation, number>>;
};

interface Window {
  startedAt: number;
  used: number;
}

/**
 * Per-resource quotas in FIXED windows, one per operation: a window opens with the first call
 * after the previous one ended and admits `limit` calls; past that every call gets 429 until the
 * window ends, with `Retry-After` the whole seconds left in it.
 *
 * Why fixed rather than sliding: ACS publishes "N per 30 s" without saying more, and a fixed
 * window is the reading that gives every throttled caller the same, exact Retry-After (the end of
 * the window), so a client that waits it out is admitted. A sliding window would reopen one slot
 * at a time and keep callers contending at the edge; the service's throttle gate does not depend
 * on which one ACS uses (it only obeys Retry-After). Fixed is also the permissive reading at a
 * window boundary (up to 2x the limit across it), which docs/performance.md states next to the
 * surge figures.
 */
export class QuotaGate {
  private config: QuotaConfig;
  private windows = new Map<AcsOperation, Window>();
  private admitted = zero();
  private throttled = zero();

  constructor(initial: QuotaPatch = {}) {
    this.config = mergeQuotas(DEFAULT_QUOTAS, parseQuotaPatch(initial));
  }

  /** Spends one call of `op`'s window or throws ACS's 429 with Retry-After. */
  admit(op: AcsOperation, nowMs: number): void {
    if (!this.config.enabled) {
      this.admitted[op] += 1;
      return;
    }
    const windowMs = this.config.windowSeconds * 1000;
    let window = this.windows.get(op);
    if (!window || nowMs >= window.startedAt + windowMs) {
      window = { startedAt: nowMs, used: 0 };
      this.windows.set(op, window);
    }
    if (window.used >= this.config.limits[op]) {
      this.throttled[op] += 1;
      const retryAfter = Math.max(1, Math.ceil((window.startedAt + windowMs - nowMs) / 1000));
      throw tooManyRequests(retryAfter);
    }
    window.used += 1;
    this.admitted[op] += 1;
  }

  stats(): Record<AcsOperation, QuotaStats> {
    const out = {} as Record<AcsOperation, QuotaStats>;
    for (const op of ACS_OPERATIONS) {
      out[op] = {
        limit: this.config.limits[op],
        windowSeconds: this.config.windowSeconds,
        admitted: this.admitted[op],
        throttled: this.throttled[op],
      };
    }
    return out;
  }

  settings(): QuotaConfig {
    return { ...this.config, limits: { ...this.config.limits } };
  }

  /** Validates (throws a 400 AcsError), merges and starts every window afresh. */
  configure(patch: unknown): QuotaConfig {
    this.config = mergeQuotas(this.config, parseQuotaPatch(patch));
    this.windows.clear();
    return this.settings();
  }

  /** Forgets windows and counters; the limits stay as configured. */
  reset(): void {
    this.windows.clear();
    this.admitted = zero();
    this.throttled = zero();
  }
}

/**
 * ACS errors follow CommunicationErrorResponse `{"error":{"code","message"}}`
 * (azure-rest-api-specs: specification/communication/data-plane/Common/stable/2022-07-13/
 * common.json, referenced as the `default` response of every operation in
 * Identity/stable/2023-10-01/CommunicationIdentity.json). The specs do not name the 429 code;
 * `TooManyRequests` is the HTTP reason phrase, as the emulator's injected 429s already use.
 */
export function tooManyRequests(retryAfterSeconds: number): AcsError {
  return new AcsError(
    429,
    'TooManyRequests',
    `The request rate exceeds the resource's limit; retry after ${retryAfterSeconds} seconds.`,
    { 'retry-after': String(retryAfterSeconds) },
  );
}

function zero(): Record<AcsOperation, number> {
  const counts = {} as Record<AcsOperation, number>;
  for (const op of ACS_OPERATIONS) counts[op] = 0;
  return counts;
}

function mergeQuotas(current: Readonly<QuotaConfig>, patch: QuotaPatch): QuotaConfig {
  return {
    enabled: patch.enabled ?? current.enabled,
    windowSeconds: patch.windowSeconds ?? current.windowSeconds,
    limits: { ...current.limits, ...patch.limits },
  };
}

/** Checks a quota patch from outside (admin API, options, environment). */
export function parseQuotaPatch(input: unknown): QuotaPatch {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw badRequest('The quota configuration must be a JSON object.');
  }
  const source = input as Record<string, unknown>;
  const patch: QuotaPatch = {};
  for (const key of Object.keys(source)) {
    if (!['enabled', 'windowSeconds', 'limits'].includes(key)) {
      throw badRequest(`Unknown quota setting '${key}'.`);
    }
  }
  if (source.enabled !== undefined) {
    if (typeof source.enabled !== 'boolean') throw badRequest("'enabled' must be a boolean.");
    patch.enabled = source.enabled;
  }
  if (source.windowSeconds !== undefined) {
    const value = source.windowSeconds;
    if (typeof value !== 'number' || !(value > 0 && value <= 3600)) {
      throw badRequest("'windowSeconds' must be a number of seconds in (0, 3600].");
    }
    patch.windowSeconds = value;
  }
  if (source.limits !== undefined) {
    const limits = source.limits;
    if (typeof limits !== 'object' || limits === null || Array.isArray(limits)) {
      throw badRequest("'limits' must be an object of operation → calls per window.");
    }
    patch.limits = {};
    for (const [op, value] of Object.entries(limits)) {
      if (!ACS_OPERATIONS.includes(op as AcsOperation)) {
        throw badRequest(`Unknown operation '${op}'; use ${ACS_OPERATIONS.join(', ')}.`);
      }
      if (!Number.isInteger(value) || (value as number) < 0) {
        throw badRequest(`The limit of '${op}' must be an integer >= 0.`);
      }
      patch.limits[op as AcsOperation] = value as number;
    }
  }
  return patch;
}

/**
 * Reads the standalone emulator's quota environment: ACS_EMULATOR_QUOTAS=off, or a window
 * (ACS_EMULATOR_QUOTA_WINDOW_SECONDS) and per-operation limits
 * (ACS_EMULATOR_QUOTA_LIMITS=createUserAndToken=5,issueAccessToken=5). Returns a message on error.
 */
export function quotasFromEnv(env: NodeJS.ProcessEnv): QuotaPatch | string {
  const patch: Record<string, unknown> = {};
  const mode = env.ACS_EMULATOR_QUOTAS?.trim().toLowerCase();
  if (mode !== undefined && mode !== '') {
    if (mode !== 'on' && mode !== 'off') return "ACS_EMULATOR_QUOTAS must be 'on' or 'off'.";
    patch.enabled = mode === 'on';
  }
  const window = env.ACS_EMULATOR_QUOTA_WINDOW_SECONDS?.trim();
  if (window) patch.windowSeconds = Number(window);
  const limits = env.ACS_EMULATOR_QUOTA_LIMITS?.trim();
  if (limits) {
    const parsed: Record<string, number> = {};
    for (const pair of limits.split(',')) {
      const [op, value] = pair.split('=').map((s) => s.trim());
      if (!op || !value || !/^\d+$/.test(value)) {
        return 'ACS_EMULATOR_QUOTA_LIMITS must look like createUserAndToken=5,issueAccessToken=5.';
      }
      parsed[op] = Number(value);
    }
    patch.limits = parsed;
  }
  try {
    return parseQuotaPatch(patch);
  } catch (err) {
    return `quota settings: ${err instanceof Error ? err.message : String(err)}`;
  }
}
