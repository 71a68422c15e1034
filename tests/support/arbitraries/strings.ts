import fc from 'fast-check';

/**
 * Characters and strings a parser has to survive: the building blocks of the other families.
 * Part of the hostile-input generators (tests/support/arbitraries.ts).
 */

/** Code points a parser has to survive: controls, lone surrogates, BMP, astral, specials. */
export const hostileChar = fc.oneof(
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
export const hostileString = (maxLength = 40) => fc.string({ unit: hostileChar, maxLength });

/** Header-safe text for fetch (a ByteString); a rare non-Latin-1 or control char makes fetch refuse. */
export const headerText = (maxLength = 60) =>
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
export const sometimes = <T>(arb: fc.Arbitrary<T>, p: number): fc.Arbitrary<T | undefined> =>
  fc.oneof(
    { weight: Math.round((1 - p) * 100), arbitrary: fc.constant(undefined) },
    { weight: Math.round(p * 100), arbitrary: arb },
  );

export const randomCase = (s: string) =>
  fc
    .array(fc.boolean(), { minLength: s.length, maxLength: s.length })
    .map((flips) => [...s].map((c, i) => (flips[i] ? c.toUpperCase() : c.toLowerCase())).join(''));

/** encodeURIComponent for any string: a lone surrogate becomes U+FFFD, as a URL would have it. */
export const enc = (s: string) =>
  encodeURIComponent(
    s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'),
  );

const uuid = fc.uuid();
/** Well-formed ACS ids that no emulator holds, so naming one is never a valid 200. */
export const strangerId = fc
  .tuple(uuid, uuid, fc.constantFrom('acs', 'gcch-acs', 'teams'))
  .map(([a, b, cloud]) => `8:${cloud}:${a}_${b}`);
export const badId = fc.oneof(
  fc.constantFrom('', 'alice@example.com', '8:acs:', '8:ACS:x', '8:acs:a b', '4:acs:x', ' 8:acs:x'),
  fc.constant(`8:acs:${'a'.repeat(260)}`),
  hostileString(20),
);
