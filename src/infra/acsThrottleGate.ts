import { AppError } from '../domain/errors';
import type { AcsOperationClass } from '../domain/identityService';
import { parseRetryAfter } from './acsErrors';
import { asRestError } from './restError';

/** ACS may omit Retry-After; without it the gate still stays shut a little while. */
const DEFAULT_CLOSED_SECONDS = 5;

export interface ThrottledOperation {
  operation: AcsOperationClass;
  retryAfterSeconds: number;
}

interface Waiter {
  admit: () => void;
  refuse: (err: AppError) => void;
}

/**
 * Remembers, per operation class, until when ACS has said it will refuse: once ACS answers 429
 * with Retry-After, this instance sends no call of that class until then, and answers its callers
 * 429 at once with the time that is left. Each instance learns on its own (the state is in
 * memory): the first call of each instance into a throttled window still reaches ACS and comes
 * back 429, which docs/performance.md measures.
 */
export class AcsThrottleGate {
  private readonly closedUntil = new Map<AcsOperationClass, number>();
  private readonly inFlight = new Map<AcsOperationClass, number>();
  private readonly waiting = new Map<AcsOperationClass, Waiter[]>();

  /**
   * `maxInFlight` bounds the calls of one class this instance has at ACS at once (ACS_MAX_CONCURRENCY):
   * when ACS's window fills, only those few come back 429, however slow ACS is at the time, and
   * the requests queued behind them are answered from the gate instead of being refused by ACS.
   */
  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxInFlight = Number.POSITIVE_INFINITY,
  ) {}

  /**
   * Takes one of the class's in-flight slots, waiting at most `waitMs` for one; resolves with the
   * function that gives it back. Throws `upstream_throttled` when the class is shut, or becomes
   * shut while waiting, or no slot frees in time.
   */
  async acquire(operation: AcsOperationClass, waitMs: number): Promise<() => void> {
    this.check(operation);
    const release = () => this.release(operation);
    const busy = this.inFlight.get(operation) ?? 0;
    if (busy < this.maxInFlight) {
      this.inFlight.set(operation, busy + 1);
      return release;
    }
    await new Promise<void>((resolve, reject) => {
      const queue = this.waiting.get(operation) ?? [];
      this.waiting.set(operation, queue);
      const waiter: Waiter = {
        admit: () => {
          clearTimeout(timer);
          resolve();
        },
        refuse: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        queue.splice(queue.indexOf(waiter), 1);
        reject(throttledFor(1));
      }, waitMs);
      queue.push(waiter);
    });
    return release;
  }

  private release(operation: AcsOperationClass): void {
    const queue = this.waiting.get(operation);
    const next = queue?.shift();
    // The slot passes straight to the next waiter, so the in-flight count stays as it is.
    if (next) next.admit();
    else this.inFlight.set(operation, Math.max(0, (this.inFlight.get(operation) ?? 1) - 1));
  }

  /** Throws `upstream_throttled` while ACS is known to refuse `operation`. */
  check(operation: AcsOperationClass): void {
    const until = this.closedUntil.get(operation);
    if (until === undefined) return;
    const remainingMs = until - this.now();
    if (remainingMs <= 0) {
      this.closedUntil.delete(operation);
      return;
    }
    throw throttledFor(Math.max(1, Math.ceil(remainingMs / 1000)));
  }

  /** Closes `operation` when `err` is ACS's 429; returns whether it was. */
  learn(operation: AcsOperationClass, err: unknown): boolean {
    const failure = asRestError(err);
    if (failure.statusCode !== 429) return false;
    const seconds =
      parseRetryAfter(failure.response?.headers.get('retry-after'), this.now()) ??
      DEFAULT_CLOSED_SECONDS;
    const until = Math.max(this.now() + seconds * 1000, this.closedUntil.get(operation) ?? 0);
    this.closedUntil.set(operation, until);
    // Whoever waits for a slot would only be refused by ACS too: answer them now.
    const queue = this.waiting.get(operation) ?? [];
    const refusal = throttledFor(Math.max(1, Math.ceil((until - this.now()) / 1000)));
    for (const waiter of queue.splice(0)) waiter.refuse(refusal);
    return true;
  }

  /** The classes ACS is refusing right now, for /api/health. */
  throttled(): ThrottledOperation[] {
    const now = this.now();
    const out: ThrottledOperation[] = [];
    for (const [operation, until] of this.closedUntil) {
      if (until > now) {
        out.push({ operation, retryAfterSeconds: Math.ceil((until - now) / 1000) });
      }
    }
    return out;
  }
}

function throttledFor(retryAfterSeconds: number): AppError {
  return new AppError(
    'upstream_throttled',
    'Azure Communication Services is throttling this operation; try again later.',
    { retryAfterSeconds },
  );
}
