/** The local OpenID Connect issuer (development and tests only). See `startIssuer`. */
export { startIssuer, DISCOVERY_PATH, JWKS_PATH } from './server';
export type { IssuerStats, RunningIssuer } from './server';
export { DEV_AUDIENCE } from './tokenRequest';
export type { TokenRequest } from './tokenRequest';
