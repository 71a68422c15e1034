/**
 * The wire types of `POST /api/token`, declared here so the package carries no validation
 * library. They are not a copy that may drift: the service's typecheck asserts that each one is
 * exactly the type its zod schema infers (tests/types/clientContract.ts), so a field changed on
 * either side fails to compile until the other follows.
 */

/** Every scope ACS can put in a user access token. */
export type AcsScope = 'chat' | 'voip' | 'chat.join' | 'chat.join.limited' | 'voip.join';

/** Body of `POST /api/token`; every field is optional. */
export interface TokenRequest {
  /** Defaults to the caller's default scopes (`TOKEN_POLICY`), else `["voip"]`. */
  scopes?: AcsScope[];
  /** 60..1440; defaults to 60. */
  expiresInMinutes?: number;
  /** Key mode only: a fresh token for an identity the calling backend already holds. */
  communicationUserId?: string;
}

/** What `POST /api/token` answers with on success. */
export interface TokenResponse {
  user: { communicationUserId: string };
  /** The ACS user access token (a JWT); treat it as a secret. */
  token: string;
  /** ISO-8601; the same instant as the token's `exp` claim. */
  expiresOn: string;
}

/** The stable `code` of every problem the service answers with. */
export type ProblemCode =
  | 'invalid_request'
  | 'invalid_json'
  | 'unsupported_content_type'
  | 'unauthenticated'
  | 'invalid_token'
  | 'teams_token_rejected'
  | 'teams_token_mismatch'
  | 'scope_not_allowed'
  | 'expiry_not_allowed'
  | 'forbidden'
  | 'identity_not_found'
  | 'not_found'
  | 'method_not_allowed'
  | 'length_required'
  | 'payload_too_large'
  | 'rate_limited'
  | 'upstream_throttled'
  | 'internal_error'
  | 'upstream_error'
  | 'upstream_unavailable'
  | 'upstream_timeout'
  | 'storage_unavailable'
  | 'identity_provider_unavailable'
  | 'upstream_auth_failed';

/** The service's RFC 9457 error body (`application/problem+json`). */
export interface Problem {
  /** `urn:acs-token-service:problem:<code>` */
  type: string;
  title: string;
  status: number;
  /** For a person; never contains a secret. */
  detail: string;
  code: ProblemCode;
  instance?: string;
  /** Quote it when asking for help: it finds the service's log record. */
  invocationId?: string;
  errors?: { field: string; message: string }[];
}
