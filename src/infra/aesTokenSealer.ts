import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { CachedToken, TokenSealer } from '../domain/tokenCache';

const VERSION = 'v1';

/** AES-256-GCM with a fresh 96-bit nonce per entry; the binding is authenticated, not stored. */
export class AesTokenSealer implements TokenSealer {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('the token cache key must be 32 bytes');
  }

  seal(entry: CachedToken, binding: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(binding));
    const body = Buffer.concat([cipher.update(JSON.stringify(entry), 'utf8'), cipher.final()]);
    return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  open(sealed: string, binding: string): CachedToken | undefined {
    try {
      const [version, payload] = sealed.split('.');
      if (version !== VERSION || !payload) return undefined;
      const raw = Buffer.from(payload, 'base64');
      if (raw.length < 29) return undefined;
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(binding));
      decipher.setAuthTag(raw.subarray(12, 28));
      const json = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString(
        'utf8',
      );
      const entry = JSON.parse(json) as CachedToken;
      const valid =
        typeof entry.token === 'string' &&
        typeof entry.expiresOn === 'number' &&
        Array.isArray(entry.scopes);
      return valid ? entry : undefined;
    } catch {
      return undefined; // wrong key, tampered or truncated: a miss, never an error
    }
  }
}
