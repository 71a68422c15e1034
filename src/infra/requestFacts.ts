import { AsyncLocalStorage } from 'node:async_hooks';

/** What one request's log record says about it; filled in as the request goes. */
export interface RequestFacts {
  callerKind?: 'keyHolder' | 'principal';
  scopes?: string[];
  acsCalls: number;
  acsMs: number;
  acsRetries: number;
  /** A create failed after it may have reached ACS: an identity may exist that nobody maps. */
  acsCreateOutcomeUnknown?: boolean;
}

const scope = new AsyncLocalStorage<RequestFacts>();

/**
 * Runs a request with its facts in scope, so deep collaborators (the ACS gateway) can add their
 * timings without every domain signature carrying a logger.
 */
export function withRequestFacts<T>(facts: RequestFacts, run: () => Promise<T>): Promise<T> {
  return scope.run(facts, run);
}

export function recordAcsCall(durationMs: number, retry: boolean): void {
  const facts = scope.getStore();
  if (!facts) return;
  facts.acsCalls += 1;
  facts.acsMs += durationMs;
  if (retry) facts.acsRetries += 1;
}

export function recordUnknownCreate(): void {
  const facts = scope.getStore();
  if (facts) facts.acsCreateOutcomeUnknown = true;
}
