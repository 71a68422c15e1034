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

/**
 * Who is calling. In easyauth mode the principal comes from the headers App Service injects
 * (parsed by the library's `request.user`); they are trusted only because config refuses
 * easyauth mode unless the platform reports Easy Auth on, and the platform strips client copies.
 */
function callerFrom(request: HttpRequest, authMode: AuthMode): Caller {
  if (authMode === 'key') {
    const key = request.headers.get('x-functions-key') ?? request.query.get('code') ?? '';
    return { kind: 'keyHolder', keyId: keyId(key) };
  }
  let user: HttpRequestUser | null;
  try {
    user = request.user;
  } catch {
    user = null; // a principal header without its companions makes the getter throw
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
