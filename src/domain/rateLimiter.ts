import { AppError } from './errors';

export interface RateLimit {
  perMinute: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets per caller, in this instance's memory: `burst` requests at once, refilled at
 * `perMinute`. A global limit across instances needs a gateway in front (API Management).
 * Idle buckets are forgotten beyond `maxCallers`, so random callers cannot grow memory.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
    private readonly maxCallers = 50_000,
  ) {}

  /** Spends one request for `caller`, or throws a 429 saying when the next one will be allowed. */
  take(caller: string): void {
    if (this.limit.perMinute === 0) return;
    const now = this.now();
    const ratePerMs = this.limit.perMinute / 60_000;
    const bucket = this.buckets.get(caller) ?? { tokens: this.limit.burst, at: now };
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + (now - bucket.at) * ratePerMs);
    bucket.at = now;
    // Re-inserting keeps the Map in least-recently-used order for eviction.
    this.buckets.delete(caller);
    this.buckets.set(caller, bucket);
    if (this.buckets.size > this.maxCallers) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    if (bucket.tokens < 1) {
      const retryAfterSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / ratePerMs / 1000));
      throw new AppError(
        'rate_limited',
        `Too many requests; try again in ${retryAfterSeconds} s.`,
        {
          retryAfterSeconds,
        },
      );
    }
    bucket.tokens -= 1;
  }
}
