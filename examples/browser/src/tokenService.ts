/** What `POST /api/token` answers with on success. */
export interface TokenResponse {
  user: { communicationUserId: string };
  token: string;
  /** ISO-8601; the same instant as the token's `exp` claim. */
  expiresOn: string;
}

/** The service's RFC 9457 error body (`application/problem+json`). */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
}

/** A refused or failed token request; `status` 0 means the service could not be reached. */
export class TokenServiceError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
    /** From `Retry-After`, when the service sent one. */
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(problem?.detail ?? `token request failed with status ${status}`);
    this.name = 'TokenServiceError';
  }
}

export interface TokenRequest {
  scopes: string[];
  /** Key mode only: sent as `x-functions-key`. Easy Auth callers send their session cookie. */
  functionKey?: string;
  /** Bearer mode only: the access token from the app's OpenID Connect provider. */
  bearerToken?: string;
  /** Key mode only: renew this identity instead of creating a new one. */
  communicationUserId?: string;
  signal?: AbortSignal;
}

/** Seconds from a `Retry-After` header (delta-seconds or an HTTP date). */
export function retryAfterSeconds(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

async function problemOf(response: Response): Promise<Problem | undefined> {
  // The host itself answers a missing key or an unknown path with an empty body.
  if (!response.headers.get('content-type')?.includes('json')) return undefined;
  try {
    return (await response.json()) as Problem;
  } catch {
    return undefined;
  }
}

/** One `POST /api/token`; throws `TokenServiceError` for anything but 200. */
export async function requestToken(request: TokenRequest): Promise<TokenResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (request.functionKey) headers['x-functions-key'] = request.functionKey;
  if (request.bearerToken) headers.authorization = `Bearer ${request.bearerToken}`;
  const body: Record<string, unknown> = { scopes: request.scopes };
  if (request.communicationUserId) body.communicationUserId = request.communicationUserId;
  let response: Response;
  try {
    response = await fetch('/api/token', {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      // Easy Auth's session cookie rides along; the page never sees it (it is HttpOnly).
      credentials: 'same-origin',
      ...(request.signal ? { signal: request.signal } : {}),
    });
  } catch (err) {
    if (request.signal?.aborted) throw err;
    throw new TokenServiceError(0, undefined, undefined);
  }
  if (response.ok) return (await response.json()) as TokenResponse;
  throw new TokenServiceError(
    response.status,
    await problemOf(response),
    retryAfterSeconds(response.headers.get('retry-after')),
  );
}

function pause(seconds: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, seconds * 1000);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });
}

/**
 * `requestToken`, waiting out a 429 as the service asks (`Retry-After`) a few times. Other
 * failures are not retried: a 401 or 403 will not change by asking again, and the service
 * already decided that an upstream failure is not worth an immediate retry.
 */
export async function requestTokenPolitely(
  request: TokenRequest,
  onWait: (seconds: number) => void,
  attempts = 3,
): Promise<TokenResponse> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await requestToken(request);
    } catch (err) {
      if (!(err instanceof TokenServiceError) || err.status !== 429 || attempt >= attempts) {
        throw err;
      }
      const seconds = err.retryAfterSeconds ?? 1;
      onWait(seconds);
      await pause(seconds, request.signal);
    }
  }
}

export type AuthMode = 'easyauth' | 'key' | 'bearer';

/** What to tell a person when a token request fails. */
export function inPlainWords(err: unknown, mode: AuthMode): string {
  if (!(err instanceof TokenServiceError)) return 'Something went wrong in the page; reload it.';
  const { status, problem, retryAfterSeconds: wait } = err;
  if (status === 0) return 'The token service cannot be reached — check your connection';
  if (status === 401) {
    if (mode === 'easyauth') return 'You are signed out — sign in again';
    if (mode === 'bearer') {
      return 'The access token is missing, expired or not valid — sign in again to get a new one';
    }
    return 'The function key is missing or wrong — paste a valid key';
  }
  if (status === 403) return problem?.detail ?? 'You may not be given this token';
  if (status === 429) return `Too many requests — try again in ${wait ?? 1} s`;
  if (status >= 500) return 'The token service is having trouble';
  return problem?.detail ?? problem?.title ?? `The token service answered ${status}`;
}

/** The message shown while `requestTokenPolitely` waits out a 429. */
export function waitingInPlainWords(seconds: number): string {
  return `Too many requests — retrying in ${seconds} s`;
}
