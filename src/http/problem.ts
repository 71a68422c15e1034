import type { HttpResponseInit, InvocationContext } from '@azure/functions';
import type { ProblemBody } from '../contracts/problem';
import { AppError, type ErrorCode } from '../domain/errors';
import { describeFailure } from '../infra/restError';
import { SECURITY_HEADERS } from './headers';
import { logEvent } from './log';

const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Stable problem `type` URI for an error code (RFC 9457 §3.1.1). */
function problemType(code: ErrorCode): string {
  return `urn:acs-token-service:problem:${code}`;
}

/**
 * The only place an error becomes HTTP. Anything that is not an `AppError` is a bug: it is
 * logged by name only (its message could hold a secret) and answered as a bare 500.
 */
export function toProblemResponse(
  err: unknown,
  context: InvocationContext,
  instance?: string,
): HttpResponseInit {
  const appError = err instanceof AppError ? err : undefined;
  const problem =
    appError ?? new AppError('internal_error', 'The service hit an unexpected error.');
  if (!appError) {
    logEvent(context, 'error', 'unhandled_error', {
      errorName: err instanceof Error ? err.name : typeof err,
    });
  } else if (problem.status >= 500 || problem.code === 'upstream_throttled') {
    logEvent(context, 'warn', 'dependency_failure', {
      code: problem.code,
      cause: describeFailure(problem.cause),
      ...(problem.operatorHint ? { check: problem.operatorHint } : {}),
    });
  }
  const body: ProblemBody = {
    type: problemType(problem.code),
    title: problem.title,
    status: problem.status,
    detail: problem.detail,
    code: problem.code,
    ...(instance ? { instance } : {}),
    invocationId: context.invocationId,
    ...(problem.errors ? { errors: problem.errors } : {}),
  };
  const headers: Record<string, string> = {
    ...SECURITY_HEADERS,
    'Content-Type': PROBLEM_CONTENT_TYPE,
  };
  if (problem.retryAfterSeconds !== undefined) {
    headers['Retry-After'] = String(problem.retryAfterSeconds);
  }
  if (problem.allow) headers.Allow = problem.allow.join(', ');
  if (problem.challenge) headers['WWW-Authenticate'] = problem.challenge;
  return { status: problem.status, headers, body: JSON.stringify(body) };
}
