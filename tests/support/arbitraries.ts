import fc from 'fast-check';

/**
 * Generators for the hostile-input suite (tests/integration/hostileInput.test.ts). A generated
 * request is plain data; `tests/support/hostileTransport.ts` sends it and
 * `tests/support/hostileOracle.ts` says what the service must answer.
 */

export type HostMode = 'key' | 'easyauth';

/** Large bodies are kept as a recipe so fast-check never builds or prints megabytes of text. */
export type Body =
  | { kind: 'none' }
  | { kind: 'text'; text: string }
  | { kind: 'repeat'; head: string; unit: string; count: number; tail: string };

/** How a raw-socket request is framed; fetch cannot send any of this. */
export interface RawFraming {
  /** The Host line's value; `undefined` sends the real `localhost:<port>`, `null` leaves it out. */
  host: string | null | undefined;
  version: '1.1' | '1.0';
  /** `length` = an accurate Content-Length; `lines` = these literal Content-Length lines. */
  framing:
    | { kind: 'length' }
    | { kind: 'chunked' }
    | { kind: 'lines'; values: string[] }
    | { kind: 'lengthAndChunked' };
}

export interface HostileRequest {
  host: HostMode;
  transport: 'fetch' | 'raw';
  method: string;
  /** Request target: a path with query (or, raw only, an absolute URL). */
  target: string;
  /** In order; a repeated name is sent twice (fetch folds repeats into one line). */
  headers: [string, string][];
  body: Body;
  raw: RawFraming | undefined;
  /** Which generator family made the body, for the summary and failure messages. */
  family: string;
}

/** What the generators may aim at: the real key, genuine dev sessions and the hosts' policy. */
export interface FuzzSecrets {
  functionKey: string;
  /** `AppServiceAuthSession` cookie values (`payload.signature`) from real dev sign-ins. */
  sessions: readonly string[];
  allowedScopes: readonly string[];
  maxExpiryMinutes: number;
  /** Origins the hosts' CORS settings list, for Origin headers that match or nearly match. */
  allowedOrigins: readonly string[];
  /** Files of the browser demo the hosts serve at `/` (`index.html`, `main.js`, …). */
  demoFiles: readonly string[];
}

export const SESSION_COOKIE = 'AppServiceAuthSession';
/** Marks forged values so the suite can prove none of them reaches a log line. */
export const CANARY = 'fuzz-canary-7f3c';

export const ACS_SCOPE_NAMES = ['chat', 'voip', 'chat.join', 'chat.join.limited', 'voip.join'];
const HOST_BODY_LIMIT = 8 * 1024 * 1024;

export function bodyText(body: Body): string {
  switch (body.kind) {
    case 'none':
      return '';
    case 'text':
      return body.text;
    case 'repeat':
      return body.head + body.unit.repeat(body.count) + body.tail;
  }
}

/** Fills a raw Content-Length pattern (`{n}` = the body's byte length, `{h}` = the same in hex). */
export function contentLengthLine(pattern: string, length: number): string {
  return pattern.replaceAll('{n}', String(length)).replaceAll('{h}', length.toString(16));
}

function bodySize(body: Body): number {
  return body.kind === 'repeat'
    ? Buffer.byteLength(body.head + body.tail) + Buffer.byteLength(body.unit) * body.count
    : Buffer.byteLength(bodyText(body));
}

const clip = (s: string, n = 60) => (s.length > n ? `${s.slice(0, n)}…(${s.length})` : s);

/** A one-line description for failure messages (bodies and long headers are clipped). */
export function describeRequest(r: HostileRequest): string {
  const body =
    r.body.kind === 'repeat'
      ? `${clip(r.body.head)} + ${JSON.stringify(clip(r.body.unit))}×${r.body.count} + ${clip(r.body.tail)}`
      : JSON.stringify(clip(bodyText(r.body), 200));
  const headers = r.headers.map(([n, v]) => `${n}: ${JSON.stringify(clip(v))}`).join(', ');
  const raw = r.raw ? ` raw=${JSON.stringify(r.raw)}` : '';
  return `[${r.host}/${r.transport}/${r.family}] ${r.method} ${clip(r.target, 300)} {${headers}} body(${bodySize(r.body)}B)=${body}${raw}`;
}

// --- characters and strings --------------------------------------------------------------------

