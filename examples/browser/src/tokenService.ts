import {
  isTokenServiceError,
  type TokenClientOptions,
  type TokenEvent,
} from 'acs-token-service-client';

export type AuthMode = 'easyauth' | 'key' | 'bearer';

/** How the page asks the service: one place for what each auth mode sends. */
export function tokenOptions(
  mode: AuthMode,
  scopes: TokenClientOptions['scopes'],
  secrets: { functionKey: () => string; bearerToken: () => string },
  onEvent: (event: TokenEvent) => void,
): TokenClientOptions {
  return {
    url: '',
    scopes,
    // Easy Auth's session cookie rides along; the page never sees it (it is HttpOnly).
    credentials: 'same-origin',
    getHeaders: (): Record<string, string> => {
      if (mode === 'bearer') {
        const token = secrets.bearerToken();
        return token ? { authorization: `Bearer ${token}` } : {};
      }
      if (mode === 'key') {
        const key = secrets.functionKey();
        return key ? { 'x-functions-key': key } : {};
      }
      return {};
    },
    onEvent,
  };
}

/** What to tell a person when a token request fails. */
export function inPlainWords(err: unknown, mode: AuthMode): string {
  if (!isTokenServiceError(err)) return 'Something went wrong in the page; reload it.';
  const { status, problem, retryAfterSeconds: wait } = err;
  if (err.code === 'network_error')
    return 'The token service cannot be reached — check your connection';
  if (err.code === 'token_expires_too_soon') return err.message;
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

/** The message shown while the package waits before trying again. */
export function waitingInPlainWords(event: Extract<TokenEvent, { type: 'retrying' }>): string {
  const seconds = event.error.retryAfterSeconds ?? Math.max(1, Math.round(event.delayMs / 1000));
  if (event.error.status === 429) return `Too many requests — retrying in ${seconds} s`;
  if (event.error.code === 'network_error') return `No answer — retrying in ${seconds} s`;
  return `Trying again in ${seconds} s`;
}
