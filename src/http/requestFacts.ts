import type { Caller } from '../domain/caller';
import type { AcsCallTally } from '../infra/acsCalls';

/**
 * What one request's log record says about it, filled in as the request goes: the caller and
 * scopes by the function, the ACS calls by the gateway. `endpoint` logs it when the request ends.
 */
export interface RequestFacts extends AcsCallTally {
  callerKind?: Caller['kind'];
  scopes?: string[];
}

export function newRequestFacts(): RequestFacts {
  return { acsCalls: 0, acsMs: 0, acsRetries: 0 };
}