/** Code points a parser has to survive: controls, lone surrogates, BMP, astral, specials. */
const hostileChar = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  },
  // Any code point; cheaper than fc.string's 'binary' unit, which indexes all 1.1M of them.
  {
    weight: 2,
    arbitrary: fc.integer({ min: 0x80, max: 0x10ffff }).map((c) => String.fromCodePoint(c)),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '\u0000',
      '\u007f',
      '\u00a0',
      '\ufeff',
      '\u2028',
      '\u202e',
      '\uffff',
      '"',
      '\\',
      '💥',
    ),
  },
);
const hostileString = (maxLength = 40) => fc.string({ unit: hostileChar, maxLength });

/** Header-safe text for fetch (a ByteString); a rare non-Latin-1 or control char makes fetch refuse. */
const headerText = (maxLength = 60) =>
  fc.oneof(
    { weight: 300, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength }) },
    {
      weight: 60,
      arbitrary: fc.string({
        unit: fc.integer({ min: 0xa0, max: 0xff }).map((c) => String.fromCharCode(c)),
        maxLength,
      }),
    },
    { weight: 1, arbitrary: fc.string({ unit: hostileChar, maxLength: 8 }) },
  );

/** `arb` with probability `p`, otherwise undefined. */
const sometimes = <T>(arb: fc.Arbitrary<T>, p: number): fc.Arbitrary<T | undefined> =>
  fc.oneof(
    { weight: Math.round((1 - p) * 100), arbitrary: fc.constant(undefined) },
    { weight: Math.round(p * 100), arbitrary: arb },
  );

const randomCase = (s: string) =>
  fc
    .array(fc.boolean(), { minLength: s.length, maxLength: s.length })
    .map((flips) => [...s].map((c, i) => (flips[i] ? c.toUpperCase() : c.toLowerCase())).join(''));

/** encodeURIComponent for any string: a lone surrogate becomes U+FFFD, as a URL would have it. */
const enc = (s: string) =>
  encodeURIComponent(
    s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'),
  );

const uuid = fc.uuid();
/** Well-formed ACS ids that no emulator holds, so naming one is never a valid 200. */
const strangerId = fc
  .tuple(uuid, uuid, fc.constantFrom('acs', 'gcch-acs', 'teams'))
  .map(([a, b, cloud]) => `8:${cloud}:${a}_${b}`);
const badId = fc.oneof(
  fc.constantFrom('', 'alice@example.com', '8:acs:', '8:ACS:x', '8:acs:a b', '4:acs:x', ' 8:acs:x'),
  fc.constant(`8:acs:${'a'.repeat(260)}`),
  hostileString(20),
);

// --- keys and sessions -------------------------------------------------------------------------

