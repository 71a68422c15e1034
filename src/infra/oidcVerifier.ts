import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import type { OidcSettings } from '../config';
import { isHttpsOrLoopback } from '../loopback';
import {
  BearerFailure,
  rejected,
  type BearerIdentity,
  type BearerVerifier,
} from '../domain/bearer';
import { AppError } from '../domain/errors';

/**
 * After a JWKS fetch, a token whose `kid` is not in the set triggers no new fetch for this long,
 * whatever callers send: a flood of made-up `kid`s costs no network call (jose's
 * `createRemoteJWKSet` cooldownDuration, https://github.com/panva/jose/blob/main/docs/jwks/remote/functions/createRemoteJWKSet.md).
 */
export const JWKS_REFETCH_COOLDOWN_MS = 30_000;
/** While the provider cannot be reached, one attempt per this long; requests in between get 503. */
export const PROVIDER_RETRY_MS = 5_000;
/** Keys are refreshed at least this often even when every `kid` is known. */
const JWKS_MAX_AGE_MS = 10 * 60_000;
const FETCH_TIMEOUT_MS = 5_000;
/** Larger than any provider's access token; refused before anything parses it. */
export const MAX_TOKEN_CHARS = 12 * 1024;
/** A JOSE header holds alg, kid, typ and a thumbprint or two: a few hundred characters. */
export const MAX_HEADER_CHARS = 2048;

/** Turns jose's failure codes into why the token was refused (logged) and what the caller reads. */
const REASONS: Record<string, [reason: string, detail: string]> = {
  ERR_JWT_EXPIRED: ['expired', 'The token has expired.'],
  ERR_JOSE_ALG_NOT_ALLOWED: [
    'algorithm not allowed',
    'The token is not signed with an accepted algorithm.',
  ],
  ERR_JOSE_NOT_SUPPORTED: [
    'algorithm not supported',
    'The token is not signed with an accepted algorithm.',
  ],
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: ['bad signature', 'The token signature does not verify.'],
  ERR_JWKS_NO_MATCHING_KEY: [
    'unknown signing key',
    'The token is not signed by a key of the issuer.',
  ],
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: [
    'ambiguous signing key',
    'The token is not signed by a key of the issuer.',
  ],
  ERR_JWS_INVALID: ['malformed', 'The token is not a well-formed JWT.'],
  ERR_JWT_INVALID: ['malformed', 'The token is not a well-formed JWT.'],
};

const CLAIM_DETAILS: Record<string, string> = {
  iss: 'The token comes from another issuer.',
  aud: 'The token is meant for another audience.',
  nbf: 'The token is not valid yet.',
  exp: 'The token has no expiry.',
  sub: 'The token names no subject.',
};

type Jose = typeof import('jose');

/**
 * Validates bearer tokens from one OpenID Connect provider with jose: signature against the
 * provider's JWKS (found through discovery unless OIDC_JWKS_URI is set), `iss` exactly, `aud`,
 * `exp` and `nbf` with the configured skew, and the algorithm allow-list.
 *
 * jose is ESM-only; it is loaded on first use, so the CommonJS code that never runs jwt mode (and
 * Jest, which cannot require ESM on Node 20) never loads it. The bundle carries it either way.
 */
export class OidcVerifier implements BearerVerifier {
  private keys: Promise<JWTVerifyGetKey> | undefined;
  private lastFailureAt = -Infinity;

  constructor(
    private readonly settings: OidcSettings,
    private readonly fetchImpl: typeof fetch = fetch,
    private readonly now: () => number = Date.now,
  ) {}

