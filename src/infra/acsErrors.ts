import { AppError } from '../domain/errors';
import { asRestError } from './restError';

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
 * Translates whatever the ACS client threw into the service's vocabulary. ACS's own message is
 * not passed on: it can name the resource, and the caller cannot act on it anyway.
 */
export function fromAcsError(err: unknown, timedOut: boolean): AppError {
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
  if (status === 404) {
    return new AppError('identity_not_found', 'That ACS identity does not exist.', { cause: err });
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

/** A short, secret-free description of an upstream failure for logs. */
export function describeUpstreamFailure(err: unknown): string {
  const rest = asRestError(err);
  return [rest.name, rest.code, rest.statusCode].filter((v) => v !== undefined).join(' ');
}
