import type { JWTVerifyGetKey } from 'jose';

import { AcsError, badRequest, methodNotAllowed } from './errors';

/**
 * Microsoft Entra ID sign-in to the emulated resource, as ACS takes it: `Authorization: Bearer`
 * with a token for `https://communication.azure.com` (the scope the SDK asks for is
 * `https://communication.azure.com//.default`: node_modules/@azure/communication-common/dist/
 * commonjs/credential/communicationAuthPolicy.js), signed by the tenant's keys, unexpired, from
 * the tenant's v1 issuer. A token that fails any of these is not authenticated (401); an
 * authenticated principal that holds no role on the resource is not authorized (403). Statuses
 * as ACS's REST reference states them (learn.microsoft.com/rest/api/communication/errorcodes:
 * 401 "authentication ... invalid, expired, or not suitable", 403 "authorized, but has
 * insufficient permissions"). The role infra grants the app is Contributor on the resource
 * (infra/modules/roles.bicep, with its sources).
 *
 * The keys are the local issuer's (dev/issuer), the tokens the local managed-identity endpoint's
 * (dev/identity), standing in for Entra ID and App Service's token service.
 */
export interface EntraOptions {
  /** Where the signing keys are published (the local issuer's JWKS). */
  jwksUrl: string;
  /** The tenant whose tokens are accepted: `iss` must be https://sts.windows.net/<tid>/. */
  tenantId: string;
  /** Principal (object) ids that hold the role on the resource from the start. */
  roleHolders?: string[];
}

/** The role infra/modules/roles.bicep assigns the app on the ACS resource. */
export const ACS_ROLE = 'Contributor';
/** The application id URI of ACS, with and without the slash the SDK's scope leaves on it. */
export const ACS_AUDIENCES = [
  'https://communication.azure.com',
  'https://communication.azure.com/',
];
/** Entra's allowance for clock skew between issuer and resource. */
const CLOCK_TOLERANCE_SECONDS = 300;

export const notAuthenticated = (reason: string): AcsError =>
  new AcsError(401, 'InvalidAuthenticationToken', `The access token is not valid: ${reason}.`);

export const noRole = (principalId: string): AcsError =>
  new AcsError(
    403,
    'Forbidden',
    `The principal '${principalId}' has no role assignment on this Communication Services resource that allows the operation.`,
  );

export class EntraAuth {
  private keys: JWTVerifyGetKey | undefined;
  private readonly holders: Set<string>;
  readonly issuer: string;

  constructor(readonly options: EntraOptions) {
    this.holders = new Set((options.roleHolders ?? []).map((p) => p.toLowerCase()));
    this.issuer = `https://sts.windows.net/${options.tenantId}/`;
  }

  /** The principal id of a token that is valid and holds the role; throws ACS's 401 or 403. */
  async authorize(token: string, nowMs: number): Promise<string> {
    // Loaded here: jose is ESM-only, and the rest of the emulator must load through require().
    const jose = await import('jose');
    this.keys ??= jose.createRemoteJWKSet(new URL(this.options.jwksUrl));
    let oid: unknown;
    try {
      const { payload } = await jose.jwtVerify(token, this.keys, {
        algorithms: ['RS256'],
        issuer: this.issuer,
        audience: ACS_AUDIENCES,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate: new Date(nowMs),
        requiredClaims: ['exp', 'oid'],
      });
      oid = payload.oid;
    } catch (err) {
      throw notAuthenticated(reasonOf(err, jose.errors));
    }
    if (typeof oid !== 'string' || oid === '') throw notAuthenticated('it names no principal');
    if (!this.holders.has(oid.toLowerCase())) throw noRole(oid);
    return oid;
  }

  grant(principalId: string): void {
    this.holders.add(principalId.toLowerCase());
  }

  remove(principalId: string): void {
    this.holders.delete(principalId.toLowerCase());
  }

  roleHolders(): string[] {
    return [...this.holders].sort();
  }
}

function reasonOf(err: unknown, joseErrors: typeof import('jose').errors): string {
  if (err instanceof joseErrors.JWTExpired) return 'it has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    return err.claim === 'aud'
      ? 'it is for another audience'
      : err.claim === 'iss'
        ? 'it is from another issuer or tenant'
        : `its '${err.claim}' claim is not acceptable`;
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed)
    return 'its signature does not verify';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'no published key signed it';
  return 'it cannot be read';
}

const ROLES_PATH = '/admin/roles';
const PRINCIPAL = /^[0-9A-Za-z-]{1,64}$/;

/**
 * `GET /admin/roles` (who holds the role), `PUT /admin/roles/<principalId>` (assign it) and
 * `DELETE /admin/roles/<principalId>` (remove it): what `az role assignment create/delete`
 * does to the resource, so a test can take the app's role away. Undefined for other paths.
 */
export function handleRoleAdmin(
  method: string,
  pathname: string,
  entra: EntraAuth | undefined,
): { status: number; body?: unknown } | undefined {
  if (pathname !== ROLES_PATH && !pathname.startsWith(`${ROLES_PATH}/`)) return undefined;
  if (!entra) throw badRequest('This emulator was started without Entra ID sign-in (entra).');
  if (pathname === ROLES_PATH) {
    if (method !== 'GET') throw methodNotAllowed(method, ['GET']);
    return { status: 200, body: { role: ACS_ROLE, principals: entra.roleHolders() } };
  }
  const principalId = decodeURIComponent(pathname.slice(ROLES_PATH.length + 1));
  if (!PRINCIPAL.test(principalId)) throw badRequest('The principal id is not a GUID.');
  if (method === 'PUT') entra.grant(principalId);
  else if (method === 'DELETE') entra.remove(principalId);
  else throw methodNotAllowed(method, ['PUT', 'DELETE']);
  return { status: 204 };
}
