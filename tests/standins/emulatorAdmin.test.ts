import { isAdminPath, isLoopback, needsLoopback } from '../../dev/emulator/admin';

describe('emulator admin access', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['10.0.0.5', false],
    ['::ffff:192.168.1.2', false],
    ['fe80::1', false],
    [undefined, false],
  ])('treats %s as loopback: %s', (address, expected) => {
    expect(isLoopback(address)).toBe(expected);
  });

  it('serves the admin surface and the JWKS without HMAC, and only the JWKS to anyone', () => {
    expect(['/admin/stats', '/admin', '/.well-known/jwks.json'].map(isAdminPath)).toEqual([
      true,
      true,
      true,
    ]);
    expect(['/identities', '/administrator'].map(isAdminPath)).toEqual([false, false]);
    expect(needsLoopback('/.well-known/jwks.json')).toBe(false);
    expect(needsLoopback('/admin/introspect')).toBe(true);
  });
});
