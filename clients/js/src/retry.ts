/** How a refresh retries. Every bound is per refresh: a new refresh starts counting again. */
export interface RetryPolicy {
  /** Requests per refresh, the first included. Default 4. */
  maxAttempts: number;
  /** First backoff after a network error or a 5xx without `Retry-After`. Default 1 s. */
  baseDelayMs: number;
  /** No backoff is longer than this. Default 30 s. */
  maxDelayMs: number;
  /**
   * A `Retry-After` longer than this is not waited out: the refresh gives up at once and the
   * error carries `retryAfterSeconds`. Default 60 s.
   */
  maxRetryAfterMs: number;
  /** Source of randomness for jitter, in [0, 1). Default `Math.random`. */
  random: () => number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 60_000,
  random: Math.random,
};

export function retryPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  const policy = { ...DEFAULT_RETRY, ...overrides };
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) {
    throw new RangeError('retry.maxAttempts must be a whole number >= 1');
  }
  for (const key of ['baseDelayMs', 'maxDelayMs', 'maxRetryAfterMs'] as const) {
    if (!Number.isFinite(policy[key]) || policy[key] < 0) {
      throw new RangeError(`retry.${key} must be a number of milliseconds >= 0`);
    }
  }
  return policy;
}

/**
 * Exponential backoff with "equal jitter": half the step is fixed, half random, so callers that
 * failed together spread out but none comes back sooner than half the step.
 */
export function backoffMs(policy: RetryPolicy, failedAttempt: number): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failedAttempt - 1));
  return Math.round(step / 2 + (step / 2) * policy.random());
}

/**
 * What the service asked for, plus up to 20% (at least 250 ms) more at random: never sooner
 * than asked, and a crowd throttled together does not come back in the same millisecond.
 */
export function retryAfterMs(policy: RetryPolicy, seconds: number): number {
  const asked = seconds * 1000;
  return Math.round(asked + Math.max(250, asked * 0.2) * policy.random());
}

/** Seconds from a `Retry-After` header: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function abortReason(signal: AbortSignal | undefined): Error {
  // Whatever the app aborted with (a DOMException named AbortError by default) is passed on.
  if (signal?.reason !== undefined) return signal.reason as Error;
  // Not DOMException: React Native does not have it.
  const err = new Error('The operation was aborted.');
  err.name = 'AbortError';
  return err;
}
