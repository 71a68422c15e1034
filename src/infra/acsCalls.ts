/**
 * What the ACS gateway records about the calls one request made. It is part of the request's log
 * record (`RequestFacts` in src/http/requestFacts.ts), which the gateway fills in but never reads.
 */
export interface AcsCallTally {
  acsCalls: number;
  acsMs: number;
  acsRetries: number;
  /** A create failed after it may have reached ACS: an identity may exist that nobody maps. */
  acsCreateOutcomeUnknown?: boolean;
  /** The caller's mapped identity was gone from ACS and has been replaced by a new one. */
  identityGone?: boolean;
}

/*
 * The tally travels as a parameter, not in an AsyncLocalStorage: one store in the process turns
 * on async hooks for every promise it creates, which cost about 6% of the allocations per token
 * in the benchmark's profile.
 */
export function recordAcsCall(tally: AcsCallTally, ms: number, retry: boolean): void {
  tally.acsCalls += 1;
  tally.acsMs += ms;
  if (retry) tally.acsRetries += 1;
}

export function recordUnknownCreate(tally: AcsCallTally): void {
  tally.acsCreateOutcomeUnknown = true;
}

export function recordIdentityGone(tally: AcsCallTally): void {
  tally.identityGone = true;
}
