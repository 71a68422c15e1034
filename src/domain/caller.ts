import { createHash } from 'node:crypto';

/**
 * Who is asking. In key mode the caller is whoever holds the function key (a trusted backend);
 * in easyauth mode it is the principal App Service signed in.
 */
export type Caller =
  | { kind: 'keyHolder'; keyId: string }
  | { kind: 'principal'; provider: string; id: string; roles: string[] };

type Principal = Extract<Caller, { kind: 'principal' }>;

/**
 * The identity map's key for a principal: a hash, so the table never holds a user name, an
 * email or a raw provider id. The provider is part of it because ids are only unique per provider.
 */
export function principalKey(principal: Pick<Principal, 'provider' | 'id'>): string {
  return createHash('sha256')
    .update(`${principal.provider.toLowerCase()}\n${principal.id}`)
    .digest('hex');
}

/** Identifies a function key without keeping it: rate limits count per key. */
export function keyId(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}
