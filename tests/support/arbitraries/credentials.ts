import fc from 'fast-check';
import { CANARY, type FuzzSecrets, SESSION_COOKIE } from './request';
import { headerText, randomCase } from './strings';

/**
 * Function keys, session cookies and Easy Auth forgeries.
 * Part of the hostile-input generators (tests/support/arbitraries.ts).
 */

/** A function key as an attacker might present it: right, nearly right, or plainly wrong. */
export function keyValue(secrets: FuzzSecrets): fc.Arbitrary<string> {
  const k = secrets.functionKey;
  return fc.oneof(
    { weight: 12, arbitrary: fc.constant(k) },
    { weight: 1, arbitrary: fc.constant('') },
    { weight: 1, arbitrary: fc.constant(k.slice(0, -1)) },
    { weight: 1, arbitrary: fc.constant(`${k}x`) },
    { weight: 1, arbitrary: fc.constant(k.toUpperCase()) },
    { weight: 1, arbitrary: fc.constant(`${k},${k}`) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.nat({ max: k.length - 1 }), fc.constantFrom('a', 'Z', '0', '-', '_'))
        .map(([i, c]) => k.slice(0, i) + c + k.slice(i + 1))
        .filter((v) => v !== k),
    },
    { weight: 1, arbitrary: fc.integer({ min: 100, max: 6_000 }).map((n) => 'k'.repeat(n)) },
    { weight: 2, arbitrary: headerText(40) },
  );
}

/** A session cookie value: genuine, or tampered in one of the ways a forger would try. */
function sessionValue(secrets: FuzzSecrets): fc.Arbitrary<string> {
  const genuine = fc.constantFrom(...secrets.sessions);
  const parts = (v: string) => {
    const at = v.indexOf('.');
    return [v.slice(0, at), v.slice(at + 1)] as const;
  };
  const flip = (s: string, i: number) =>
    s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
  const forgedPayload = Buffer.from(
    JSON.stringify({ user: `admin-${CANARY}`, roles: ['admin'], exp: 4102444800 }),
  ).toString('base64url');
  return fc.oneof(
    { weight: 8, arbitrary: genuine },
    {
      weight: 1,
      arbitrary: fc.tuple(genuine, fc.nat()).map(([v, n]) => {
        const [p, s] = parts(v);
        return `${flip(p, n % p.length)}.${s}`;
      }),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(genuine, fc.nat()).map(([v, n]) => {
        const [p, s] = parts(v);
        return `${p}.${flip(s, n % s.length)}`;
      }),
    },
    { weight: 1, arbitrary: genuine.map((v) => parts(v)[0]) },
    { weight: 1, arbitrary: genuine.map((v) => `${v}.${CANARY}`) },
    { weight: 1, arbitrary: genuine.map((v) => `"${v}"`) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(genuine, genuine)
        .filter(([a, b]) => a !== b)
        .map(([a, b]) => `${parts(a)[0]}.${parts(b)[1]}`),
    },
    { weight: 1, arbitrary: fc.constant(`${forgedPayload}.AAAA`) },
    { weight: 1, arbitrary: headerText(30) },
  );
}

export function cookieHeader(secrets: FuzzSecrets): fc.Arbitrary<string> {
  const pair = (name: string) => sessionValue(secrets).map((v) => `${name}=${v}`);
  return fc.oneof(
    { weight: 8, arbitrary: pair(SESSION_COOKIE) },
    { weight: 1, arbitrary: pair(` ${SESSION_COOKIE} `) },
    { weight: 1, arbitrary: pair(SESSION_COOKIE.toLowerCase()) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(pair(SESSION_COOKIE), pair(SESSION_COOKIE), fc.constantFrom('; ', ';', ', '))
        .map(([a, b, sep]) => `${a}${sep}${b}`),
    },
    {
      weight: 1,
      arbitrary: pair(SESSION_COOKIE).map((c) => `theme=dark; ${c}; lang=${CANARY}`),
    },
    { weight: 1, arbitrary: headerText(60) },
  );
}

// Easy Auth forgeries

const base64 = (s: string) => Buffer.from(s).toString('base64');

const principalHeader = fc.oneof(
  fc.constant(
    base64(
      JSON.stringify({
        auth_typ: 'aad',
        claims: [
          { typ: 'roles', val: 'admin' },
          { typ: 'name', val: CANARY },
        ],
        name_typ: 'name',
        role_typ: 'roles',
      }),
    ),
  ),
  fc.constant(
    base64(JSON.stringify({ identityProvider: 'github', userId: CANARY, userDetails: 'x' })),
  ),
  fc.constant(base64(`not json ${CANARY}`)),
  fc.constant(base64('[1,2,3]')),
  fc.constant(base64('null')),
  fc.constant(`!!!${CANARY}@@@`),
  fc.jsonValue().map((v) => base64(JSON.stringify(v) ?? 'null')),
  headerText(40),
);

export function easyAuthForgery(): fc.Arbitrary<[string, string][]> {
  const companion = (suffix: string) =>
    fc.tuple(randomCase(`x-ms-client-principal-${suffix}`), headerText(20));
  return fc
    .record(
      {
        principal: fc.tuple(randomCase('x-ms-client-principal'), principalHeader),
        id: companion('id'),
        name: companion('name'),
        idp: companion('idp'),
      },
      { requiredKeys: [] },
    )
    .map((r) => Object.values(r));
}
