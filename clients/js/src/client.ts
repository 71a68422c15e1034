import type { AcsScope, Problem, TokenRequest, TokenResponse } from './contract.js';
import { TokenServiceError } from './errors.js';
import { expiresAtMs } from './jwt.js';
import {
  abortReason,
  backoffMs,
  parseRetryAfter,
  pause,
  retryAfterMs,
  retryPolicy,
  type RetryPolicy,
} from './retry.js';

/**
 * @azure/communication-common 2.x (autoRefreshTokenCredential.ts) refreshes proactively when a
 * token enters its last 10 minutes, and a token already inside them halfway through what is
 * left. A token with less than this much left is never handed to the SDK: its next refresh
 * would follow within 30 s, and the one after sooner still (the loop of azure-sdk-for-js #19804).
 */
export const MIN_TOKEN_LIFETIME_MS = 60_000;

/** What the package reports, for a UI or a log. It never carries the token itself. */
export type TokenEvent =
  | {
      type: 'refreshed';
      user: { communicationUserId: string };
      expiresOn: Date;
      /** Requests this refresh took, the successful one included. */
      attempts: number;
    }
  | {
      type: 'retrying';
      /** The attempt that just failed (1 for the first request). */
      attempt: number;
      /** How long the package waits before the next request. */
      delayMs: number;
      error: TokenServiceError;
    }
  | { type: 'unauthorized'; error: TokenServiceError }
  | {
      type: 'gave-up';
      attempts: number;
      error: TokenServiceError;
      /**
       * Set when the credential keeps its current token instead (a proactive refresh failed while
       * the token still had time left): the SDK tries again in about this many milliseconds.
       */
      nextTryInMs?: number;
    };

export interface TokenClientOptions {
  /** The service's base URL (`https://tokens.contoso.com`), or `''` for the page's own origin. */
  url: string;
  scopes?: AcsScope[];
  expiresInMinutes?: number;
  /**
   * Easy Auth: `'include'` sends the session cookie to another origin (the service then needs
   * the page's origin in CORS_ALLOWED_ORIGINS); `'same-origin'`, the fetch default, is enough
   * when the page is served by the same site.
   */
  credentials?: RequestInit['credentials'];
  /**
   * Headers for each request, asked for again before every attempt: a bearer token from the
   * sign-in library (`{ authorization: 'Bearer …' }`) or, on a backend only, the function key
   * (`{ 'x-functions-key': … }`). Never ship a function key to a browser.
   */
  getHeaders?: () => Record<string, string> | Promise<Record<string, string>>;
  /** Key mode: renew this identity instead of creating a new one. */
  communicationUserId?: string;
  /**
   * Key mode: after the first token, send its `user.communicationUserId` with every refresh, so
   * a credential keeps one ACS identity. Leave it off for signed-in callers (Easy Auth, jwt):
   * the service keeps their identity itself and refuses the field (403).
   */
  keepIdentity?: boolean;
  /** Aborting stops any request or wait in progress; a credential is disposed too. */
  signal?: AbortSignal;
  onEvent?: (event: TokenEvent) => void;
  /**
   * Called on a 401: the session ended or the bearer token is no longer accepted. Sign the user
   * in again; the package never retries a 401 by itself.
   */
  onUnauthorized?: (error: TokenServiceError) => void;
  retry?: Partial<RetryPolicy>;
  /** The `fetch` to use; defaults to the global one. */
  fetch?: typeof fetch;
}

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

function isAbort(err: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true || (err instanceof Error && err.name === 'AbortError');
}

/** Both signals in one: whichever aborts first. */
function eitherSignal(
  a: AbortSignal | undefined,
  b: AbortSignal | undefined,
): AbortSignal | undefined {
  if (!a || !b) return a ?? b;
  const controller = new AbortController();
  for (const signal of [a, b]) {
    if (signal.aborted) {
      controller.abort(signal.reason);
      break;
    }
    signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
  }
  return controller.signal;
}

async function problemOf(response: Response): Promise<Problem | undefined> {
  const type = response.headers.get('content-type') ?? '';
  if (!/^application\/(problem\+)?json/i.test(type)) return undefined;
  try {
    const body = (await response.json()) as Partial<Problem> | null;
    return body && typeof body.code === 'string' ? (body as Problem) : undefined;
  } catch {
    return undefined;
  }
}

function isTokenResponse(body: unknown): body is TokenResponse {
  if (typeof body !== 'object' || body === null) return false;
  const { user, token, expiresOn } = body as Partial<TokenResponse>;
  return (
    typeof token === 'string' &&
    typeof expiresOn === 'string' &&
    typeof user?.communicationUserId === 'string'
  );
}

/**
 * One refresher's requests: `POST /api/token` with the retry policy, one refresh at a time.
 * `createTokenCredential` and `fetchToken` are built on it.
 */
export class TokenClient {
  private readonly policy: RetryPolicy;
  private readonly endpoint: string;
  private inFlight: Promise<TokenResponse> | undefined;
  private identity: string | undefined;

  constructor(private readonly options: TokenClientOptions) {
    this.policy = retryPolicy(options.retry);
    this.endpoint = `${options.url.replace(/\/+$/, '')}/api/token`;
    this.identity = options.communicationUserId;
  }

