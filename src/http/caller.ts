import type { HttpRequest, HttpRequestUser } from '@azure/functions';
import type { AuthMode } from '../config';
import { keyId, type Caller } from '../domain/caller';
import type { CallerLimits } from '../domain/callerLimits';
import { AppError } from '../domain/errors';
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
  if (authMode === 'key') {
    const key = request.headers.get('x-functions-key') ?? request.query.get('code') ?? '';
    return { kind: 'keyHolder', keyId: keyId(key) };
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
    id: user.id,
    roles: rolesOf(user.claimsPrincipalData),
  };
}

/**
 * Token and user routes need a function key in key mode. In easyauth mode the platform's sign-in
 * guards them instead (browsers cannot keep a key secret), so the Functions level is anonymous
 * and `callerFrom` refuses requests without a principal.
 */
export function protectedAuthLevel(authMode: AuthMode): 'function' | 'anonymous' {
  return authMode === 'easyauth' ? 'anonymous' : 'function';
}

/**
 * The caller of a protected route, admitted against its rate limit before anything else runs:
 * a limited caller costs no validation work and no ACS call.
 */
export function admitCaller(
  request: HttpRequest,
  { config, limits }: { config: { authMode: AuthMode }; limits: CallerLimits },
  facts: RequestFacts,
): Caller {
  const caller = callerFrom(request, config.authMode);
  facts.callerKind = caller.kind;
  limits.admit(caller);
  return caller;
}
