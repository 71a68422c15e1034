import { principalKey, type Caller } from './caller';
import { RateLimiter, type RateLimit } from './rateLimiter';

/** Rate limits per caller: a signed-in principal, or the function key a backend uses. */
export class CallerLimits {
  private readonly principals: RateLimiter;
  private readonly keys: RateLimiter;

  constructor(limits: { principal: RateLimit; key: RateLimit }, now?: () => number) {
    this.principals = new RateLimiter(limits.principal, now);
    this.keys = new RateLimiter(limits.key, now);
  }

  /** Spends one request of the caller's allowance or throws `rate_limited` (429). */
  admit(caller: Caller): void {
    if (caller.kind === 'principal') this.principals.take(principalKey(caller));
    else this.keys.take(caller.keyId);
  }
}