/** A function key as an attacker might present it: right, nearly right, or plainly wrong. */
function keyValue(secrets: FuzzSecrets): fc.Arbitrary<string> {
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

function cookieHeader(secrets: FuzzSecrets): fc.Arbitrary<string> {
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

// --- Easy Auth forgeries ------------------------------------------------------------------------

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

function easyAuthForgery(): fc.Arbitrary<[string, string][]> {
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

// --- paths and query strings ---------------------------------------------------------------------

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

function pathArb(secrets: FuzzSecrets): fc.Arbitrary<string> {
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

function queryString(secrets: FuzzSecrets): fc.Arbitrary<string> {
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

// --- bodies ------------------------------------------------------------------------------------

const scopesValue = fc.oneof(
  { weight: 8, arbitrary: fc.subarray(ACS_SCOPE_NAMES, { minLength: 1 }) },
  { weight: 2, arbitrary: fc.shuffledSubarray(['chat', 'voip', 'voip', 'chat.join']) },
  {
    weight: 2,
    arbitrary: fc.constantFrom<unknown>(
      [],
      'voip',
      ['VOIP'],
      [' voip'],
      ['video'],
      [1],
      [null],
      [['voip']],
      {},
      null,
      true,
      'chat,voip',
    ),
  },
  { weight: 1, arbitrary: fc.array(hostileString(12), { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.constant(Array.from({ length: 1000 }, () => 'voip')) },
);

const expiryValue = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(60, 90, 120, 720, 1440) },
  {
    weight: 3,
    arbitrary: fc.constantFrom<unknown>(
      59,
      721,
      1441,
      0,
      -60,
      60.5,
      1e9,
      '60',
      null,
      true,
      [60],
      { m: 60 },
      1e308,
    ),
  },
  { weight: 2, arbitrary: fc.integer({ min: -100, max: 3_000 }) },
  { weight: 1, arbitrary: fc.double() },
);

/** A token request object: usually close to valid, sometimes with wrong types or extra keys. */
const tokenRequestObject = fc
  .record(
    {
      scopes: scopesValue,
      expiresInMinutes: expiryValue,
      communicationUserId: fc.oneof(
        { weight: 3, arbitrary: strangerId },
        { weight: 1, arbitrary: badId },
      ),
      extra: fc.tuple(
        fc.oneof(
          fc.constantFrom('Scopes', 'scope', 'expiresIn', 'user', 'toString'),
          hostileString(8),
        ),
        fc.jsonValue({ maxDepth: 2 }),
      ),
    },
    { requiredKeys: [] },
  )
  .map(({ extra, ...fields }) => {
    const out: Record<string, unknown> = { ...fields };
    if (extra) Object.defineProperty(out, extra[0], { value: extra[1], enumerable: true });
    return out;
  });

/** Numbers written the ways JSON allows, so `6e1` and `60.0` meet the contract's integer rule. */
const expiryJsonText = fc.constantFrom(
  '60',
  '6e1',
  '60.0',
  '0.6e2',
  '1440.0',
  '1.44e3',
  '720.0000000000001',
  '-0',
  '1E3',
  '60.00000000000001',
);

const protoKeyBodies = fc
  .tuple(
    fc.constantFrom('__proto__', 'constructor', 'prototype', '__defineGetter__', 'hasOwnProperty'),
    fc.constantFrom(
      '{"scopes":["chat"]}',
      '{"prototype":{"scopes":["chat"]}}',
      'null',
      '1',
      '"x"',
      '[]',
    ),
    fc.boolean(),
  )
  .map(([key, value, withValidFields]) =>
    withValidFields
      ? `{"scopes":["voip"],${JSON.stringify(key)}:${value}}`
      : `{${JSON.stringify(key)}:${value}}`,
  );

/** Valid JSON text broken one way or another. */
const malformedJson = fc.oneof(
  fc
    .tuple(
      tokenRequestObject.map((o) => JSON.stringify(o)),
      fc.nat(),
    )
    .map(([t, n]) => t.slice(0, n % Math.max(t.length, 1))),
  fc
    .tuple(
      tokenRequestObject.map((o) => JSON.stringify(o)),
      fc.nat(),
      hostileChar,
    )
    .map(([t, n, c]) => {
      const i = n % (t.length + 1);
      return t.slice(0, i) + c + t.slice(i);
    }),
  fc.constantFrom(
    '{"scopes":["voip"],}',
    "{'scopes':['voip']}",
    '{"scopes":["voip"]} // comment',
    '{"expiresInMinutes":NaN}',
    '{"expiresInMinutes":Infinity}',
    '{"scopes":undefined}',
    '{"scopes":["voip"]',
    '{"scopes":["voip"]}}',
    '{"scopes":["voip"]}{"scopes":["chat"]}',
    '{"scopes":["vo\nip"]}',
    '{"scopes":["\\ud800"]}',
    '{"scopes":["\\u0000"]}',
    '"\\',
    '{"expiresInMinutes":0x3c}',
    '{"expiresInMinutes":060}',
    '{"expiresInMinutes":.5}',
    '\u0000{}',
    '{} trailing',
  ),
);

const deepNesting = fc
  .tuple(fc.integer({ min: 1, max: 20_000 }), fc.constantFrom('array', 'object', 'scopes'))
  .map(([depth, shape]): Body => {
    switch (shape) {
      case 'array':
        return { kind: 'repeat', head: '', unit: '[', count: depth, tail: ']'.repeat(depth) };
      case 'object':
        return {
          kind: 'repeat',
          head: '',
          unit: '{"a":',
          count: depth,
          tail: `1${'}'.repeat(depth)}`,
        };
      default:
        return {
          kind: 'repeat',
          head: '{"scopes":',
          unit: '[',
          count: depth,
          tail: `"voip"${']'.repeat(depth)}}`,
        };
    }
  });

/** Bodies around the app's 16 KiB limit and far beyond it, up to ~1 MB; rarely above 8 MiB. */
const hugeBody = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(fc.integer({ min: -2, max: 2 }), fc.constantFrom('{"scopes":["voip"]}', '{}'))
      .map(([delta, json]): Body => ({
        kind: 'repeat',
        head: json,
        unit: ' ',
        count: 16 * 1024 - json.length + delta,
        tail: '',
      })),
  },
  {
    weight: 8,
    arbitrary: fc
      .tuple(
        fc.integer({ min: 16 * 1024, max: 1024 * 1024 }),
        fc.string({ minLength: 1, maxLength: 8 }),
      )
      .map(([size, unit]): Body => ({
        kind: 'repeat',
        head: '{"scopes":["voip"],"pad":"',
        unit,
        count: Math.ceil(size / unit.length),
        tail: '"}',
      })),
  },
  {
    weight: 1,
    arbitrary: fc.constant<Body>({
      kind: 'repeat',
      head: '',
      unit: 'x',
      count: HOST_BODY_LIMIT + 1,
      tail: '',
    }),
  },
);

const NO_BODY: Body = { kind: 'none' };

function bodyArb(): fc.Arbitrary<{ body: Body; family: string }> {
  const text = (family: string, arb: fc.Arbitrary<string>) =>
    arb.map((t): { body: Body; family: string } => ({ body: { kind: 'text', text: t }, family }));
  const recipe = (family: string, arb: fc.Arbitrary<Body>) => arb.map((body) => ({ body, family }));
  return fc.oneof(
    { weight: 10, arbitrary: fc.constant({ body: NO_BODY, family: 'no-body' }) },
    { weight: 2, arbitrary: text('empty', fc.constant('')) },
    {
      weight: 2,
      arbitrary: text(
        'whitespace',
        fc.string({
          unit: fc.constantFrom(' ', '\t', '\n', '\r', '\u00a0', '\ufeff', '\u2028', '\u3000'),
          maxLength: 8,
        }),
      ),
    },
    {
      weight: 30,
      arbitrary: text(
        'token-json',
        tokenRequestObject.map((o) => JSON.stringify(o)),
      ),
    },
    {
      weight: 4,
      arbitrary: text(
        'json-numbers',
        fc
          .tuple(fc.subarray(['chat', 'voip'], { minLength: 1 }), expiryJsonText)
          .map(([s, e]) => `{"scopes":${JSON.stringify(s)},"expiresInMinutes":${e}}`),
      ),
    },
    {
      weight: 3,
      arbitrary: text(
        'duplicate-keys',
        fc
          .tuple(scopesValue, scopesValue)
          .map(([a, b]) => `{"scopes":${JSON.stringify(a)},"scopes":${JSON.stringify(b)}}`),
      ),
    },
    {
      weight: 6,
      arbitrary: text(
        'wrong-types',
        fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
      ),
    },
    { weight: 4, arbitrary: text('proto-keys', protoKeyBodies) },
    { weight: 7, arbitrary: text('malformed-json', malformedJson) },
    { weight: 4, arbitrary: text('unicode-text', hostileString(60)) },
    { weight: 3, arbitrary: recipe('deep-nesting', deepNesting) },
    { weight: 3, arbitrary: recipe('huge', hugeBody) },
  );
}

// --- headers -----------------------------------------------------------------------------------

const contentType = fc.oneof(
  { weight: 12, arbitrary: fc.constant('application/json') },
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      'APPLICATION/JSON; charset=utf-8',
      'application/json;',
      ' application/json ',
      'application/json; charset=latin1',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/jsonx',
      'application/problem+json',
      'application/json, text/plain',
      'json',
      '',
      '*/*',
    ),
  },
  { weight: 1, arbitrary: headerText(30) },
);

const junkHeader: fc.Arbitrary<[string, string]> = fc.oneof(
  {
    weight: 60,
    arbitrary: fc.tuple(
      fc.constantFrom(
        'x-forwarded-for',
        'x-forwarded-host',
        'x-original-url',
        'x-http-method-override',
        'x-ms-original-url',
        'traceparent',
        'content-encoding',
        'accept',
        'origin',
        'authorization',
        'x-arr-ssl',
        'constructor',
        '__proto__',
      ),
      headerText(40),
    ),
  },
  { weight: 60, arbitrary: fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,24}$/), headerText(40)) },
  // Not a token: fetch refuses it, which the suite counts apart.
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom('bad header', 'x:y', 'ü-header', ''), headerText(5)),
  },
);