  /** The caller named by `token`, or an `invalid_token` (401) / provider-unavailable (503) error. */
  async verify(token: string): Promise<BearerIdentity> {
    if (token.length > MAX_TOKEN_CHARS)
      throw rejected('oversized token', 'The token is too large.');
    const headerEnd = token.indexOf('.');
    if (headerEnd > MAX_HEADER_CHARS || (headerEnd < 0 && token.length > MAX_HEADER_CHARS)) {
      throw rejected('oversized header', 'The token header is too large.');
    }
    const jose = await import('jose');
    const keys = await this.keySet(jose);
    let payload: JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(token, keys, {
        issuer: this.settings.issuer,
        audience: this.settings.audiences,
        algorithms: this.settings.algorithms,
        clockTolerance: this.settings.clockSkewSeconds,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (err) {
      throw this.toRejection(jose, err);
    }
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 256) {
      throw rejected('sub not a usable string', CLAIM_DETAILS.sub ?? '');
    }
    return {
      issuer: this.settings.issuer,
      subject: payload.sub,
      objectId: typeof payload.oid === 'string' && payload.oid !== '' ? payload.oid : undefined,
      roles: rolesIn(payload[this.settings.rolesClaim]),
    };
  }

  private toRejection(jose: Jose, err: unknown): AppError {
    if (err instanceof jose.errors.JWTClaimValidationFailed) {
      // jose names the claim and whether it was missing or wrong; neither holds the token.
      const missing = err.reason === 'missing';
      return rejected(
        `${err.claim} ${missing ? 'missing' : err.reason === 'check_failed' ? 'check failed' : 'invalid'}`,
        (missing && err.claim !== 'exp' ? `The token has no ${err.claim} claim.` : undefined) ??
          CLAIM_DETAILS[err.claim] ??
          'A claim of the token is not valid.',
      );
    }
    if (err instanceof jose.errors.JWKSTimeout) return this.unavailable('jwks fetch timed out');
    if (err instanceof jose.errors.JWKSInvalid) return this.unavailable('jwks is not a key set');
    // jose's generic error is only thrown for a JWKS answer that is not 200 or not JSON.
    if (err instanceof jose.errors.JOSEError && err.code === 'ERR_JOSE_GENERIC') {
      return this.unavailable('jwks fetch answered badly');
    }
    if (err instanceof jose.errors.JOSEError) {
      const [reason, detail] = REASONS[err.code] ?? ['not valid', 'The token is not valid.'];
      return rejected(reason, detail);
    }
    // Not jose's: the JWKS fetch itself failed (network, HTTP status).
    return this.unavailable('jwks fetch failed', err);
  }

  private unavailable(why: string, err?: unknown): AppError {
    this.lastFailureAt = this.now();
    const name = err instanceof Error ? ` (${err.name})` : '';
    return new AppError(
      'identity_provider_unavailable',
      'The sign-in provider could not be reached to check the token; try again shortly.',
      {
        retryAfterSeconds: Math.ceil(PROVIDER_RETRY_MS / 1000),
        cause: new BearerFailure(`${why}${name}`),
      },
    );
  }

  /** The provider's key set, discovered once; while the provider is down, retried every few s. */
  private async keySet(jose: Jose): Promise<JWTVerifyGetKey> {
    if (!this.keys) {
      if (this.now() - this.lastFailureAt < PROVIDER_RETRY_MS) {
        throw this.unavailable('provider unreachable moments ago');
      }
      const pending = this.discoverJwksUri().then((uri) =>
        jose.createRemoteJWKSet(uri, {
          cooldownDuration: JWKS_REFETCH_COOLDOWN_MS,
          cacheMaxAge: JWKS_MAX_AGE_MS,
          timeoutDuration: FETCH_TIMEOUT_MS,
          // jose's cooldown starts at a successful fetch; this also spaces out failed ones.
          [jose.customFetch]: (url, init) => {
            if (this.now() - this.lastFailureAt < PROVIDER_RETRY_MS) {
              return Promise.reject(new Error('provider recently unreachable'));
            }
            return this.fetchImpl(url, init).catch((err: unknown) => {
              this.lastFailureAt = this.now();
              throw err;
            });
          },
        }),
      );
      this.keys = pending;
      pending.catch(() => {
        if (this.keys === pending) this.keys = undefined;
      });
    }
    try {
      return await this.keys;
    } catch (err) {
      throw err instanceof AppError ? err : this.unavailable('jwks set-up failed', err);
    }
  }

  /**
   * OpenID Connect Discovery 1.0 §4: the document lives at the issuer + /.well-known/openid-configuration,
   * and its `issuer` must be exactly the issuer asked about (§4.3), else its keys are not the issuer's.
   */
  private async discoverJwksUri(): Promise<URL> {
    if (this.settings.jwksUri) return this.settings.jwksUri;
    const base = this.settings.issuer.replace(/\/+$/, '');
    let doc: { issuer?: unknown; jwks_uri?: unknown };
    try {
      const res = await this.fetchImpl(`${base}/.well-known/openid-configuration`, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
        redirect: 'error',
      });
      if (!res.ok) throw new BearerFailure(`discovery answered ${res.status}`);
      doc = (await res.json()) as typeof doc;
    } catch (err) {
      throw err instanceof BearerFailure
        ? this.unavailable(err.message)
        : this.unavailable('discovery failed', err);
    }
    if (doc.issuer !== this.settings.issuer) {
      throw this.unavailable('discovery names another issuer than OIDC_ISSUER');
    }
    let uri: URL | undefined;
    try {
      uri = typeof doc.jwks_uri === 'string' ? new URL(doc.jwks_uri) : undefined;
    } catch {
      uri = undefined;
    }
    if (!uri || !isHttpsOrLoopback(uri)) {
      throw this.unavailable('discovery jwks_uri is not an https URL');
    }
    return uri;
  }
}

/** Roles from the configured claim: an array of strings, or one string naming one role. */
function rolesIn(claim: unknown): string[] {
  if (typeof claim === 'string') return [claim];
  if (!Array.isArray(claim)) return [];
  return claim.filter((r): r is string => typeof r === 'string');
}
