import fc from 'fast-check';
import { bodyArb, NO_BODY } from './arbitraries/bodies';
import { absoluteTarget, methodArb, rawFraming } from './arbitraries/framing';
import { headersArb } from './arbitraries/headers';
import { pathArb, queryString } from './arbitraries/paths';
import {
  type Body,
  bodySize,
  bodyText,
  type FuzzSecrets,
  headerBytes,
  type HostileRequest,
  type HostMode,
  SESSION_COOKIE,
} from './arbitraries/request';

/**
 * Generators for the hostile-input suite (tests/integration/hostileInput.test.ts). A generated
 * request is plain data; `tests/support/hostileTransport.ts` sends it and
 * `tests/support/hostileOracle.ts` says what the service must answer. Each generator family has its
 * module under tests/support/arbitraries/; this one composes them.
 */

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
