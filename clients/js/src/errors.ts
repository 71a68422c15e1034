import type { Problem, ProblemCode } from './contract.js';

/**
 * Codes for failures that carry no problem from the service: it could not be reached, it
 * answered something that is not one of its own answers, or it handed out a token too close to
 * its expiry to be of use (usually this device's clock is far ahead).
 */
export type ClientErrorCode =
  'network_error' | 'http_error' | 'invalid_response' | 'token_expires_too_soon';

export type TokenErrorCode = ProblemCode | ClientErrorCode;

/**
 * A refused or failed token request. `code` is the problem's `code` when the service answered
 * with `application/problem+json`; a 401 without a body (the Functions host refusing a missing
 * or wrong function key) reads as `unauthenticated`.
 */
export class TokenServiceError extends Error {
  override readonly name = 'TokenServiceError';
  /** Requests the refresh made before it ended with this error. */
  attempts = 1;

  constructor(
    readonly code: TokenErrorCode,
    /** The HTTP status; 0 when no answer arrived. */
    readonly status: number,
    message: string,
    /** The service's problem body, when it sent one. */
    readonly problem?: Problem,
    /** From `Retry-After`, when the answer carried one. */
    readonly retryAfterSeconds?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Whether `err` is a `TokenServiceError`, optionally with one of the given codes. */
export function isTokenServiceError(
  err: unknown,
  ...codes: TokenErrorCode[]
): err is TokenServiceError {
  return err instanceof TokenServiceError && (codes.length === 0 || codes.includes(err.code));
}
