import type { AcsScope } from './scopes';

export interface AccessToken {
  token: string;
  expiresOn: Date;
}

export interface IssuedIdentity {
  communicationUserId: string;
  accessToken: AccessToken;
}

/**
 * What the domain needs from ACS Identity. The production implementation is
 * `AcsIdentityGateway.observedBy` (src/infra); it translates every ACS failure into an `AppError`.
 */
export interface IdentityService {
  /** One round trip: a new identity and its first token. */
  createUserAndToken(scopes: AcsScope[], expiresInMinutes: number): Promise<IssuedIdentity>;
  getToken(
    communicationUserId: string,
    scopes: AcsScope[],
    expiresInMinutes: number,
  ): Promise<AccessToken>;
  revokeTokens(communicationUserId: string): Promise<void>;
  deleteUser(communicationUserId: string): Promise<void>;
}
