import { AppError } from '../../src/domain/errors';
import { fromAcsError, parseRetryAfter } from '../../src/infra/acsErrors';

function restError(
  statusCode: number | undefined,
  headers: Record<string, string> = {},
  code: string | undefined = statusCode === undefined ? 'ECONNREFUSED' : undefined,
) {
  return Object.assign(new Error('Operation failed: accesskey=abc'), {
    name: 'RestError',
    statusCode,
    code,
    response: { headers: { get: (n: string) => headers[n.toLowerCase()] } },
  });
}

describe('fromAcsError', () => {
  it.each([
    [429, 'upstream_throttled', 429, 7],
    [503, 'upstream_unavailable', 503, 7],
    [500, 'upstream_error', 502, undefined],
    [401, 'upstream_auth_failed', 503, undefined],
    [403, 'upstream_auth_failed', 503, undefined],
    [404, 'identity_not_found', 404, undefined],
  ])('maps ACS %i to %s (%i)', (acsStatus, code, status, retryAfter) => {
    const err = fromAcsError(restError(acsStatus, { 'retry-after': '7' }), false);
    expect(err).toBeInstanceOf(AppError);
    expect({ code: err.code, status: err.status, retryAfter: err.retryAfterSeconds }).toEqual({
      code,
      status,
      retryAfter,
    });
    expect(err.detail).not.toContain('accesskey');
  });

  it('maps 401 IdentityNotOwned (an identity of another resource) to identity_not_found', () => {
    const err = fromAcsError(restError(401, {}, 'IdentityNotOwned'), false);
    expect([err.code, err.status]).toEqual(['identity_not_found', 404]);
  });

  it('names the setting to check for a refused credential, never its value', () => {
    const keyed = fromAcsError(restError(401), false, 'connectionString');
    expect(keyed.operatorHint).toContain('ACS_CONNECTION_STRING');
    const managed = fromAcsError(restError(403), false, 'managedIdentity');
    expect(managed.operatorHint).toContain('ACS_ENDPOINT');
    expect(managed.operatorHint).toContain('role');
    expect(`${keyed.detail} ${keyed.operatorHint}`).not.toContain('abc');
  });

  it('maps an unreachable ACS to 503 with a default Retry-After', () => {
    const err = fromAcsError(restError(undefined), false);
    expect([err.code, err.status, err.retryAfterSeconds]).toEqual(['upstream_unavailable', 503, 5]);
  });

  it('maps a missed deadline to 504 whatever was thrown', () => {
    expect(fromAcsError(restError(undefined), true).code).toBe('upstream_timeout');
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    expect(fromAcsError(abort, false).status).toBe(504);
  });

  it('passes an AppError through unchanged', () => {
    const original = new AppError('invalid_request', 'x');
    expect(fromAcsError(original, false)).toBe(original);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates, bounded to 1..3600', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('12', now)).toBe(12);
    expect(parseRetryAfter('0', now)).toBe(1);
    expect(parseRetryAfter('999999', now)).toBe(3600);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
