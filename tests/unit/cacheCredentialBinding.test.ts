import { randomBytes } from 'node:crypto';

import { loadConfig } from '../../src/config';
import { CallerIdentities } from '../../src/domain/callerIdentities';
import { AesTokenSealer } from '../../src/infra/aesTokenSealer';
import { cacheScopeOf, credentialFingerprint } from '../../src/infra/credentialFingerprint';
import { FakeIdentityService, MemoryIdentityMap } from '../support/fakes';

const voip = { scopes: ['voip' as const], expiresInMinutes: 60 };
const connection = (key: string) =>
  `endpoint=https://res.communication.azure.com/;accesskey=${key}`;
const KEY_1 = randomBytes(32).toString('base64');
const KEY_2 = randomBytes(32).toString('base64');
const config = (key: string, extra: Record<string, string> = {}) =>
  loadConfig({ ACS_CONNECTION_STRING: connection(key), ...extra });

describe('cache entries bound to the ACS credential and TOKEN_CACHE_EPOCH', () => {
  // One ACS resource (the fake) and one identity map, seen by instances with different settings.
  const identity = new FakeIdentityService();
  function instance(map: MemoryIdentityMap, sealer: AesTokenSealer, cacheScope: string) {
    const callers = new CallerIdentities({
      identity,
      map,
      leaseMs: 15_000,
      waitMs: 12_000,
      cache: sealer,
      cacheScope,
    });
    return { callers };
  }

  it('never serves an entry cached under another credential or epoch', async () => {
    const map = new MemoryIdentityMap();
    const sealer = new AesTokenSealer(randomBytes(32));
    const before = instance(map, sealer, cacheScopeOf(config(KEY_1)));
    const first = await before.callers.token('p1', voip);
    expect((await before.callers.token('p1', voip)).accessToken.token).toBe(
      first.accessToken.token,
    );

    const rotated = instance(map, sealer, cacheScopeOf(config(KEY_2)));
    const afterRotation = await rotated.callers.token('p1', voip);
    // A cache miss: the new credential's instance asks ACS for a token for the same identity.
    expect(afterRotation.communicationUserId).toBe(first.communicationUserId);
    expect(identity.calls).toEqual(['createUserAndToken', 'getToken']);
    expect((await rotated.callers.token('p1', voip)).accessToken.token).toBe(
      afterRotation.accessToken.token,
    );
    expect(identity.calls).toHaveLength(2);

    const epoch = instance(map, sealer, cacheScopeOf(config(KEY_2, { TOKEN_CACHE_EPOCH: '2' })));
    await epoch.callers.token('p1', voip);
    expect(identity.calls).toEqual(['createUserAndToken', 'getToken', 'getToken']);
  });

  it('fingerprints the credential without showing it', () => {
    const one = credentialFingerprint(config(KEY_1).acs);
    expect(one).toBe(credentialFingerprint(config(KEY_1).acs));
    expect(one).not.toBe(credentialFingerprint(config(KEY_2).acs));
    expect(one).not.toContain(KEY_1.slice(0, 8));
    const mi = loadConfig({ ACS_ENDPOINT: 'https://res.communication.azure.com/' });
    expect(credentialFingerprint(mi.acs)).toMatch(/^[\w-]{16,}$/);
  });

  it('reads TOKEN_CACHE_EPOCH, empty by default, and refuses odd values', () => {
    expect(config(KEY_1).tokenCacheEpoch).toBe('');
    expect(config(KEY_1, { TOKEN_CACHE_EPOCH: '2026-12-02' }).tokenCacheEpoch).toBe('2026-12-02');
    expect(() => config(KEY_1, { TOKEN_CACHE_EPOCH: 'a|b' })).toThrow(/TOKEN_CACHE_EPOCH/);
  });
});
