import type { AcsConnection } from '../config';
import { AppError } from '../domain/errors';
import { asRestError, type RestErrorLike } from './restError';

/** Reads `Retry-After` as seconds (delta or HTTP date), bounded to something a client can use. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  const seconds = /^\d+$/.test(trimmed) ? Number(trimmed) : (Date.parse(trimmed) - now) / 1000;
  if (!Number.isFinite(seconds)) return undefined;
  return Math.min(Math.max(Math.ceil(seconds), 1), 3600);
}

const DEFAULT_RETRY_AFTER_SECONDS = 5;

/**
 * ACS's answer, on issue, revoke and delete, for an identity of another resource (recorded in
 * the ACS SDK's test sessions: Azure/azure-sdk-for-js,
 * sdk/communication/communication-identity/recordings/node/
 * communicationidentityclient_playbacklive_error_cases_/). It is a 401, but about the identity,
 * not about us: for this service that identity does not exist.
 */
const IDENTITY_NOT_OWNED = 'IdentityNotOwned';

/** What an operator should check when ACS refuses the service's own credential. */
function credentialHint(credential: AcsConnection['kind'] | undefined): string {
  return credential === 'managedIdentity'
    ? "ACS_ENDPOINT and the managed identity's role assignment on that ACS resource (infra assigns Contributor): ACS refused its token"
    : 'ACS_CONNECTION_STRING: ACS refused its access key (wrong resource, or the key was rotated)';
}

/**
 * Translates whatever the ACS client threw into the service's vocabulary. ACS's own message is
 * not passed on: it can name the resource, and the caller cannot act on it anyway.
 * `credential` says how the service signs in to ACS, so a refusal can name the setting to check.
 */
export function fromAcsError(
  err: unknown,
  timedOut: boolean,
  credential?: AcsConnection['kind'],
): AppError {
  if (err instanceof AppError) return err;
  const rest = asRestError(err);
  if (timedOut || rest.name === 'AbortError') {
    return new AppError(
      'upstream_timeout',
      'Azure Communication Services did not answer in time.',
      {
        cause: err,
      },
    );
  }
  const status = rest.statusCode;
  const retryAfter = parseRetryAfter(rest.response?.headers.get('retry-after'));
  if (status === 429) {
    return new AppError('upstream_throttled', 'Too many token requests; try again later.', {
      retryAfterSeconds: retryAfter ?? DEFAULT_RETRY_AFTER_SECONDS,
      cause: err,
    });
  }
  if (status === 404 || (status === 401 && rest?.code === IDENTITY_NOT_OWNED)) {
    return new AppError('identity_not_found', 'That ACS identity does not exist.', { cause: err });
  }
  if (status === 401 || status === 403) {
    // Our signature or token was refused: a configuration fault that no retry will mend.
    return new AppError(
      'upstream_auth_failed',
      'The service cannot sign in to Azure Communication Services: a configuration fault, not your request.',
      { cause: err, operatorHint: credentialHint(credential) },
    );
  }
  if (status === 503 || status === undefined) {
    return new AppError(
      'upstream_unavailable',
      'Azure Communication Services is unavailable; try again shortly.',
      { retryAfterSeconds: retryAfter ?? DEFAULT_RETRY_AFTER_SECONDS, cause: err },
    );
  }
  return new AppError('upstream_error', 'Azure Communication Services returned an error.', {
    cause: err,
  });
}

/**
 * ACS's refusals of a Teams-user exchange, which `fromAcsError` would report as its own failure:
 * 401 `InvalidAccessToken` (expired, other audience, missing Teams scopes, not an Entra token)
 * and 400 `ValidationError` with `target` appId / userId (they do not match the token's appid /
 * oid). Statuses and codes from the SDK's recorded sessions (azure-sdk-for-js
 * sdk/communication/communication-identity/recordings/node/get_token_for_teams_user_playbacklive/).
 */
export function fromTeamsExchangeError(err: unknown): unknown {
  // A 401 InvalidAccessToken is about the Teams user's token, not our own credential.
  if (
    !(err instanceof AppError) ||
    !['upstream_error', 'upstream_auth_failed'].includes(err.code)
  ) {
    return err;
  }
  const rest: (RestErrorLike & { details?: { error?: { target?: unknown } } }) | undefined =
    asRestError(err.cause);
  if (rest?.statusCode === 401 && rest.code === 'InvalidAccessToken') {
    return new AppError(
      'teams_token_rejected',
      'The Teams user token is not valid for Azure Communication Services: it may have expired, be meant for another audience than https://auth.msft.communication.azure.com, or lack the Teams.ManageCalls and Teams.ManageChats scopes.',
      { cause: err.cause },
    );
  }
  if (rest?.statusCode === 400 && rest.code === 'ValidationError') {
    const target = rest.details?.error?.target;
    const field = target === 'appId' || target === 'userId' ? target : undefined;
    return new AppError(
      'teams_token_mismatch',
      field === 'appId'
        ? "appId is not the application the Teams user's token was issued to (its appid claim)."
        : field === 'userId'
          ? 'userId is not the Teams user the token was issued for (its oid claim).'
          : 'appId or userId does not match the Teams user token.',
      {
        cause: err.cause,
        errors: [{ field: field ?? 'appId', message: 'does not match the token' }],
      },
    );
  }
  return err;
}
