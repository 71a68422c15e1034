import {
  createTokenCredential,
  fetchToken,
  isTokenServiceError,
  MIN_TOKEN_LIFETIME_MS,
  type TokenCredentialOptions,
  type TokenEvent,
} from '../../clients/js/src/index.js';
import { TokenClient } from '../../clients/js/src/client.js';
import { refresherFor } from '../../clients/js/src/credential.js';
import { expiresAtMs } from '../../clients/js/src/jwt.js';

/**
 * The package's refresh policy, against a scripted `fetch` (the Chromium test in
 * tests/browser/tokenClient.test.ts drives the same code against the real local host).
 */

function jwt(expiresInMs: number): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const exp = Math.floor((Date.now() + expiresInMs) / 1000);
  return `${part({ alg: 'none' })}.${part({ sub: '8:acs:test', exp })}.sig`;
}

function issued(expiresInMs = 60 * 60_000, id = '8:acs:r_1'): Response {
  const token = jwt(expiresInMs);
  return Response.json({
    user: { communicationUserId: id },
    token,
    expiresOn: new Date(Date.now() + expiresInMs).toISOString(),
  });
}

function problem(status: number, code: string, headers: Record<string, string> = {}): Response {
  return new Response(
    JSON.stringify({
      type: `urn:acs-token-service:problem:${code}`,
      title: code,
      status,
      detail: `detail of ${code}`,
      code,
    }),
    { status, headers: { 'content-type': 'application/problem+json', ...headers } },
  );
}

/** What a promise expected to fail rejected with. */
async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/** A fetch that answers from a script, one entry per request, and records what was sent. */
function scripted(...answers: (Response | Error | (() => Response | Promise<Response>))[]) {
  const sent: { body: unknown; headers: Record<string, string>; credentials?: string }[] = [];
  const fn = (async (_url: string | URL | Request, init?: RequestInit) => {
    sent.push({
      body: JSON.parse(init?.body as string) as unknown,
      headers: init?.headers as Record<string, string>,
      ...(init?.credentials ? { credentials: init.credentials } : {}),
    });
    const next = answers.shift();
    if (next === undefined) throw new Error('the script ran out of answers');
    if (next instanceof Error) throw next;
    return typeof next === 'function' ? next() : next;
  }) as typeof fetch;
  return { fn, sent };
}

function options(
  fetchFn: typeof fetch,
  events: TokenEvent[],
  extra: Partial<TokenCredentialOptions> = {},
) {
  return {
    url: 'https://tokens.example/',
    fetch: fetchFn,
    onEvent: (e: TokenEvent) => events.push(e),
    ...extra,
    retry: { baseDelayMs: 4, maxDelayMs: 50, random: () => 0, ...extra.retry },
  } satisfies TokenCredentialOptions;
}

describe('expiresAtMs', () => {
  it('reads exp as the SDK does, whatever the padding and alphabet', () => {
    for (const extra of ['', 'x', 'xy', 'ü€😀', '>>>???']) {
      const exp = 1_900_000_000 + extra.length;
      const payload = Buffer.from(JSON.stringify({ exp, extra })).toString('base64url');
      expect(expiresAtMs(`h.${payload}.s`)).toBe(exp * 1000);
      const padded = Buffer.from(JSON.stringify({ exp, extra })).toString('base64');
      expect(expiresAtMs(`h.${padded}.s`)).toBe(exp * 1000);
    }
    expect(expiresAtMs('not-a-jwt')).toBeUndefined();
    expect(expiresAtMs('h.!!!.s')).toBeUndefined();
  });
});