/** Padding that keeps the header block clearly under or clearly over Node's 16 KiB limit. */
const oversizedHeaders: fc.Arbitrary<[string, string][]> = fc.oneof(
  fc.integer({ min: 1, max: 9_000 }).map((n): [string, string][] => [['x-pad', 'a'.repeat(n)]]),
  fc
    .integer({ min: 20_000, max: 40_000 })
    .map((n): [string, string][] => [['x-pad', 'a'.repeat(n)]]),
  fc
    .integer({ min: 70, max: 120 })
    .map((n) =>
      Array.from({ length: n }, (_, i): [string, string] => [`x-many-${i}`, 'b'.repeat(250)]),
    ),
);

/** An Origin header: a listed origin, one that nearly is, or anything. */
function originValue(secrets: FuzzSecrets): fc.Arbitrary<string> {
  const listed = fc.constantFrom(...secrets.allowedOrigins);
  return fc.oneof(
    { weight: 6, arbitrary: listed },
    {
      weight: 4,
      arbitrary: fc
        .tuple(
          listed,
          fc.constantFrom(
            (o: string) => `${o}/`,
            (o: string) => o.toUpperCase(),
            (o: string) => o.replace(/^https?:/, (m) => (m === 'https:' ? 'http:' : 'https:')),
            (o: string) => `${o}:443`,
            (o: string) => `${o}.evil.example`,
            (o: string) => `${o}, ${o}`,
            (o: string) => ` ${o}`,
          ),
        )
        .map(([o, f]) => f(o)),
    },
    { weight: 2, arbitrary: fc.constantFrom('null', '*', '', 'https://evil.example') },
    { weight: 1, arbitrary: headerText(30) },
  );
}

