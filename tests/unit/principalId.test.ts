import { AppError } from '../../src/domain/errors';
import { exactPrincipalId } from '../../src/http/principalId';

const OID = 'http://schemas.microsoft.com/identity/claims/objectidentifier';
const NAME_ID = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier';
const principal = (...claims: [string, string][]) => ({
  auth_typ: 'aad',
  claims: claims.map(([typ, val]) => ({ typ, val })),
});

describe('exactPrincipalId: the id as the platform keeps it', () => {
  it('is the header when an id claim equals it', () => {
    expect(exactPrincipalId('alice', principal([NAME_ID, 'alice'], [OID, ' alice']))).toBe('alice');
  });

  it('is the id claim the header was trimmed or encoded from', () => {
    expect(exactPrincipalId('alice', principal([NAME_ID, ' alice\t']))).toBe(' alice\t');
    expect(exactPrincipalId('a%0Ab', principal([NAME_ID, 'a\nb']))).toBe('a\nb');
    expect(exactPrincipalId('%E3%82%A2', principal([OID, 'ア']))).toBe('ア');
    expect(exactPrincipalId('ア', principal([OID, 'ア ']))).toBe('ア ');
  });

  it('is the header when no id claim fits it, or there are no claims', () => {
    expect(exactPrincipalId('alice', principal([NAME_ID, 'bob']))).toBe('alice');
    expect(exactPrincipalId('alice', {})).toBe('alice');
    expect(exactPrincipalId('alice', { claims: 'not a list' })).toBe('alice');
  });

  it('ignores claims that are not ids, which a user may set (a display name)', () => {
    expect(exactPrincipalId('bob', principal([NAME_ID, 'bob '], ['name', 'bob']))).toBe('bob ');
  });

  it('refuses two different id claims that both read as the header', () => {
    const both = principal([NAME_ID, ' alice'], [OID, 'alice ']);
    expect(() => exactPrincipalId('alice', both)).toThrow(AppError);
    expect(() => exactPrincipalId('alice', both)).toThrow(/cannot tell them apart/);
  });
});
