/** The local managed-identity endpoint (development and tests only). See `startManagedIdentityEndpoint`. */
export {
  API_VERSION,
  LOCAL_TENANT_ID,
  SYSTEM_ASSIGNED,
  startManagedIdentityEndpoint,
  TOKEN_PATH,
} from './managedIdentity';
export type {
  LocalManagedIdentity,
  ManagedIdentityOptions,
  ManagedIdentityStats,
  RunningManagedIdentity,
} from './managedIdentity';