function headersArb(secrets: FuzzSecrets): fc.Arbitrary<[string, string][]> {
  const key = fc.tuple(randomCase('x-functions-key'), keyValue(secrets));
  return fc
    .record({
      contentType: sometimes(fc.tuple(randomCase('content-type'), contentType), 0.7),
      key: sometimes(key, 0.6),
      secondKey: sometimes(key, 0.05),
      cookie: sometimes(fc.tuple(randomCase('cookie'), cookieHeader(secrets)), 0.5),
      secondCookie: sometimes(fc.tuple(fc.constant('cookie'), cookieHeader(secrets)), 0.05),
      forgery: sometimes(easyAuthForgery(), 0.25),
      secondContentType: sometimes(fc.tuple(fc.constant('content-type'), contentType), 0.05),
      origin: sometimes(fc.tuple(randomCase('origin'), originValue(secrets)), 0.3),
      secondOrigin: sometimes(fc.tuple(fc.constant('origin'), originValue(secrets)), 0.03),
      preflightMethod: sometimes(
        fc.tuple(
          randomCase('access-control-request-method'),
          fc.oneof(fc.constantFrom('POST', 'GET', 'DELETE', 'PUT', ''), headerText(10)),
        ),
        0.15,
      ),
      junk: fc.array(junkHeader, { maxLength: 3 }),
      padding: sometimes(oversizedHeaders, 0.08),
    })
    .chain((h) => {
      const list: [string, string][] = [
        ...(h.contentType ? [h.contentType] : []),
        ...(h.key ? [h.key] : []),
        ...(h.secondKey ? [h.secondKey] : []),
        ...(h.cookie ? [h.cookie] : []),
        ...(h.secondCookie ? [h.secondCookie] : []),
        ...(h.secondContentType ? [h.secondContentType] : []),
        ...(h.forgery ?? []),
        ...(h.origin ? [h.origin] : []),
        ...(h.secondOrigin ? [h.secondOrigin] : []),
        ...(h.preflightMethod ? [h.preflightMethod] : []),
        ...h.junk,
        ...(h.padding ?? []),
      ];
      return fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length });
    });
}

// --- methods and framing -----------------------------------------------------------------------

const methodArb = fc.oneof(
  { weight: 60, arbitrary: fc.constant('POST') },
  { weight: 50, arbitrary: fc.constant('GET') },
  { weight: 24, arbitrary: fc.constantFrom('PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD') },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'PROPFIND',
      'MKCOL',
      'PURGE',
      'LOCK',
      'UNLOCK',
      'COPY',
      'MOVE',
      'REPORT',
      'SEARCH',
    ),
  },
  {
    weight: 4,
    arbitrary: fc.constantFrom('FOO', 'BREW', 'patch', 'Post', 'gEt', 'delete', 'XGET'),
  },
  { weight: 1, arbitrary: fc.constantFrom('TRACE', 'TRACK', 'CONNECT') },
);

