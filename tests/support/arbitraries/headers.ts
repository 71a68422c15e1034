import fc from 'fast-check';
import { cookieHeader, easyAuthForgery, keyValue } from './credentials';
import type { FuzzSecrets } from './request';
import { headerText, randomCase, sometimes } from './strings';

/**
 * Header sets.
 * Part of the hostile-input generators (tests/support/arbitraries.ts).
 */

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

export function headersArb(secrets: FuzzSecrets): fc.Arbitrary<[string, string][]> {
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
