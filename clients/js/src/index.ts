export { createTokenCredential, type TokenCredentialOptions } from './credential.js';
export {
  fetchToken,
  MIN_TOKEN_LIFETIME_MS,
  type TokenClientOptions,
  type TokenEvent,
} from './client.js';
export {
  isTokenServiceError,
  TokenServiceError,
  type ClientErrorCode,
  type TokenErrorCode,
} from './errors.js';
export { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
export type { AcsScope, Problem, ProblemCode, TokenRequest, TokenResponse } from './contract.js';
