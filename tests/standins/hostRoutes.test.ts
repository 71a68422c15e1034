import type { HttpHandler } from '@azure/functions';
import type { Registration } from '../../dev/host/functionsCore';
import { kestrelPath } from '../../dev/host/kestrel';
import { keyChecker } from '../../dev/host/keys';
import { buildRoutes } from '../../dev/host/routes';

const handler: HttpHandler = () => Promise.resolve({});

function route(route: string | undefined, name = 'fn') {
  const registration: Registration = {
    name,
    handler,
    trigger: {
      type: 'httpTrigger',
      methods: ['GET'],
      authLevel: 'function',
      ...(route ? { route } : {}),
    },
  };
  const [compiled] = buildRoutes([registration], 'api');
  if (!compiled) throw new Error('no route');
  return compiled;
}

describe('local host routes', () => {
  it('prefixes the route and matches case-insensitively', () => {
    const r = route('token/revoke');
    expect(r.match('/api/token/revoke')).toEqual({});
    expect(r.match('/API/Token/Revoke')).toEqual({});
    expect(r.match('/api/token')).toBeUndefined();
    expect(r.match('/token/revoke')).toBeUndefined();
  });

  it('defaults the route to the function name', () => {
    expect(route(undefined, 'health').match('/api/health')).toEqual({});
  });

  it('extracts parameters from the path Kestrel decoded, optional ones included', () => {
    expect(route('users/{id}').match(kestrelPath('/api/users/8%3Aacs%3Ax'))).toEqual({
      id: '8:acs:x',
    });
    const optional = route('items/{id?}');
    expect(optional.match('/api/items')).toEqual({});
    expect(optional.match('/api/items/7')).toEqual({ id: '7' });
  });

  it('hands over broken %-encoding and %2F as sent, and never decodes twice', () => {
    // UrlDecoder leaves what is not one UTF-8 character, and %2F, encoded; template matching
    // takes route values from the decoded path as they are.
    const catchAll = route('{*path}');
    expect(catchAll.match(kestrelPath('/api/%zz/x%E0%A4'))).toEqual({ path: '%zz/x%E0%A4' });
    expect(catchAll.match(kestrelPath('/api/a%2Fb'))).toEqual({ path: 'a%2Fb' });
    expect(catchAll.match(kestrelPath('/api/%2541'))).toEqual({ path: '%41' });
  });
});

describe('function keys', () => {
  const keys = { functionKey: 'f-key', masterKey: 'm-key', sessionSecret: 's' };
  it('lets anonymous routes through and checks the rest', () => {
    const keyAllows = (level: 'anonymous' | 'function' | 'admin', key: string | undefined) =>
      keyChecker(keys)(level, key, 'fn');
    expect(keyAllows('anonymous', undefined)).toBe(true);
    expect(keyAllows('function', undefined)).toBe(false);
    expect(keyAllows('function', 'f-key')).toBe(true);
    expect(keyAllows('function', 'f-kez')).toBe(false);
    expect(keyAllows('function', 'm-key')).toBe(true);
    expect(keyAllows('admin', 'f-key')).toBe(false);
    expect(keyAllows('admin', 'm-key')).toBe(true);
  });
});