describe('fetchToken', () => {
  it('posts the request and reports the refresh', async () => {
    const { fn, sent } = scripted(issued());
    const events: TokenEvent[] = [];
    const answer = await fetchToken(
      options(fn, events, {
        scopes: ['chat', 'voip'],
        expiresInMinutes: 120,
        credentials: 'include',
        getHeaders: () => ({ authorization: 'Bearer abc' }),
      }),
    );
    expect(answer.user.communicationUserId).toBe('8:acs:r_1');
    expect(sent).toEqual([
      {
        body: { scopes: ['chat', 'voip'], expiresInMinutes: 120 },
        headers: expect.objectContaining({ authorization: 'Bearer abc' }) as unknown,
        credentials: 'include',
      },
    ]);
    expect(events.map((e) => e.type)).toEqual(['refreshed']);
  });

  it('calls onUnauthorized once on a 401 and never asks again', async () => {
    const { fn, sent } = scripted(problem(401, 'unauthenticated'), issued());
    const events: TokenEvent[] = [];
    const onUnauthorized = jest.fn();
    const err = await failure(fetchToken(options(fn, events, { onUnauthorized })));
    expect(isTokenServiceError(err, 'unauthenticated')).toBe(true);
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
    expect(sent).toHaveLength(1);
    expect(events.map((e) => e.type)).toEqual(['unauthorized']);
  });

  it('reads the Functions host’s bare 401 (no body) as unauthenticated', async () => {
    const { fn } = scripted(new Response(null, { status: 401 }));
    const err = await failure(fetchToken(options(fn, [])));
    expect(err).toMatchObject({ code: 'unauthenticated', status: 401, problem: undefined });
  });

  it('waits out Retry-After (never sooner) for a bounded number of tries', async () => {
    const { fn, sent } = scripted(
      problem(429, 'upstream_throttled', { 'retry-after': '1' }),
      problem(503, 'upstream_unavailable', { 'retry-after': '1' }),
      problem(429, 'rate_limited', { 'retry-after': '1' }),
      issued(),
    );
    const events: TokenEvent[] = [];
    const started = Date.now();
    const err = await failure(
      fetchToken(options(fn, events, { retry: { maxAttempts: 3, random: () => 0.5 } })),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(2 * 1000);
    expect(sent).toHaveLength(3);
    expect(err).toMatchObject({
      code: 'rate_limited',
      status: 429,
      retryAfterSeconds: 1,
      attempts: 3,
    });
    expect(events.map((e) => [e.type, e.type === 'retrying' ? e.delayMs : undefined])).toEqual([
      ['retrying', 1125],
      ['retrying', 1125],
      ['gave-up', undefined],
    ]);
  });

  it('gives up at once when Retry-After is longer than it will wait', async () => {
    const { fn, sent } = scripted(problem(429, 'upstream_throttled', { 'retry-after': '600' }));
    const err = await failure(fetchToken(options(fn, [])));
    expect(err).toMatchObject({ code: 'upstream_throttled', retryAfterSeconds: 600 });
    expect(sent).toHaveLength(1);
  });

  it('backs off exponentially, within its bound, when the service cannot be reached', async () => {
    const down = () => new TypeError('fetch failed');
    const { fn, sent } = scripted(down(), down(), down(), down(), down(), down());
    const events: TokenEvent[] = [];
    const err = await failure(
      fetchToken(
        options(fn, events, {
          retry: { maxAttempts: 6, baseDelayMs: 4, maxDelayMs: 20, random: () => 0 },
        }),
      ),
    );
    expect(err).toMatchObject({ code: 'network_error', status: 0, attempts: 6 });
    expect(sent).toHaveLength(6);
    // Equal jitter with random() = 0: half of 4, 8, 16, then the 20 ms cap.
    expect(events.flatMap((e) => (e.type === 'retrying' ? [e.delayMs] : []))).toEqual([
      2, 4, 8, 10, 10,
    ]);
  });

  it('turns a problem into a typed error without retrying a refusal', async () => {
    const { fn, sent } = scripted(problem(403, 'scope_not_allowed'));
    const err = await failure(fetchToken(options(fn, [])));
    expect(isTokenServiceError(err, 'scope_not_allowed')).toBe(true);
    expect(err).toMatchObject({ status: 403, message: 'detail of scope_not_allowed' });
    expect(sent).toHaveLength(1);
  });

  it('never returns a token too close to its expiry', async () => {
    const { fn, sent } = scripted(issued(30_000), issued(MIN_TOKEN_LIFETIME_MS - 5_000));
    const err = await failure(fetchToken(options(fn, [], { retry: { maxAttempts: 2 } })));
    expect(isTokenServiceError(err, 'token_expires_too_soon')).toBe(true);
    expect(sent).toHaveLength(2);
  });

  it('stops waiting as soon as the signal aborts', async () => {
    const controller = new AbortController();
    const { fn, sent } = scripted(problem(503, 'upstream_unavailable', { 'retry-after': '30' }));
    const pending = fetchToken(options(fn, [], { signal: controller.signal }));
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(sent).toHaveLength(1);
  });
});

describe('the credential’s refresher', () => {
  it('runs one refresh however many callers ask at once', async () => {
    let release: (r: Response) => void = () => undefined;
    const slow = () => new Promise<Response>((resolve) => (release = resolve));
    const { fn, sent } = scripted(slow);
    const client = new TokenClient(options(fn, []));
    const all = Promise.all([client.token(), client.token(), client.token(), client.token()]);
    await new Promise((r) => setTimeout(r, 10));
    release(issued());
    const answers = await all;
    expect(new Set(answers.map((a) => a.token)).size).toBe(1);
    expect(sent).toHaveLength(1);
  });

  it('keeps one identity across refreshes in key mode (keepIdentity)', async () => {
    const { fn, sent } = scripted(
      issued(60 * 60_000, '8:acs:r_kept'),
      issued(60 * 60_000, '8:acs:r_kept'),
    );
    const client = new TokenClient(options(fn, [], { keepIdentity: true }));
    await client.token();
    await client.token();
    expect(sent.map((s) => s.body)).toEqual([{}, { communicationUserId: '8:acs:r_kept' }]);
  });

  it('hands the SDK its current token back when a refresh fails with time left', async () => {
    const current = jwt(5 * 60_000);
    const { fn, sent } = scripted(
      problem(503, 'upstream_unavailable'),
      problem(503, 'upstream_unavailable'),
    );
    const events: TokenEvent[] = [];
    const refresh = refresherFor(
      new TokenClient(options(fn, events, { retry: { maxAttempts: 2, baseDelayMs: 1 } })),
      current,
    );
    await expect(refresh()).resolves.toBe(current);
    expect(sent).toHaveLength(2);
    const gaveUp = events.find((e) => e.type === 'gave-up');
    expect(gaveUp).toMatchObject({ attempts: 2, nextTryInMs: expect.any(Number) as unknown });
    // Half of what is left: the SDK's own next try for a token inside its 10-minute window.
    expect((gaveUp as { nextTryInMs: number }).nextTryInMs).toBeGreaterThan(2.4 * 60_000);
  });

  it('lets the error through when the current token has less than a minute left', async () => {
    const { fn } = scripted(problem(503, 'upstream_unavailable'));
    const refresh = refresherFor(
      new TokenClient(options(fn, [], { retry: { maxAttempts: 1 } })),
      jwt(MIN_TOKEN_LIFETIME_MS - 10_000),
    );
    await expect(refresh()).rejects.toMatchObject({ code: 'upstream_unavailable' });
  });

  it('rejects where the app awaits it when the first token is refused', async () => {
    const { fn } = scripted(problem(403, 'scope_not_allowed'));
    await expect(createTokenCredential(options(fn, []))).rejects.toMatchObject({
      code: 'scope_not_allowed',
    });
  });
});
