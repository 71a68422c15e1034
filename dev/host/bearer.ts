import type { JWTPayload } from 'jose';

/** Where the Easy Auth stand-in takes bearer tokens from, and for whom they must be. */
export interface BearerOptions {
  /** The OpenID Connect issuer (`iss`); its keys come from its discovery document. */
  issuer: string;
  /** Accepted `aud` values, like Easy Auth's `allowedAudiences`. */
  audiences: string[];
}

/** Claims in the `X-MS-CLIENT-PRINCIPAL` shape. */
export interface Claim {
  typ: string;
  val: string;
}

/** The principal App Service hands the app for a valid bearer token. */
export interface BearerPrincipal {
  id: string;
  /** Absent for app-only callers: App Service then sends no `X-MS-CLIENT-PRINCIPAL-NAME`. */
  name: string | undefined;
  claims: Claim[];
  appOnly: boolean;
}

const OBJECT_ID_CLAIM = 'http://schemas.microsoft.com/identity/claims/objectidentifier';
const NAME_ID_CLAIM = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier';

type Verify = (token: string) => Promise<JWTPayload>;

/**
 * A token is app-only (client credentials: a daemon, a service principal, a managed identity)
 * when it says so (`idtyp: app`, Entra's optional claim) or carries no delegated scopes (`scp`):
 * Entra issues `scp` only to tokens acting for a user, `roles` alone to applications.
 */
function isAppOnly(payload: JWTPayload): boolean {
  return payload.idtyp === 'app' || typeof payload.scp !== 'string' || payload.scp === '';
}

function claimsOf(payload: JWTPayload): Claim[] {
  const claims: Claim[] = [];
  for (const [typ, value] of Object.entries(payload)) {
    for (const val of Array.isArray(value) ? value : [value]) {
      if (typeof val === 'string' || typeof val === 'number' || typeof val === 'boolean') {
        // App Service maps some Entra claim names to the long WS-* forms; `oid` is the one the
        // id comes from, so both forms are given.
        claims.push({ typ: typ === 'oid' ? OBJECT_ID_CLAIM : typ, val: String(val) });
      }
    }
  }
  if (typeof payload.sub === 'string') claims.push({ typ: NAME_ID_CLAIM, val: payload.sub });
  return claims;
}

/**
 * Checks a bearer token the way App Service Authentication does for Entra ID callers that send
 * `Authorization: Bearer` (mobile apps, daemons; learn.microsoft.com/azure/app-service/
 * configure-authentication-provider-aad, "Daemon client application"): signature against the
 * issuer's published keys, issuer, audience and lifetime, with jose. Any failure is "no
 * principal" (undefined), never a principal with less checked.
 */
export function bearerVerifier(options: BearerOptions) {
  let verify: Promise<Verify> | undefined;
  const load = async (): Promise<Verify> => {
    const { createRemoteJWKSet, jwtVerify } = await import('jose');
    const discovery = new URL(
      '.well-known/openid-configuration',
      `${options.issuer.replace(/\/$/, '')}/`,
    );
    const response = await fetch(discovery, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) throw new Error(`discovery answered ${response.status}`);
    const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
    if (document.issuer !== options.issuer || typeof document.jwks_uri !== 'string') {
      throw new Error('the discovery document names another issuer or no jwks_uri');
    }
    const keys = createRemoteJWKSet(new URL(document.jwks_uri));
    return async (token) =>
      (
        await jwtVerify(token, keys, {
          issuer: options.issuer,
          audience: options.audiences,
          algorithms: ['RS256', 'ES256', 'PS256'],
          requiredClaims: ['exp'],
        })
      ).payload;
  };

  return async (token: string): Promise<BearerPrincipal | undefined> => {
    verify ??= load();
    let payload: JWTPayload;
    try {
      payload = await (await verify)(token);
    } catch (err) {
      // A missing issuer is retried on the next token; a bad token is just refused.
      if (!(err instanceof Error && 'code' in err)) verify = undefined;
      return undefined;
    }
    const id = typeof payload.oid === 'string' ? payload.oid : payload.sub;
    if (!id) return undefined;
    const appOnly = isAppOnly(payload);
    const name = appOnly
      ? undefined
      : [payload.preferred_username, payload.upn, payload.name, payload.sub].find(
          (v): v is string => typeof v === 'string' && v !== '',
        );
    return { id, name, claims: claimsOf(payload), appOnly };
  };
}
