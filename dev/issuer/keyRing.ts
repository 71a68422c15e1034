import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

/** A published signing key: its `kid` and public JWK. */
export interface PublishedKey extends JWK {
  kid: string;
  kty: string;
  alg: 'RS256';
  use: 'sig';
}

interface RingKey {
  kid: string;
  privateKey: KeyPair['privateKey'];
  publicJwk: PublishedKey;
}

/**
 * The issuer's RS256 keys. One signs; the ones it replaced stay published until retired, as an
 * OpenID provider does during a rollover, so tokens already handed out keep verifying.
 */
export class KeyRing {
  private constructor(private keys: RingKey[]) {}

  static async create(): Promise<KeyRing> {
    return new KeyRing([await newKey()]);
  }

  get signingKey(): Readonly<RingKey> {
    const key = this.keys[0];
    if (!key) throw new Error('the key ring is empty');
    return key;
  }

  /** Publishes a new key and signs with it from now on; `retire` unpublishes all older keys. */
  async rollover(retire: boolean): Promise<void> {
    const fresh = await newKey();
    this.keys = retire ? [fresh] : [fresh, ...this.keys];
  }

  jwks(): { keys: PublishedKey[] } {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }
}

async function newKey(): Promise<RingKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return {
    kid,
    privateKey,
    publicJwk: { ...jwk, kty: jwk.kty ?? 'RSA', kid, alg: 'RS256', use: 'sig' },
  };
}
