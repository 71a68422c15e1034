import fc from 'fast-check';
import { ACS_SCOPE_NAMES, type Body, HOST_BODY_LIMIT } from './request';
import { badId, hostileChar, hostileString, strangerId } from './strings';

/**
 * Request bodies.
 * Part of the hostile-input generators (tests/support/arbitraries.ts).
 */

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

export const NO_BODY: Body = { kind: 'none' };

export function bodyArb(): fc.Arbitrary<{ body: Body; family: string }> {
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
