import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  type JsonWebKey,
  type KeyObject,
  randomUUID,
  sign,
  verify,
} from 'node:crypto';
import { promisify } from 'node:util';

// node:crypto rather than jose: jose 6 is ESM-only, and this module must load through
// plain require() both in the CommonJS build and inside Jest (which cannot require ESM on
// Node 20). The tokens are ordinary RS256 JWTs, so jose verifies them all the same.
const generateKeyPairAsync = promisify(generateKeyPair);

export interface AccessTokenClaims {
  sub: string;
  skypeid: string;
  acsScope: string;
  scp: string[];
  iat: number;
  exp: number;
  jti: string;
  iss: string;
  resourceId: string;
}

export interface IssuedToken {
  token: string;
  /** ISO-8601, exactly `exp` (tokens use whole seconds). */
  expiresOn: string;
  claims: AccessTokenClaims;
}

export interface PublicJwk extends JsonWebKey {
  kid: string;
  alg: 'RS256';
  use: 'sig';
}

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  jwk: PublicJwk;
}

/** A fresh RS256 key pair; its kid is the RFC 7638 thumbprint of the public key. */
export async function createSigningKey(): Promise<SigningKey> {
  const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048 });
  return signingKeyOf(privateKey);
}

/** The signing key kept in a state file (PKCS#8 PEM); throws when the PEM is not an RSA key. */
export function signingKeyFromPem(pem: string): SigningKey {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'rsa') throw new Error('the signing key is not an RSA key');
  return signingKeyOf(privateKey);
}

export function signingKeyToPem(key: SigningKey): string {
  return key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

function signingKeyOf(privateKey: KeyObject): SigningKey {
  const publicKey = createPublicKey(privateKey);
  const { kty, n, e } = publicKey.export({ format: 'jwk' });
  const jwk: PublicJwk = { kty, n, e, kid: thumbprint(kty, n, e), alg: 'RS256', use: 'sig' };
  return { privateKey, publicKey, jwk };
}

/** Signs and checks access tokens with a key that lives as long as the emulator. */
export class TokenSigner {
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  private readonly jwk: PublicJwk;

  constructor(
    key: SigningKey,
    private readonly issuer: string,
    private readonly resourceId: string,
  ) {
    this.privateKey = key.privateKey;
    this.publicKey = key.publicKey;
    this.jwk = key.jwk;
  }

  jwks(): { keys: PublicJwk[] } {
    return { keys: [{ ...this.jwk }] };
  }

  issue(
    subject: string,
    scopes: readonly string[],
    expiresInMinutes: number,
    nowMs: number,
  ): IssuedToken {
    const iat = Math.floor(nowMs / 1000);
    return this.issueUntil(subject, scopes, iat + expiresInMinutes * 60, nowMs);
  }

  /** A token that expires at `exp` (seconds): a Teams user's ends with their Entra token. */
  issueUntil(subject: string, scopes: readonly string[], exp: number, nowMs: number): IssuedToken {
    const iat = Math.floor(nowMs / 1000);
    const claims: AccessTokenClaims = {
      sub: subject,
      skypeid: subject.replace(/^8:/, ''),
      acsScope: scopes.join(','),
      scp: [...scopes],
      iat,
      exp,
      jti: randomUUID(),
      iss: this.issuer,
      resourceId: this.resourceId,
    };
    const header = { alg: 'RS256', kid: this.jwk.kid, typ: 'JWT' };
    const signingInput = `${base64UrlJson(header)}.${base64UrlJson(claims)}`;
    const signature = sign('sha256', Buffer.from(signingInput), this.privateKey);
    return {
      token: `${signingInput}.${signature.toString('base64url')}`,
      expiresOn: acsDateTime(claims.exp * 1000),
      claims,
    };
  }

  /**
   * Returns the claims of a token this signer issued, or undefined when the token is not one
   * (malformed, other key, tampered). Expiry and revocation are the caller's judgement.
   */
  verify(token: string): AccessTokenClaims | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const [encodedHeader = '', encodedClaims = '', encodedSignature = ''] = parts;
    const header = parseJsonSegment(encodedHeader);
    if (header?.alg !== 'RS256' || header.kid !== this.jwk.kid) return undefined;
    const valid = verify(
      'sha256',
      Buffer.from(`${encodedHeader}.${encodedClaims}`),
      this.publicKey,
      Buffer.from(encodedSignature, 'base64url'),
    );
    if (!valid) return undefined;
    const claims = parseJsonSegment(encodedClaims);
    return claims && isAccessTokenClaims(claims) && claims.iss === this.issuer ? claims : undefined;
  }
}

function thumbprint(kty?: string, n?: string, e?: string): string {
  const canonical = JSON.stringify({ e, kty, n });
  return createHash('sha256').update(canonical).digest('base64url');
}

function base64UrlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function parseJsonSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function isAccessTokenClaims(
  c: Record<string, unknown>,
): c is Record<string, unknown> & AccessTokenClaims {
  return (
    typeof c.sub === 'string' &&
    typeof c.skypeid === 'string' &&
    typeof c.acsScope === 'string' &&
    Array.isArray(c.scp) &&
    c.scp.every((s) => typeof s === 'string') &&
    Number.isInteger(c.iat) &&
    Number.isInteger(c.exp) &&
    typeof c.jti === 'string' &&
    typeof c.iss === 'string' &&
    typeof c.resourceId === 'string'
  );
}

/**
 * A time as ACS writes `expiresOn`: seven fractional digits and `+00:00`, e.g.
 * `2022-09-08T13:34:55.6279516+00:00` (azure-sdk-for-js sdk/communication/communication-identity/
 * recordings/node/communicationidentityclient_playbacklive/
 * recording_successfully_gets_a_token_with_max_valid_custom_expiration.json). ACS's digits carry
 * the sub-second part of the issue time; here `expiresOn` stays equal to the token's whole-second
 * `exp`, so the digits past the millisecond are zeros.
 */
export function acsDateTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000+00:00');
}