const rawFraming: fc.Arbitrary<RawFraming> = fc.record({
  host: fc.oneof(
    { weight: 8, arbitrary: fc.constant(undefined) },
    {
      weight: 3,
      arbitrary: fc.constantFrom<string | null>(
        null,
        '',
        'localhost',
        '127.0.0.1',
        'evil.example',
        'u:p@localhost',
        `${CANARY}:secret@localhost`,
        ':@localhost',
        'a b',
        'localhost:99999',
        '[::1]',
        'exa%mple',
      ),
    },
  ),
  version: fc.constantFrom<'1.1' | '1.0'>('1.1', '1.1', '1.1', '1.0'),
  framing: fc.oneof(
    { weight: 6, arbitrary: fc.constant({ kind: 'length' as const }) },
    { weight: 2, arbitrary: fc.constant({ kind: 'chunked' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'lengthAndChunked' as const }) },
    {
      weight: 3,
      arbitrary: fc
        .constantFrom(
          '0{n}',
          '00{n}',
          ' {n}',
          '+{n}',
          '{n}, {n}',
          '{n};{n}',
          '-1',
          '0x{h}',
          '{n}x',
          '',
          '{n}|{n}',
          '{n}|{n}1',
        )
        .map((pattern) => ({ kind: 'lines' as const, values: pattern.split('|') })),
    },
  ),
});

/** An absolute-form request target (`GET http://host/path`), which proxies send. */
const absoluteTarget = (path: string) =>
  fc
    .constantFrom('http://localhost', 'http://evil.example', 'http://u:p@localhost')
    .map((o) => o + path);

/** Headers on the wire, roughly, to keep generated requests away from the 16 KiB edge. */
export function headerBytes(r: Pick<HostileRequest, 'headers' | 'target'>): number {
  return r.target.length + r.headers.reduce((sum, [n, v]) => sum + n.length + v.length + 4, 0);
}

const isControl = (c: string) => {
  const code = c.charCodeAt(0);
  return (code < 0x20 && code !== 0x09) || code === 0x7f;
};
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const ECHO_UNSAFE = /eyJ|\bat .+\.js:\d/;

/**
 * A request that any client on the network could send to one of the two hosts. Parts the service
 * may echo (path, query, body) never contain `eyJ` or a stack-trace-like line, so finding one in
 * an answer always means a leak.
 */
export function hostileRequest(secrets: FuzzSecrets): fc.Arbitrary<HostileRequest> {
  return fc
    .record({
      host: fc.constantFrom<HostMode>('key', 'easyauth'),
      transport: fc.constantFrom<'fetch' | 'raw'>(...Array<'fetch'>(7).fill('fetch'), 'raw'),
      method: methodArb,
      path: pathArb(secrets),
      query: fc.option(queryString(secrets), { freq: 2, nil: undefined }),
      headers: headersArb(secrets),
      body: bodyArb(),
      raw: rawFraming,
      absolute: fc.oneof(
        { weight: 6, arbitrary: fc.constant(false) },
        { weight: 1, arbitrary: fc.constant(true) },
      ),
    })
    .chain((r) => {
      const target = r.query === undefined ? r.path : `${r.path}?${r.query}`;
      const bare = r.method === 'GET' || r.method === 'HEAD';
      const base: HostileRequest = {
        host: r.host,
        transport: r.transport,
        method: r.method,
        target,
        headers: r.headers,
        body: r.body.body,
        raw: undefined,
        family: r.body.family,
      };
      if (r.transport === 'fetch') {
        // fetch refuses bodies on GET/HEAD; sending them would only add refusals.
        return fc.constant(bare ? { ...base, body: NO_BODY, family: 'no-body' } : base);
      }
      // Raw requests carry small bodies only, so one connection per request stays cheap.
      const small: Body =
        bodySize(base.body) <= 64 * 1024 ? base.body : { kind: 'text', text: '{}' };
      // CONNECT asks for a tunnel, which is not an HTTP request the host could answer.
      const raw = {
        ...base,
        target: target.startsWith('/') ? target : `/${target}`,
        body: small,
        // Raw lines are written as given: only token names, and no control characters that would
        // split or end a line (fetch's own rules cover the other transport).
        headers: r.headers
          .filter(([name]) => TOKEN.test(name))
          .map(([name, value]): [string, string] => [
            name,
            [...value].map((c) => (isControl(c) ? '?' : c)).join(''),
          ]),
        // HTTP/1.0 has no chunked framing.
        raw: r.raw.version === '1.0' ? { ...r.raw, framing: { kind: 'length' as const } } : r.raw,
        method: r.method === 'CONNECT' ? 'TRACE' : r.method,
      };
      return r.absolute
        ? absoluteTarget(raw.target).map((t) => ({ ...raw, target: t }))
        : fc.constant(raw);
    })
    .filter((r) => {
      const echoed =
        r.target +
        (r.body.kind === 'repeat' ? r.body.head + r.body.unit + r.body.tail : bodyText(r.body));
      const size = headerBytes(r);
      return !ECHO_UNSAFE.test(echoed) && (size < 12_000 || size > 20_000);
    });
}

