import {
  AzureCommunicationTokenCredential,
  type CommunicationTokenRefreshOptions,
} from '@azure/communication-common';
import { MIN_TOKEN_LIFETIME_MS, TokenClient, type TokenClientOptions } from './client.js';
import { TokenServiceError } from './errors.js';
import { expiresAtMs } from './jwt.js';

export interface TokenCredentialOptions extends TokenClientOptions {
  /**
   * A token the app already has (from a server-rendered page, say): the credential starts with
   * it instead of asking the service first.
   */
  initialToken?: string;
  /** Renew before expiry on the SDK's own timer. Default true. */
  refreshProactively?: boolean;
}

type SdkAbortSignal = Parameters<CommunicationTokenRefreshOptions['tokenRefresher']>[0];

/** The SDK's AbortSignalLike as a real AbortSignal, for fetch. */
function toAbortSignal(like: SdkAbortSignal): AbortSignal | undefined {
  if (!like) return undefined;
  const controller = new AbortController();
  if (like.aborted) controller.abort();
  else like.addEventListener('abort', () => controller.abort(), { once: true });
  return controller.signal;
}

/**
 * An `AzureCommunicationTokenCredential` whose refresher asks this service (`POST /api/token`).
 * It resolves once the first token is in hand, so a refused first request (not signed in, a
 * scope not allowed) rejects here, where the app awaits it.
 *
 * How the SDK (@azure/communication-common 2.x, autoRefreshTokenCredential.ts) uses it: with
 * `refreshProactively` it calls the refresher 10 minutes before `exp`; it does not await that
 * timer, so a refresher that throws there is an unhandled rejection and the SDK does not try
 * again until `getToken()` finds the token expired. So when a proactive refresh fails (after
 * its retries, or on a 401) while the current token still has at least a minute left, the
 * refresher hands the SDK that token back: the SDK keeps it and, since it expires within
 * 10 minutes, tries again halfway through what is left (5 min, 2.5 min, …). Only a token with
 * less than a minute left, or none, lets the error through.
 */
export async function createTokenCredential(
  options: TokenCredentialOptions,
): Promise<AzureCommunicationTokenCredential> {
  const client = new TokenClient(options);
  const initial = options.initialToken ?? (await firstToken(client));
  const credential = new AzureCommunicationTokenCredential({
    token: initial,
    tokenRefresher: refresherFor(client, initial),
    refreshProactively: options.refreshProactively ?? true,
  });
  options.signal?.addEventListener('abort', () => credential.dispose(), { once: true });
  return credential;
}

/** The `tokenRefresher` the credential gets; see createTokenCredential for why it keeps tokens. */
export function refresherFor(
  client: TokenClient,
  initial: string,
): (abortSignal?: SdkAbortSignal) => Promise<string> {
  let current = initial;
  return async (abortSignal) => {
    try {
      current = (await client.token(toAbortSignal(abortSignal))).token;
      return current;
    } catch (err) {
      if (!(err instanceof TokenServiceError)) throw err;
      const left = (expiresAtMs(current) ?? 0) - Date.now();
      const keep = left >= MIN_TOKEN_LIFETIME_MS;
      if (err.status !== 401) {
        client.emit({
          type: 'gave-up',
          attempts: err.attempts,
          error: err,
          ...(keep ? { nextTryInMs: Math.round(left / 2) } : {}),
        });
      }
      if (keep) return current;
      throw err;
    }
  };
}
async function firstToken(client: TokenClient): Promise<string> {
  try {
    return (await client.token()).token;
  } catch (err) {
    if (err instanceof TokenServiceError && err.status !== 401) {
      client.emit({ type: 'gave-up', attempts: err.attempts, error: err });
    }
    throw err;
  }
}
