import { CallerLimits } from '../../src/domain/callerLimits';
import { AppError } from '../../src/domain/errors';
import { RateLimiter } from '../../src/domain/rateLimiter';

function retryAfterOf(fn: () => void): number | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError && err.code === 'rate_limited') return err.retryAfterSeconds;
    throw err;
  }
  return undefined;
}

describe('RateLimiter', () => {
  it('allows a burst, then refuses with the wait until the next token', () => {
    let now = 0;
    const limiter = new RateLimiter({ perMinute: 6, burst: 3 }, () => now);
    for (let i = 0; i < 3; i++) expect(retryAfterOf(() => limiter.take('a'))).toBeUndefined();
    expect(retryAfterOf(() => limiter.take('a'))).toBe(10);
    now += 10_000; // one token refilled at 6 per minute
    expect(retryAfterOf(() => limiter.take('a'))).toBeUndefined();
    expect(retryAfterOf(() => limiter.take('a'))).toBe(10);
  });

  it('keeps callers apart', () => {
    const limiter = new RateLimiter({ perMinute: 1, burst: 1 }, () => 0);
    limiter.take('a');
    expect(retryAfterOf(() => limiter.take('b'))).toBeUndefined();
    expect(retryAfterOf(() => limiter.take('a'))).toBe(60);
  });

  it('is off at zero per minute', () => {
    const limiter = new RateLimiter({ perMinute: 0, burst: 1 }, () => 0);
    for (let i = 0; i < 100; i++) limiter.take('a');
  });

  it('forgets the least recently seen callers beyond its bound', () => {
    const limiter = new RateLimiter({ perMinute: 1, burst: 1 }, () => 0, 2);
    limiter.take('a');
    limiter.take('b');
    limiter.take('c'); // evicts a
    expect(retryAfterOf(() => limiter.take('a'))).toBeUndefined();
    expect(retryAfterOf(() => limiter.take('c'))).toBe(60);
  });
});

describe('CallerLimits', () => {
  it('counts principals and keys in separate buckets', () => {
    const limits = new CallerLimits(
      { principal: { perMinute: 1, burst: 1 }, key: { perMinute: 1, burst: 2 } },
      () => 0,
    );
    const alice = { kind: 'principal' as const, provider: 'aad', id: 'alice', roles: [] };
    limits.admit(alice);
    expect(retryAfterOf(() => limits.admit(alice))).toBe(60);
    expect(retryAfterOf(() => limits.admit({ ...alice, provider: 'github' }))).toBeUndefined();
    const backend = { kind: 'keyHolder' as const, keyId: 'k1' };
    limits.admit(backend);
    limits.admit(backend);
    expect(retryAfterOf(() => limits.admit(backend))).toBe(60);
  });
});