/**
 * Requests a well-behaved client would send: the real key or a genuine session, the right
 * content type and a body or query within the policy. They keep "200 only where valid" honest.
 */
export function validRequest(secrets: FuzzSecrets): fc.Arbitrary<HostileRequest> {
  const fields = fc.record(
    {
      scopes: fc.subarray([...secrets.allowedScopes], { minLength: 1 }),
      expiresInMinutes: fc.integer({ min: 60, max: secrets.maxExpiryMinutes }),
    },
    { requiredKeys: [] },
  );
  const asQuery = (f: { scopes?: string[]; expiresInMinutes?: number }) =>
    [
      ...(f.scopes ? [`scopes=${f.scopes.join(',')}`] : []),
      ...(f.expiresInMinutes === undefined ? [] : [`expiresInMinutes=${f.expiresInMinutes}`]),
    ].join('&');
  return fc
    .record({
      host: fc.constantFrom<HostMode>('key', 'easyauth'),
      route: fc.constantFrom(
        'post-token',
        'post-token',
        'post-token',
        'get-token',
        'get-token',
        'user',
        'revoke',
        'health',
      ),
      fields,
      session: fc.constantFrom(...secrets.sessions),
      keyInQuery: fc.boolean(),
    })
    .map(({ host, route, fields: f, session, keyInQuery }): HostileRequest => {
      const auth: [string, string][] =
        host === 'easyauth'
          ? [['cookie', `${SESSION_COOKIE}=${session}`]]
          : keyInQuery
            ? []
            : [['x-functions-key', secrets.functionKey]];
      const code =
        host === 'key' && keyInQuery ? `code=${encodeURIComponent(secrets.functionKey)}` : '';
      const withCode = (path: string, query = '') => {
        const q = [query, code].filter(Boolean).join('&');
        return q ? `${path}?${q}` : path;
      };
      const base = { host, transport: 'fetch' as const, raw: undefined, family: 'valid' };
      switch (route) {
        case 'post-token':
          return {
            ...base,
            method: 'POST',
            target: withCode('/api/token'),
            headers: [...auth, ['content-type', 'application/json']],
            body: { kind: 'text', text: JSON.stringify(f) },
          };
        case 'get-token':
          return {
            ...base,
            method: 'GET',
            target: withCode('/api/token', asQuery(f)),
            headers: auth,
            body: { kind: 'none' },
          };
        case 'user':
          return {
            ...base,
            method: 'GET',
            target: withCode('/api/user'),
            headers: auth,
            body: { kind: 'none' },
          };
        case 'revoke':
          return {
            ...base,
            method: 'POST',
            target: withCode('/api/token/revoke'),
            headers: auth,
            body: { kind: 'none' },
          };
        default:
          return {
            ...base,
            method: 'GET',
            target: '/api/health',
            headers: [],
            body: { kind: 'none' },
          };
      }
    });
}

/** The suite's mix: mostly hostile, with a slice of valid requests. */
export function fuzzRequest(secrets: FuzzSecrets): fc.Arbitrary<HostileRequest> {
  return fc.oneof(
    { weight: 85, arbitrary: hostileRequest(secrets) },
    { weight: 15, arbitrary: validRequest(secrets) },
  );
}
