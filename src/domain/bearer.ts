import { AppError } from './errors';

/** Who a valid bearer token says is calling. */
export interface BearerIdentity {
  issuer: string;
  subject: string;
  /** Entra ID's object ID of the principal (`oid`), when the token carries one. */
  objectId?: string | undefined;
  roles: string[];
}

/** Checks bearer tokens (jwt mode); the production one is `OidcVerifier` (src/infra). */
export interface BearerVerifier {
  /** The caller named by `token`, or an `invalid_token` (401) / provider-unavailable (503) error. */
  verify(token: string): Promise<BearerIdentity>;
}

/** Why a bearer token was refused or could not be checked; safe to log, never holds the token. */
export class BearerFailure extends Error {
  override readonly name = 'BearerFailure';
}

/** RFC 6750 §3: a bearer token that failed validation is answered 401 with error="invalid_token". */
export function rejected(reason: string, detail: string): AppError {
  return new AppError('invalid_token', detail, {
    challenge: `Bearer error="invalid_token", error_description="${detail.replace(/["\\]/g, '')}"`,
    cause: new BearerFailure(reason),
  });
}

/** The loggable reason of a bearer-token failure, if `err` is one. */
export function bearerFailureReason(err: unknown): string | undefined {
  return err instanceof AppError && err.cause instanceof BearerFailure
    ? err.cause.message
    : undefined;
}
