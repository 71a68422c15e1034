/**
 * The service's one error vocabulary. Every failure a caller can see is an `AppError` with a
 * stable `code`; `src/http/problem.ts` is the only place that turns it into HTTP.
 */
export const ERROR_CATALOGUE = {
  invalid_request: { status: 400, title: 'The request is not valid' },
  invalid_json: { status: 400, title: 'The body is not valid JSON' },
  unsupported_content_type: { status: 400, title: 'The body must be application/json' },
  unauthenticated: { status: 401, title: 'Sign-in required' },
  scope_not_allowed: { status: 403, title: 'Scope not allowed' },
  expiry_not_allowed: { status: 403, title: 'Token lifetime not allowed' },
  forbidden: { status: 403, title: 'Not allowed' },
  identity_not_found: { status: 404, title: 'Identity not found' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  length_required: { status: 411, title: 'The body needs a Content-Length' },
  payload_too_large: { status: 413, title: 'The body is too large' },
  rate_limited: { status: 429, title: 'Too many requests' },
  upstream_throttled: { status: 429, title: 'Azure Communication Services is throttling requests' },
  internal_error: { status: 500, title: 'Internal error' },
  upstream_error: { status: 502, title: 'Azure Communication Services returned an error' },
  upstream_unavailable: { status: 503, title: 'Azure Communication Services is unavailable' },
  upstream_timeout: { status: 504, title: 'Azure Communication Services did not answer in time' },
  storage_unavailable: { status: 503, title: 'The identity map is unavailable' },
  upstream_auth_failed: {
    status: 503,
    title: 'The service cannot authenticate to Azure Communication Services',
  },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface FieldError {
  field: string;
  message: string;
}

interface AppErrorOptions {
  errors?: FieldError[];
  retryAfterSeconds?: number;
  allow?: readonly string[];
  cause?: unknown;
  /** For operators, in the log only: what to check. Never a secret, never shown to callers. */
  operatorHint?: string;
}

export class AppError extends Error {
  readonly status: number;
  readonly title: string;
  readonly errors: FieldError[] | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly allow: readonly string[] | undefined;
  readonly operatorHint: string | undefined;

  constructor(
    readonly code: ErrorCode,
    /** Shown to the caller: must never contain a secret. */
    readonly detail: string,
    options: AppErrorOptions = {},
  ) {
    super(`${code}: ${detail}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.status = ERROR_CATALOGUE[code].status;
    this.title = ERROR_CATALOGUE[code].title;
    this.errors = options.errors;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.allow = options.allow;
    this.operatorHint = options.operatorHint;
  }
}

/**
 * ACS no longer knows the identity: deleted (404), or of another resource (401 IdentityNotOwned,
 * e.g. a map moved to a new ACS resource); `fromAcsError` reads both as `identity_not_found`.
 */
export function isIdentityNotFound(err: unknown): boolean {
  return err instanceof AppError && err.code === 'identity_not_found';
}
