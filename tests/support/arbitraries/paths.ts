import fc from 'fast-check';
import { keyValue } from './credentials';
import { ACS_SCOPE_NAMES, type FuzzSecrets } from './request';
import { badId, enc, hostileString, randomCase, strangerId } from './strings';

/**
 * Paths and query strings.
 * Part of the hostile-input generators (tests/support/arbitraries.ts).
 */

const KNOWN_PATHS = [
  '/api/token',
  '/api/token/revoke',
  '/api/user',
  '/api/health',
  '/api/openapi.json',
];

/** Paths the local host's demo-file layer answers, or nearly does. */
const demoPath = (files: readonly string[]): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(...files.map((f) => `/${f}`)),
    fc
      .tuple(
        fc.constantFrom(...files),
        fc.constantFrom('/{f}/', '/{f}//', '//{f}', '/./{f}', '/x/../{f}'),
      )
      .map(([f, shape]) => shape.replace('{f}', f)),
    fc.constantFrom(...files).chain((f) => randomCase(`/${f}`)),
    fc.constantFrom(...files).map((f) => `/%${f.charCodeAt(0).toString(16)}${f.slice(1)}`),
    fc.constantFrom(
      '/favicon.ico',
      '/.env',
      '/%2e%2e/etc/passwd',
      '/..%2f..%2fetc%2fpasswd',
      '/index.html%00.js',
      '/%5C..%5Cindex.html',
      '/\\index.html',
      '/%2Findex.html',
      '/api/..%5C..%5Cindex.html',
    ),
  );

export function pathArb(secrets: FuzzSecrets): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 20, arbitrary: fc.constant('/api/token') },
    { weight: 5, arbitrary: fc.constantFrom(...KNOWN_PATHS.slice(1)) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(fc.constantFrom(...KNOWN_PATHS), fc.boolean())
        .chain(([p, slash]) => randomCase(p).map((c) => (slash ? `${c}/` : c))),
    },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        '/',
        '',
        '/api',
        '/api/',
        '/api//token',
        '//api/token',
        '/api/./token',
        '/api/x/../token',
        '/api/%2e%2e/api/token',
        '/api/%74oken',
        '/api/token%2Frevoke',
        '/api/token/revoke/extra',
        '/api/token;x=1',
        '/api/tokens',
        '/api/token//',
        '/api/user/me',
        '/api/health/..',
        '/.well-known/x',
        '/api/admin',
        '/admin/functions/token',
        '/api/token%00',
        '/api/%E2%80%AE',
        '/api/%zz',
        '/api/token%',
        '/api/%E0%A4%A',
        '/api/x%5C..%5Ctoken',
        '/api/openapi.json/',
        '/api/openapi.yaml',
        '/api/openapi',
        '/apix',
        '/API',
        '/index.html/../api/token',
      ),
    },
    {
      weight: 2,
      arbitrary: fc
        .array(hostileString(12), { minLength: 1, maxLength: 4 })
        .map((segments) => `/api/${segments.map(enc).join('/')}`),
    },
    { weight: 2, arbitrary: demoPath(secrets.demoFiles) },
  );
}

const scopeQueryValue = fc.oneof(
  { weight: 6, arbitrary: fc.subarray(ACS_SCOPE_NAMES, { minLength: 1 }).map((s) => s.join(',')) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '',
      ',',
      ' , ',
      'voip,,chat',
      'VOIP',
      ' voip ',
      'voip,voip',
      'video',
      'chat;voip',
      '[voip]',
      '\u00a0voip',
    ),
  },
  { weight: 1, arbitrary: hostileString(30) },
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 2_000 }).map((n) => 'voip,'.repeat(n / 5)) },
);

const expiryText = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('60', '120', '720', '1440') },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      '59',
      '721',
      '1441',
      '0',
      '-60',
      '60.0',
      '60.5',
      '6e1',
      '0x3c',
      '+60',
      ' 60',
      '',
      'NaN',
      '0060',
      '-0',
      '1440.000',
      '9'.repeat(400),
      '60,60',
    ),
  },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: hostileString(10) },
);

export function queryString(secrets: FuzzSecrets): fc.Arbitrary<string> {
  const param = fc.oneof(
    { weight: 5, arbitrary: scopeQueryValue.map((v) => `scopes=${enc(v)}`) },
    { weight: 4, arbitrary: expiryText.map((v) => `expiresInMinutes=${enc(v)}`) },
    {
      weight: 2,
      arbitrary: fc.oneof(strangerId, badId).map((v) => `communicationUserId=${enc(v)}`),
    },
    { weight: 3, arbitrary: keyValue(secrets).map((v) => `code=${enc(v)}`) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.oneof(
            fc.constantFrom(
              '__proto__',
              'constructor',
              'prototype',
              'Scopes',
              'scopes[]',
              'CODE',
              '',
              'toString',
            ),
            hostileString(10),
          ),
          hostileString(10),
        )
        .map(([k, v]) => `${enc(k)}=${enc(v)}`),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '',
        '=',
        '==x',
        'scopes',
        '&',
        'a=%zz',
        'scopes=%E0%A4%A',
        'code',
        'expiresInMinutes',
        '%',
      ),
    },
  );
  return fc.array(param, { maxLength: 6 }).map((ps) => ps.join('&'));
}
