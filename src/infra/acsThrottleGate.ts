import { AppError } from '../domain/errors';
import { parseRetryAfter } from './acsErrors';

/** ACS counts its quotas per operation (service-limits page, Identity table); so does the gate. */
export type AcsOperationClass =
  | 'createUserAndToken'
  | 'issueAccessToken'
  | 'revokeAccessTokens'
  | 'deleteIdentity'
  | 'exchangeTeamsToken';

/** ACS may omit Retry-After; without it the gate still stays shut a little while. */
const DEFAULT_CLOSED_SECONDS = 5;

export interface ThrottledOperation {
  operation: AcsOperationClass;
  retryAfterSeconds: number;
}

interface Failure {
  statusCode?: number;
  response?: { headers: { get(name: string): string | undefined } };
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

  constructor(private readonly now: () => number = Date.now) {}

  /** Throws `upstream_throttled` while ACS is known to refuse `operation`. */
  check(operation: AcsOperationClass): void {
    const until = this.closedUntil.get(operation);
    if (until === undefined) return;
    const remainingMs = until - this.now();
    if (remainingMs <= 0) {
      this.closedUntil.delete(operation);
      return;
    }
    throw new AppError(
      'upstream_throttled',
      'Azure Communication Services is throttling this operation; try again later.',
      { retryAfterSeconds: Math.max(1, Math.ceil(remainingMs / 1000)) },
    );
  }

  /** Closes `operation` when `err` is ACS's 429; returns whether it was. */
  learn(operation: AcsOperationClass, err: unknown): boolean {
    const failure = (typeof err === 'object' && err !== null ? err : {}) as Failure;
    if (failure.statusCode !== 429) return false;
    const seconds =
      parseRetryAfter(failure.response?.headers.get('retry-after'), this.now()) ??
      DEFAULT_CLOSED_SECONDS;
    const until = this.now() + seconds * 1000;
    this.closedUntil.set(operation, Math.max(until, this.closedUntil.get(operation) ?? 0));
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
