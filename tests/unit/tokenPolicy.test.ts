import type { Caller } from '../../src/domain/caller';
import { AppError } from '../../src/domain/errors';
import { TokenPolicy } from '../../src/domain/tokenPolicy';

const backend: Caller = { kind: 'keyHolder', keyId: 'k' };

const policy = new TokenPolicy({
  allowedScopes: ['chat', 'voip'],
  defaultScopes: ['voip'],
  defaultExpiryMinutes: 60,
  maxExpiryMinutes: 120,
});

function refusal(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
  }
  throw new Error('expected an AppError');
}

describe('TokenPolicy', () => {
  it('fills in the default scopes and lifetime', () => {
    expect(policy.grant({}, backend)).toEqual({ scopes: ['voip'], expiresInMinutes: 60 });
  });

  it('grants what was asked when it is allowed', () => {
    expect(policy.grant({ scopes: ['chat', 'voip'], expiresInMinutes: 120 }, backend)).toEqual({
      scopes: ['chat', 'voip'],
      expiresInMinutes: 120,
    });
  });

  it('refuses a scope outside the allowed set with 403 naming it', () => {
    const err = refusal(() => policy.grant({ scopes: ['voip', 'chat.join'] }, backend));
    expect(err.code).toBe('scope_not_allowed');
    expect(err.status).toBe(403);
    expect(err.detail).toBe('You may not be granted "chat.join"; allowed scopes: chat, voip.');
  });

  it('refuses a lifetime over the configured maximum', () => {
    const err = refusal(() => policy.grant({ expiresInMinutes: 121 }, backend));
    expect(err.code).toBe('expiry_not_allowed');
    expect(err.detail).toBe('expiresInMinutes may be at most 120 for you.');
  });
});

describe('TokenPolicy with roles', () => {
  const roles = new TokenPolicy({
    allowedScopes: ['chat', 'voip', 'chat.join.limited', 'voip.join'],
    defaultScopes: ['voip'],
    defaultExpiryMinutes: 120,
    maxExpiryMinutes: 1440,
    rolePolicy: {
      guest: {
        scopes: ['chat.join.limited', 'voip.join'],
        defaultScopes: ['voip.join'],
        maxExpiryMinutes: 60,
      },
      member: { scopes: ['chat', 'voip'], defaultScopes: ['chat', 'voip'], maxExpiryMinutes: 1440 },
    },
  });
  const principal = (...r: string[]) => ({
    kind: 'principal' as const,
    provider: 'aad',
    id: 'u',
    roles: r,
  });

  it('gives a guest its default scopes with the lifetime capped to its maximum', () => {
    expect(roles.grant({}, principal('guest'))).toEqual({
      scopes: ['voip.join'],
      expiresInMinutes: 60,
    });
  });

  it('refuses a guest a member scope, naming it', () => {
    const err = refusal(() => roles.grant({ scopes: ['chat'] }, principal('guest')));
    expect([err.status, err.code, err.detail]).toEqual([
      403,
      'scope_not_allowed',
      'You may not be granted "chat"; allowed scopes: chat.join.limited, voip.join.',
    ]);
  });

  it('refuses a guest an explicit lifetime over its maximum', () => {
    expect(refusal(() => roles.grant({ expiresInMinutes: 61 }, principal('guest'))).code).toBe(
      'expiry_not_allowed',
    );
  });

  it('unites the rules of several roles', () => {
    expect(
      roles.grant(
        { scopes: ['chat', 'voip.join'], expiresInMinutes: 600 },
        principal('guest', 'member'),
      ),
    ).toEqual({
      scopes: ['chat', 'voip.join'],
      expiresInMinutes: 600,
    });
  });

  it('refuses a principal none of whose roles is in the policy', () => {
    const err = refusal(() => roles.grant({}, principal('visitor')));
    expect([err.status, err.code]).toEqual([403, 'forbidden']);
  });

  it('does not take prototype names for roles', () => {
    expect(refusal(() => roles.grant({}, principal('constructor', '__proto__'))).code).toBe(
      'forbidden',
    );
  });

  it('applies the service-wide rules to key holders', () => {
    expect(roles.grant({}, { kind: 'keyHolder', keyId: 'k' })).toEqual({
      scopes: ['voip'],
      expiresInMinutes: 120,
    });
  });
});
