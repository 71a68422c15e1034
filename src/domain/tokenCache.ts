import type { AcsScope } from './scopes';
import type { AccessToken } from './identityService';
import type { TokenGrant } from './tokenPolicy';

/** A token kept for a returning principal. */
export interface CachedToken {
  token: string;
  expiresOn: number;
  scopes: AcsScope[];
}

/**
 * Seals cache entries so that the table holding them never holds a usable token. `binding` ties
 * an entry to one principal, identity and revocation generation: an entry copied to another row,
 * or left over from before a revocation, does not open.
 */
export interface TokenSealer {
  seal(entry: CachedToken, binding: string): string;
  /** The entry, or undefined for anything that does not open: a wrong key, tampering, garbage. */
  open(sealed: string, binding: string): CachedToken | undefined;
}

const MINUTE = 60_000;
/** AzureCommunicationTokenCredential refreshes 10 minutes before expiry; stay well clear. */
const MIN_REMAINING_MS = 15 * MINUTE;
/** Lets a token issued a moment ago for the same lifetime count as fresh. */
const CLOCK_SLACK_MS = MINUTE;

function sameScopes(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((s) => b.includes(s));
}

/**
 * Whether a cached token may answer this grant: the same scopes, at least max(15 minutes, half
 * the requested lifetime) left, and never longer-lived than what was asked for.
 */
export function servesGrant(entry: CachedToken, grant: TokenGrant, now: number): boolean {
  const requestedMs = grant.expiresInMinutes * MINUTE;
  const remaining = entry.expiresOn - now;
  return (
    sameScopes(entry.scopes, grant.scopes) &&
    remaining >= Math.max(MIN_REMAINING_MS, requestedMs / 2) &&
    remaining <= requestedMs + CLOCK_SLACK_MS
  );
}

export function toCachedToken(token: AccessToken, grant: TokenGrant): CachedToken {
  return { token: token.token, expiresOn: token.expiresOn.getTime(), scopes: [...grant.scopes] };
}
