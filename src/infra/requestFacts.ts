/** What one request's log record says about it; filled in as the request goes. */
export interface RequestFacts {
  callerKind?: 'keyHolder' | 'principal';
  scopes?: string[];
  acsCalls: number;
  acsMs: number;
  acsRetries: number;
  /** A create failed after it may have reached ACS: an identity may exist that nobody maps. */
  acsCreateOutcomeUnknown?: boolean;
  /** The caller's mapped identity was gone from ACS and has been replaced by a new one. */
  identityGone?: boolean;
}

export function newRequestFacts(): RequestFacts {
  return { acsCalls: 0, acsMs: 0, acsRetries: 0 };
}

/*
 * The facts travel as a parameter, not in an AsyncLocalStorage: one store in the process turns
 * on async hooks for every promise it creates, which cost about 6% of the allocations per token
 * in the benchmark's profile.
 */
export function recordAcsCall(facts: RequestFacts, ms: number, retry: boolean): void {
  facts.acsCalls += 1;
  facts.acsMs += ms;
  if (retry) facts.acsRetries += 1;
}

export function recordUnknownCreate(facts: RequestFacts): void {
  facts.acsCreateOutcomeUnknown = true;
}

export function recordIdentityGone(facts: RequestFacts): void {
  facts.identityGone = true;
}