  /**
   * A fresh token. However many callers ask at once, one refresh runs and all of them get its
   * result. `signal` aborts this caller's wait (and the shared refresh when it is the only one).
   */
  token(signal?: AbortSignal): Promise<TokenResponse> {
    this.inFlight ??= this.refresh(eitherSignal(this.options.signal, signal)).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  emit(event: TokenEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch {
      // A UI hook that throws must not break the refresh it reports on.
    }
  }

  private async refresh(signal: AbortSignal | undefined): Promise<TokenResponse> {
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw abortReason(signal);
      let failure: TokenServiceError;
      try {
        const issued = await this.requestOnce(signal);
        if (this.options.keepIdentity) this.identity = issued.user.communicationUserId;
        this.emit({
          type: 'refreshed',
          user: { communicationUserId: issued.user.communicationUserId },
          expiresOn: new Date(issued.expiresOn),
          attempts: attempt,
        });
        return issued;
      } catch (err) {
        if (isAbort(err, signal) || !(err instanceof TokenServiceError)) throw err;
        failure = err;
      }
      failure.attempts = attempt;
      if (failure.status === 401) {
        this.emit({ type: 'unauthorized', error: failure });
        try {
          this.options.onUnauthorized?.(failure);
        } catch {
          // The app's sign-in hook failing is the app's to report.
        }
        throw failure;
      }
      const delayMs = this.delayAfter(failure, attempt);
      if (delayMs === undefined) throw failure;
      this.emit({ type: 'retrying', attempt, delayMs, error: failure });
      await pause(delayMs, signal);
    }
  }

  /** How long to wait before trying again, or undefined when this failure is final. */
  private delayAfter(failure: TokenServiceError, attempt: number): number | undefined {
    if (attempt >= this.policy.maxAttempts) return undefined;
    if (failure.code === 'network_error' || failure.code === 'token_expires_too_soon') {
      return backoffMs(this.policy, attempt);
    }
    if (!RETRYABLE_STATUS.has(failure.status)) return undefined;
    const asked = failure.retryAfterSeconds;
    if (asked === undefined) return backoffMs(this.policy, attempt);
    if (asked * 1000 > this.policy.maxRetryAfterMs) return undefined;
    return retryAfterMs(this.policy, asked);
  }

  private async requestOnce(signal: AbortSignal | undefined): Promise<TokenResponse> {
    const { scopes, expiresInMinutes, credentials, getHeaders } = this.options;
    const body: TokenRequest = {
      ...(scopes ? { scopes } : {}),
      ...(expiresInMinutes !== undefined ? { expiresInMinutes } : {}),
      ...(this.identity ? { communicationUserId: this.identity } : {}),
    };
    const headers = {
      ...(getHeaders ? await getHeaders() : {}),
      accept: 'application/json',
      'content-type': 'application/json',
    };
    const doFetch = this.options.fetch ?? globalThis.fetch;
    let response: Response;
    try {
      response = await doFetch(this.endpoint, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        ...(credentials ? { credentials } : {}),
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      if (isAbort(err, signal)) throw err;
      throw new TokenServiceError(
        'network_error',
        0,
        `the token service at ${this.endpoint} could not be reached`,
        undefined,
        undefined,
        { cause: err },
      );
    }
    if (!response.ok) throw await this.errorOf(response);
    let issued: unknown;
    try {
      issued = await response.json();
    } catch (err) {
      if (isAbort(err, signal)) throw err;
      issued = undefined;
    }
    if (!isTokenResponse(issued)) {
      throw new TokenServiceError(
        'invalid_response',
        response.status,
        'the token service answered 200 without a token',
      );
    }
    const left = (expiresAtMs(issued.token) ?? Date.parse(issued.expiresOn)) - Date.now();
    if (!(left >= MIN_TOKEN_LIFETIME_MS)) {
      throw new TokenServiceError(
        'token_expires_too_soon',
        response.status,
        `the token service handed out a token that expires in ${Math.round(left / 1000)} s by this ` +
          "device's clock; tokens live at least 60 minutes, so check that the clock is right",
      );
    }
    return issued;
  }

  private async errorOf(response: Response): Promise<TokenServiceError> {
    const problem = await problemOf(response);
    const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
    if (problem) {
      return new TokenServiceError(
        problem.code,
        response.status,
        problem.detail || problem.title,
        problem,
        retryAfter,
      );
    }
    return new TokenServiceError(
      response.status === 401 ? 'unauthenticated' : 'http_error',
      response.status,
      `the token service answered ${response.status}`,
      undefined,
      retryAfter,
    );
  }
}

/**
 * One token from the service, with the same retries, events and errors as the credential: for
 * backends that hand tokens to their users, and for pages that want the identity id too.
 */
export async function fetchToken(options: TokenClientOptions): Promise<TokenResponse> {
  const client = new TokenClient(options);
  try {
    return await client.token();
  } catch (err) {
    if (err instanceof TokenServiceError && err.status !== 401) {
      client.emit({ type: 'gave-up', attempts: err.attempts, error: err });
    }
    throw err;
  }
}
