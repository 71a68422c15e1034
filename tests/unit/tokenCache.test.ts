import { randomBytes } from 'node:crypto';
import { CallerIdentities } from '../../src/domain/callerIdentities';
import { servesGrant, type CachedToken } from '../../src/domain/tokenCache';
import { AesTokenSealer } from '../../src/infra/aesTokenSealer';
import { FakeIdentityService, MemoryIdentityMap } from '../support/fakes';

const MIN = 60_000;
const entry = (minutesLeft: number, scopes: CachedToken['scopes'] = ['voip']): CachedToken => ({
  token: 'tok',
  expiresOn: minutesLeft * MIN,
  scopes,
});

describe('servesGrant', () => {
  const grant = (expiresInMinutes: number, scopes: CachedToken['scopes'] = ['voip']) => ({
    scopes,
    expiresInMinutes,
  });

  it('serves the same scopes with at least max(15 min, half the lifetime) left', () => {
    expect(servesGrant(entry(50), grant(60), 0)).toBe(true);
    expect(servesGrant(entry(30), grant(60), 0)).toBe(true);
    expect(servesGrant(entry(29), grant(60), 0)).toBe(false);
    expect(servesGrant(entry(700), grant(1440), 0)).toBe(false);
    expect(servesGrant(entry(720), grant(1440), 0)).toBe(true);
  });

  it('never serves a token with less than 15 minutes left, whatever the lifetime', () => {
    // ACS lifetimes start at 60 minutes; a 20-minute grant shows the floor on its own.
    expect(servesGrant(entry(15), grant(20), 0)).toBe(true);
    expect(servesGrant(entry(14.9), grant(20), 0)).toBe(false);
  });

  it('never serves other scopes or a longer life than asked for', () => {
    expect(servesGrant(entry(50, ['voip', 'chat']), grant(60, ['chat', 'voip']), 0)).toBe(true);
    expect(servesGrant(entry(50, ['voip', 'chat']), grant(60, ['voip']), 0)).toBe(false);
    expect(servesGrant(entry(600), grant(60), 0)).toBe(false);
  });
});

describe('AesTokenSealer', () => {
  const sealer = new AesTokenSealer(randomBytes(32));
  const value = entry(50);

  it('round-trips and never stores the token in clear', () => {
    const sealed = sealer.seal(value, 'p|id|0');
    expect(sealed).toMatch(/^v1\./);
    expect(sealed).not.toContain('tok');
    expect(sealer.open(sealed, 'p|id|0')).toEqual(value);
  });

  it('treats a wrong key, another binding or tampering as a miss', () => {
    const sealed = sealer.seal(value, 'p|id|0');
    expect(new AesTokenSealer(randomBytes(32)).open(sealed, 'p|id|0')).toBeUndefined();
    expect(sealer.open(sealed, 'p|id|1')).toBeUndefined();
    const raw = Buffer.from(sealed.slice(3), 'base64');
    raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 1;
    expect(sealer.open(`v1.${raw.toString('base64')}`, 'p|id|0')).toBeUndefined();
    expect(sealer.open('v1.', 'p|id|0')).toBeUndefined();
    expect(sealer.open('garbage', 'p|id|0')).toBeUndefined();
  });
});

describe('CallerIdentities with the token cache', () => {
  function setup() {
    const identity = new FakeIdentityService();
    const map = new MemoryIdentityMap();
    let now = Date.now();
    const callers = new CallerIdentities({
      identity,
      map,
      leaseMs: 15_000,
      waitMs: 12_000,
      cache: new AesTokenSealer(randomBytes(32)),
      now: () => now,
    });
    return { identity, map, callers, advance: (ms: number) => (now += ms) };
  }
  const voip = { scopes: ['voip' as const], expiresInMinutes: 60 };

  it('answers a returning principal from the cache without calling ACS', async () => {
    const { identity, callers } = setup();
    const first = await callers.token('p1', voip);
    const again = await callers.token('p1', voip);
    expect(again).toEqual(first);
    expect(identity.calls).toEqual(['createUserAndToken']);
  });

  it('goes to ACS for other scopes, then caches those', async () => {
    const { identity, callers } = setup();
    await callers.token('p1', voip);
    const chat = { scopes: ['chat' as const], expiresInMinutes: 60 };
    await callers.token('p1', chat);
    await callers.token('p1', chat);
    expect(identity.calls).toEqual(['createUserAndToken', 'getToken']);
  });

  it('refreshes once the cached token is past half its life', async () => {
    const { identity, callers, advance } = setup();
    await callers.token('p1', voip);
    advance(31 * MIN);
    await callers.token('p1', voip);
    expect(identity.calls).toEqual(['createUserAndToken', 'getToken']);
  });

  it('forgets cached tokens on revoke and on delete', async () => {
    const { identity, callers } = setup();
    const first = await callers.token('p1', voip);
    await callers.revoke('p1');
    const afterRevoke = await callers.token('p1', voip);
    expect(afterRevoke.accessToken.token).not.toBe(first.accessToken.token);
    expect(identity.calls).toEqual(['createUserAndToken', 'revokeTokens', 'getToken']);
    await callers.remove('p1');
    const fresh = await callers.token('p1', voip);
    expect(fresh.communicationUserId).not.toBe(first.communicationUserId);
  });
});
