import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';

interface Jwks {
  keys: (JsonWebKey & { kid?: string })[];
}

/**
 * Verifies an RS256 JWT against a JWKS URL and returns its claims; throws when the signature
 * does not hold. Written on node:crypto so the check does not trust the emulator's own library.
 */
export async function verifyWithJwks(
  token: string,
  jwksUrl: string,
): Promise<Record<string, unknown>> {
  const [header64, payload64, signature64] = token.split('.');
  if (!header64 || !payload64 || !signature64) throw new Error('not a JWT');
  const header = JSON.parse(Buffer.from(header64, 'base64url').toString()) as {
    alg?: string;
    kid?: string;
  };
  if (header.alg !== 'RS256') throw new Error(`unexpected alg ${header.alg}`);
  const jwks = (await (await fetch(jwksUrl)).json()) as Jwks;
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) throw new Error('no key in the JWKS for this token');
  const ok = verify(
    'RSA-SHA256',
    Buffer.from(`${header64}.${payload64}`),
    createPublicKey({ key: jwk, format: 'jwk' }),
    Buffer.from(signature64, 'base64url'),
  );
  if (!ok) throw new Error('signature does not verify');
  return JSON.parse(Buffer.from(payload64, 'base64url').toString()) as Record<string, unknown>;
}
