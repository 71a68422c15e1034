import type { HttpRequest, HttpRequestUser } from '@azure/functions';
import type { AuthMode } from '../config';
import { keyId, type Caller } from '../domain/caller';
import type { CallerLimits } from '../domain/callerLimits';
import { AppError } from '../domain/errors';
import { bearerFailureReason, rejected, type BearerVerifier } from '../domain/bearer';
import type { EasyAuthProof } from './easyAuthProof';
import { authenticatedKey, ordinalIgnoreCase } from './functionKey';
import { exactPrincipalId } from './principalId';
import type { RequestFacts } from './requestFacts';

interface AppServiceClaims {
  claims?: { typ?: unknown; val?: unknown }[];
  role_typ?: unknown;
}

function rolesOf(data: Record<string, unknown>): string[] {
  const { claims, role_typ: roleType } = data as AppServiceClaims;
  if (!Array.isArray(claims)) return [];
  const roleTypes = new Set(['roles', typeof roleType === 'string' ? roleType : 'roles']);
  return claims.flatMap((c) =>
    typeof c?.typ === 'string' && roleTypes.has(c.typ) && typeof c.val === 'string' ? [c.val] : [],
  );
}

/** The decoded `X-MS-CLIENT-PRINCIPAL` claims, or `{}` when it is missing or malformed. */
function principalClaims(header: string | null): Record<string, unknown> {
  if (!header) return {};
  try {
    const data: unknown = JSON.parse(Buffer.from(header, 'base64').toString('utf8'));
    return data && typeof data === 'object' && !Array.isArray(data)
      ? (data as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

/**
 * The App Service principal when the library cannot give it. App-only callers (service
 * principals, managed identities, daemons with a bearer token) have an id and an identity
 * provider but no name, so App Service sends no `X-MS-CLIENT-PRINCIPAL-NAME`, and the library's
 * `request.user` throws on the missing header (azure-functions-nodejs-library#374, its
 * src/http/extractHttpUserFromHeaders.ts). Only id and provider identify a principal.
 */
function appServicePrincipal(request: HttpRequest): HttpRequestUser | null {
  const id = request.headers.get('x-ms-client-principal-id');
  const identityProvider = request.headers.get('x-ms-client-principal-idp');
  if (!id || !identityProvider) return null;
  const claimsPrincipalData = principalClaims(request.headers.get('x-ms-client-principal'));
  // A Static Web Apps principal names its provider inside; that is not what App Service sends.
  if (claimsPrincipalData.identityProvider !== undefined) return null;
  return {
    type: 'AppService',
    id,
    username: request.headers.get('x-ms-client-principal-name') ?? '',
    identityProvider,
    claimsPrincipalData,
  };
}

/**
 * Who is calling. In easyauth mode the principal comes from the headers App Service injects
 * (parsed by the library's `request.user`, or by `appServicePrincipal` where the library throws);
 * they are trusted only because config refuses easyauth mode unless the platform reports Easy
 * Auth on, and the platform strips client copies. Any principal with an id and an identity
 * provider is a caller, a signed-in user or an app-only one alike.
 */
export function callerFrom(request: HttpRequest, authMode: AuthMode): Caller {
  if (authMode === 'jwt') throw new Error('jwt callers are resolved by bearerCaller');
  if (authMode === 'key') {
    return { kind: 'keyHolder', keyId: keyId(ordinalIgnoreCase(authenticatedKey(request))) };
  }
  let user: HttpRequestUser | null;
  try {
    user = request.user ?? appServicePrincipal(request);
  } catch {
    user = appServicePrincipal(request);
  }
  if (!user || user.type !== 'AppService' || !user.id || !user.identityProvider) {
    throw new AppError(
      'unauthenticated',
      'Sign in first; this endpoint serves signed-in users only.',
    );
  }
  return {
    kind: 'principal',
    provider: user.identityProvider,
    id: exactPrincipalId(user.id, user.claimsPrincipalData),
    roles: rolesOf(user.claimsPrincipalData),
  };
}

/**
 * Token and user routes need a function key in key mode. In easyauth mode the platform's sign-in
 * guards them instead (browsers cannot keep a key secret), and in jwt mode the app checks the
 * bearer token itself, so the Functions level is anonymous and `callerFrom` / `bearerCaller`
 * refuse requests without a principal.
 */
export function protectedAuthLevel(authMode: AuthMode): 'function' | 'anonymous' {
  return authMode === 'easyauth' || authMode === 'jwt' ? 'anonymous' : 'function';
}

// RFC 6750 §2.1: `Authorization: Bearer <b64token>`.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const JWS_LIKE = /^eyJ[\w-]*\.[\w-]*\./;

/**
 * The bearer token of a request. One in the query string (RFC 6750 §2.3's `access_token`, or
 * anything shaped like a JWT) is refused even when a header carries one too: URLs end up in
 * proxy logs, browser history and Referer headers.
 */
function bearerTokenOf(request: HttpRequest): string {
  for (const [name, value] of request.query) {
    if (name === 'access_token' || JWS_LIKE.test(value)) {
      throw rejected(
        'token in query string',
        'Tokens are not accepted in the query string; send Authorization: Bearer <token>.',
      );
    }
  }
  const header = request.headers.get('authorization');
  if (!header || !/^Bearer(\s|$)/i.test(header)) {
    // No credentials at all: RFC 6750 §3.1 says to challenge without an error code.
    throw new AppError('unauthenticated', 'Send an access token: Authorization: Bearer <token>.', {
      challenge: 'Bearer',
    });
  }
  const token = BEARER.exec(header)?.[1];
  if (!token)
    throw rejected('malformed authorization header', 'The token is not a well-formed JWT.');
  return token;
}

/**
 * In jwt mode: the principal a valid bearer token names. Its key is `iss` + `sub`, so each
 * caller of the provider keeps one ACS identity; its roles come from OIDC_ROLES_CLAIM and feed
 * TOKEN_POLICY as Easy Auth roles do. Why a token was refused goes to the request's log record.
 */
export async function bearerCaller(
  request: HttpRequest,
  verifier: BearerVerifier,
  facts: RequestFacts,
): Promise<Caller> {
  try {
    const identity = await verifier.verify(bearerTokenOf(request));
    return {
      kind: 'principal',
      provider: identity.issuer,
      id: identity.subject,
      roles: identity.roles,
    };
  } catch (err) {
    facts.authFailure = bearerFailureReason(err) ?? (err instanceof AppError ? err.code : 'error');
    throw err;
  }
}

/**
 * The caller of a protected route, admitted against its rate limit before anything else runs:
 * a limited caller costs no validation work and no ACS call.
 */
export async function admitCaller(
  request: HttpRequest,
  {
    config,
    limits,
    bearer,
    easyAuthProof,
  }: {
    config: { authMode: AuthMode };
    limits: CallerLimits;
    bearer?: BearerVerifier | undefined;
    easyAuthProof?: EasyAuthProof | undefined;
  },
  facts: RequestFacts,
): Promise<Caller> {
  const caller =
    config.authMode === 'jwt'
      ? await bearerCaller(request, requireVerifier(bearer), facts)
      : callerFrom(request, config.authMode);
  if (config.authMode === 'easyauth') await easyAuthProof?.check(request, caller, facts);
  facts.callerKind = caller.kind;
  limits.admit(caller);
  return caller;
}

function requireVerifier(verifier: BearerVerifier | undefined): BearerVerifier {
  if (!verifier) throw new Error('jwt mode without an OIDC verifier');
  return verifier;
}
