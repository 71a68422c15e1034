/* global fetch, TextEncoder */
// Forges the attack tokens of the jwt-mode tests with jose, in its own Node process (jose is
// ESM-only and Jest runs CommonJS). Reads {jwksUrl, claims, kinds, count} as JSON from argv[2];
// prints {kind: token | token[]} as JSON.
import { createPublicKey, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';

const { jwksUrl, claims, kinds, count = 1 } = JSON.parse(process.argv[2]);
const jwks = await (await fetch(jwksUrl)).json();
const published = jwks.keys[0];
const now = Math.floor(Date.now() / 1000);
const full = { iat: now, nbf: now, exp: now + 600, ...claims };
const attacker = await generateKeyPair('RS256', { extractable: true });

const forgers = {
  // alg "none": no signature at all.
  none: () => new UnsecuredJWT(full).encode(),
  // The classic key-confusion attack: HS256 keyed with the issuer's public key (PEM and JWK text).
  hs256PublicKeyPem: () =>
    new SignJWT(full).setProtectedHeader({ alg: 'HS256', kid: published.kid, typ: 'JWT' }).sign(
      new TextEncoder().encode(
        createPublicKey({ key: published, format: 'jwk' }).export({
          type: 'spki',
          format: 'pem',
        }),
      ),
    ),
  hs256PublicKeyJwk: () =>
    new SignJWT(full)
      .setProtectedHeader({ alg: 'HS256', kid: published.kid, typ: 'JWT' })
      .sign(new TextEncoder().encode(JSON.stringify(published))),
  // Signed by a key of the attacker's, claiming the issuer's kid.
  otherKeySameKid: () =>
    new SignJWT(full)
      .setProtectedHeader({ alg: 'RS256', kid: published.kid, typ: 'JWT' })
      .sign(attacker.privateKey),
  // The attacker's key embedded in the header (a verifier that trusts "jwk" would accept it).
  embeddedJwk: async () =>
    new SignJWT(full)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', jwk: await exportJWK(attacker.publicKey) })
      .sign(attacker.privateKey),
  // A made-up kid each time: the flood.
  unknownKid: () =>
    new SignJWT(full)
      .setProtectedHeader({ alg: 'RS256', kid: randomUUID(), typ: 'JWT' })
      .sign(attacker.privateKey),
};

const out = {};
for (const kind of kinds) {
  const make = forgers[kind];
  if (!make) throw new Error(`unknown kind ${kind}`);
  out[kind] = count === 1 ? await make() : await Promise.all(Array.from({ length: count }, make));
}
process.stdout.write(JSON.stringify(out));
