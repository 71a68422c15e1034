import { randomBytes, randomUUID } from 'node:crypto';

import { AcsError, badRequest } from './errors';
import { decodeAccessKey, verifyHmac, type SignedRequest } from './hmac';

export type KeyType = 'Primary' | 'Secondary';

interface AccessKey {
  /** Never shown outside the admin surface; tokens remember this id instead. */
  id: string;
  value: string;
  bytes: Buffer;
}

/** What ARM's `listKeys` / `regenerateKey` return for a Communication Services resource. */
export interface ResourceKeys {
  primaryKey: string;
  secondaryKey: string;
  primaryConnectionString: string;
  secondaryConnectionString: string;
}

function makeKey(value = randomBytes(32).toString('base64')): AccessKey {
  return { id: randomUUID(), value, bytes: decodeAccessKey(value) };
}

/**
 * The resource's two access keys. A Communication Services resource has a primary and a
 * secondary key, and ARM regenerates one at a time (operation CommunicationServices_RegenerateKey,
 * body `{"keyType":"Primary"|"Secondary"}`, answering both keys and both connection strings:
 * https://learn.microsoft.com/dotnet/api/azure.resourcemanager.communication.communicationserviceresource.regeneratekey).
 * Either key signs server calls. Regenerating one makes the old value fail HMAC (401) and, as ACS
 * documents for key rotation, revokes every user access token issued by a call signed with it;
 * so each token's issuing key is remembered (by key id, in memory, never in the token).
 */
export class AccessKeys {
  private primary: AccessKey;
  private secondary: AccessKey;
  private readonly retired = new Set<string>();
  private readonly issuedUnder = new Map<string, string>();

  constructor(
    private readonly endpoint: string,
    primaryValue?: string,
    secondaryValue?: string,
  ) {
    this.primary = makeKey(primaryValue);
    this.secondary = makeKey(secondaryValue);
  }

  /** The id of the key that signed `req`; throws ACS's 401 when neither did. */
  verify(req: SignedRequest, nowMs: number): string {
    try {
      verifyHmac(req, this.primary.bytes, nowMs);
      return this.primary.id;
    } catch (err) {
      if (!(err instanceof AcsError)) throw err;
      verifyHmac(req, this.secondary.bytes, nowMs);
      return this.secondary.id;
    }
  }

  recordIssued(jti: string, keyId: string): void {
    this.issuedUnder.set(jti, keyId);
  }

  /** True when the token `jti` was issued under a key that has since been regenerated. */
  revokedByRotation(jti: string): boolean {
    const keyId = this.issuedUnder.get(jti);
    return keyId !== undefined && this.retired.has(keyId);
  }

  regenerate(keyType: KeyType): ResourceKeys {
    const fresh = makeKey();
    if (keyType === 'Primary') {
      this.retired.add(this.primary.id);
      this.primary = fresh;
    } else {
      this.retired.add(this.secondary.id);
      this.secondary = fresh;
    }
    return this.list();
  }

  list(): ResourceKeys {
    return {
      primaryKey: this.primary.value,
      secondaryKey: this.secondary.value,
      primaryConnectionString: `endpoint=${this.endpoint};accesskey=${this.primary.value}`,
      secondaryConnectionString: `endpoint=${this.endpoint};accesskey=${this.secondary.value}`,
    };
  }
}

export function parseKeyType(body: unknown): KeyType {
  const keyType =
    typeof body === 'object' && body !== null && !Array.isArray(body)
      ? (body as Record<string, unknown>).keyType
      : undefined;
  if (keyType !== 'Primary' && keyType !== 'Secondary') {
    throw badRequest("'keyType' must be 'Primary' or 'Secondary'.");
  }
  return keyType;
}
