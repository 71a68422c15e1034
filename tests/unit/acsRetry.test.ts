import { refusedBeforeProcessing, retryDelayMs, RetryBudget } from '../../src/infra/acsRetry';

const failure = (statusCode?: number, code?: string, retryAfter?: string) => ({
  statusCode,
  code,
  response: { headers: { get: (n: string) => (n === 'retry-after' ? retryAfter : undefined) } },
});
const half = () => 0.5;

describe('retryDelayMs', () => {
  it('repeats a create only when ACS certainly did nothing', () => {
    expect(refusedBeforeProcessing(failure(429))).toBe(true);
    expect(refusedBeforeProcessing(failure(503))).toBe(true);
    expect(refusedBeforeProcessing(failure(undefined, 'ECONNREFUSED'))).toBe(true);
    expect(refusedBeforeProcessing(failure(500))).toBe(false);
    expect(refusedBeforeProcessing(failure(undefined, 'ECONNRESET'))).toBe(false);
    expect(refusedBeforeProcessing(failure(201, 'PARSE_ERROR'))).toBe(false);

    expect(retryDelayMs('create', failure(undefined, 'ECONNREFUSED'), 0, 10_000, half)).toBe(50);
    expect(retryDelayMs('create', failure(500), 0, 10_000, half)).toBeUndefined();
    expect(
      retryDelayMs('create', failure(undefined, 'ECONNRESET'), 0, 10_000, half),
    ).toBeUndefined();
  });

  it('repeats safe operations on transient failures, backing off', () => {
    expect(retryDelayMs('idempotent', failure(500), 0, 10_000, half)).toBe(50);
    expect(retryDelayMs('idempotent', failure(undefined, 'ECONNRESET'), 1, 10_000, half)).toBe(100);
    expect(retryDelayMs('idempotent', failure(400), 0, 10_000, half)).toBeUndefined();
    expect(retryDelayMs('idempotent', failure(404), 0, 10_000, half)).toBeUndefined();
  });

  it('honours Retry-After, but leaves long waits and spent attempts to the client', () => {
    expect(retryDelayMs('idempotent', failure(429, undefined, '1'), 0, 10_000, half)).toBe(1000);
    expect(
      retryDelayMs('idempotent', failure(429, undefined, '5'), 0, 10_000, half),
    ).toBeUndefined();
    expect(retryDelayMs('idempotent', failure(503, undefined, '1'), 0, 900, half)).toBeUndefined();
    expect(retryDelayMs('idempotent', failure(500), 2, 10_000, half)).toBeUndefined();
  });
});

describe('RetryBudget', () => {
  it('allows a share of traffic plus a floor, then refuses', () => {
    let now = 0;
    const budget = new RetryBudget(0.5, 1, 2, () => now);
    expect([budget.tryRetry(), budget.tryRetry(), budget.tryRetry()]).toEqual([true, true, false]);
    budget.recordCall();
    budget.recordCall();
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
    now += 1_000;
    expect(budget.tryRetry()).toBe(true);
  });
});
