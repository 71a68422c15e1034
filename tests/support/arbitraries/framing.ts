import fc from 'fast-check';
import { CANARY, type RawFraming } from './request';

/**
 * Methods and framing (how a request is put on the wire).
 * Part of the hostile-input generators (tests/support/arbitraries.ts).
 */

export const methodArb = fc.oneof(
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

export const rawFraming: fc.Arbitrary<RawFraming> = fc.record({
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
export const absoluteTarget = (path: string) =>
  fc
    .constantFrom('http://localhost', 'http://evil.example', 'http://u:p@localhost')
    .map((o) => o + path);
