import { HttpRequest } from '@azure/functions';
import { callerFrom } from '../../src/http/caller';

const principal = (claims: unknown) => Buffer.from(JSON.stringify(claims)).toString('base64');

function request(headers: Record<string, string>): HttpRequest {
  return new HttpRequest({ method: 'POST', url: 'http://localhost/api/token', headers });
}

describe('callerFrom in easyauth mode: every principal App Service can send', () => {
  it('takes an app-only principal (no X-MS-CLIENT-PRINCIPAL-NAME), where request.user throws', () => {
    const req = request({
      'x-ms-client-principal': principal({
        auth_typ: 'aad',
        claims: [
          { typ: 'appid', val: 'daemon-app' },
          { typ: 'roles', val: 'member' },
        ],
        name_typ: 'name',
        role_typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
      }),
      'x-ms-client-principal-id': 'sp-object-id',
      'x-ms-client-principal-idp': 'aad',
    });
    expect(() => req.user).toThrow(); // azure-functions-nodejs-library#374
    expect(callerFrom(req, 'easyauth')).toEqual({
      kind: 'principal',
      provider: 'aad',
      id: 'sp-object-id',
      roles: ['member'],
    });
  });

  it('takes id and provider alone, with no claims header', () => {
    const req = request({ 'x-ms-client-principal-id': 'mi', 'x-ms-client-principal-idp': 'aad' });
    expect(callerFrom(req, 'easyauth')).toMatchObject({ kind: 'principal', id: 'mi', roles: [] });
  });

  it('refuses a principal without an id or without a provider', () => {
    const claims = principal({ claims: [] });
    for (const headers of [
      { 'x-ms-client-principal': claims, 'x-ms-client-principal-idp': 'aad' } as Record<
        string,
        string
      >,
      { 'x-ms-client-principal': claims, 'x-ms-client-principal-id': 'x' },
      { 'x-ms-client-principal': 'not base64 json', 'x-ms-client-principal-idp': 'aad' },
    ]) {
      expect(() => callerFrom(request(headers), 'easyauth')).toThrow(/Sign in/);
    }
  });
});
