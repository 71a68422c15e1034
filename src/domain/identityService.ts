import type { AcsScope } from './scopes';

/**
 * The ACS Identity operations as ACS counts its quotas (the service-limits page, Identity table):
 * the throttle gate holds them back one by one, and /api/health names them.
 */
export const ACS_OPERATION_CLASSES = [
  'createUserAndToken',
  'issueAccessToken',
  'revokeAccessTokens',
  'deleteIdentity',
  'exchangeTeamsToken',
] as const;
export type AcsOperationClass = (typeof ACS_OPERATION_CLASSES)[number];

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
  /** A Teams user's Entra ID token for an ACS token of that user (`getTokenForTeamsUser`). */
  exchangeTeamsToken(
    teamsUserAadToken: string,
    appId: string,
    userId: string,
  ): Promise<AccessToken>;
}
