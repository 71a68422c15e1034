import { parseRetryAfter } from './acsErrors';
import { asRestError } from './restError';

const NEVER_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
const MID_FLIGHT = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'REQUEST_SEND_ERROR',
  'PARSE_ERROR',
]);

/**
 * True when ACS certainly did nothing: it said so (429, 503) or the request never left us.
 * Only then may a create be repeated without risking a second identity.
 */
export function refusedBeforeProcessing(err: unknown): boolean {
  const f = asRestError(err);
  if (f.statusCode === 429 || f.statusCode === 503) return true;
  return f.statusCode === undefined && f.code !== undefined && NEVER_SENT.has(f.code);
}

/** Failures worth one more try for an operation that is safe to repeat. */
function transient(err: unknown): boolean {
  const f = asRestError(err);
  if (refusedBeforeProcessing(err)) return true;
  if (f.statusCode === 500 || f.statusCode === 502 || f.statusCode === 504) return true;
  return f.statusCode === undefined && f.code !== undefined && MID_FLIGHT.has(f.code);
}

export type Repeatability = 'create' | 'idempotent';

const MAX_RETRIES = 2;
/** A longer Retry-After is the client's to wait out, not ours to hold a connection for. */
const MAX_WAIT_MS = 2_000;

/**
 * How long to wait before retrying, or undefined to give up. Creates are retried only when ACS
 * certainly did not create anything; everything else (token issue, revoke, delete) is safe to
 * repeat on any transient failure.
 */
export function retryDelayMs(
  repeatability: Repeatability,
  err: unknown,
  attempt: number,
  remainingMs: number,
  random: () => number = Math.random,
): number | undefined {
  if (attempt >= MAX_RETRIES) return undefined;
  if (!(repeatability === 'create' ? refusedBeforeProcessing(err) : transient(err)))
    return undefined;
  const retryAfter = parseRetryAfter(asRestError(err).response?.headers.get('retry-after'));
  // Full jitter keeps a burst of failed requests from retrying in lock step.
  const delay =
    retryAfter !== undefined ? retryAfter * 1000 : Math.round(random() * 100 * 2 ** attempt);
  return delay > MAX_WAIT_MS || delay >= remainingMs - 50 ? undefined : delay;
}

/**
 * Caps retries at a share of recent traffic, so an ACS outage is not met with a retry storm:
 * every call earns `ratio` of a retry, plus a small floor per second.
 */
export class RetryBudget {
  private tokens: number;
  private at: number;

  constructor(
    private readonly ratio = 0.1,
    private readonly floorPerSecond = 5,
    private readonly cap = 50,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = cap;
    this.at = now();
  }

  recordCall(): void {
    this.refill();
    this.tokens = Math.min(this.cap, this.tokens + this.ratio);
  }

  tryRetry(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.cap, this.tokens + ((now - this.at) / 1000) * this.floorPerSecond);
    this.at = now;
  }
}
