import { createHash } from 'node:crypto';
import type { Config } from '../config';
import type { AcsConnection } from '../config';

/**
 * A short, one-way fingerprint of the ACS credential in use: the access key of the connection
 * string or, with managed identity, the endpoint alone (the key it never sees; hence
 * TOKEN_CACHE_EPOCH). Only the key counts, not the endpoint text, so instances that reach the same
 * resource under different spellings of its address share their cache. Rotating the key changes
 * it, so every cache entry sealed under the old key stops opening. It is only ever used as part of
 * a sealing binding (authenticated, never stored) and must not be logged.
 */
export function credentialFingerprint(acs: AcsConnection): string {
  const material =
    acs.kind === 'connectionString'
      ? `accessKey\n${/accesskey=([^;]+)/i.exec(acs.connectionString)?.[1]?.trim() ?? ''}`
      : `managedIdentity\n${acs.endpoint.href}`;
  return createHash('sha256')
    .update('acs-token-service token-cache binding v1\n')
    .update(material)
    .digest('base64url')
    .slice(0, 22);
}

/**
 * What every cache entry of this instance is bound to besides its principal: the operator's
 * TOKEN_CACHE_EPOCH (for rotations the app cannot see, such as a key regenerated behind managed
 * identity) and the credential fingerprint.
 */
export function cacheScopeOf(config: Pick<Config, 'acs' | 'tokenCacheEpoch'>): string {
  return `${config.tokenCacheEpoch}|${credentialFingerprint(config.acs)}`;
}
