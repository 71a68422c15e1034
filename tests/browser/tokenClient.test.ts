import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startEmulator, type RunningEmulator } from '../../dev/emulator';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { findChromium } from '../support/chromium';
import { bundleForBrowser } from '../support/docSnippets';
import { uniqueUser } from '../support/easyAuthSession';
import { startLocalHost, type LocalHostProcess } from '../support/localHost';
import { eventually } from '../support/poll';

/**
 * The package (clients/js, as built) in Chromium against the local host in Easy Auth mode,
 * driving the real AzureCommunicationTokenCredential of @azure/communication-common through a
 * proactive refresh, ACS throttling, an ended session and the service going down. The page runs
 * on Playwright's clock so the SDK's timer (10 minutes before `exp`) comes without waiting an
 * hour; requests, Retry-After waits and backoffs run in real time. Every request the page makes
 * to /api/token is counted from outside the page.
 */

jest.setTimeout(120_000);

/** The SDK (autoRefreshTokenCredential.ts) refreshes 10 minutes before `exp`. */
const SDK_WINDOW_MS = 10 * 60_000;
/** What the test configures, and so the bound on requests per failed refresh. */
const MAX_ATTEMPTS = 3;

const HARNESS = `export { createTokenCredential } from './clients/js/dist/index.js';`;

let emulator: RunningEmulator | undefined;
let azurite: TestAzurite | undefined;
let host: LocalHostProcess | undefined;
let browser: Browser | undefined;
let context: BrowserContext | undefined;
let harness = '';
const hostEnv: Record<string, string> = {};
/** What each scenario measured, printed at the end for the report. */
const measured: Record<string, unknown> = {};

function started<T>(thing: T | undefined, name: string): T {
  if (thing === undefined) throw new Error(`${name} did not start`);
  return thing;
}

beforeAll(async () => {
  const executablePath = findChromium();
  [emulator, azurite, harness] = await Promise.all([
    startEmulator({ port: 0 }),
    startTestAzurite(),
    bundleForBrowser(HARNESS),
  ]);
  Object.assign(hostEnv, {
    ACS_CONNECTION_STRING: emulator.connectionString,
    AUTH_MODE: 'easyauth',
    IDENTITY_MAP_CONNECTION: azurite.connectionString,
    TOKEN_POLICY: JSON.stringify({ roles: { member: { scopes: ['chat', 'voip'] } } }),
  });
  [host, browser] = await Promise.all([
    startLocalHost(hostEnv),
    chromium.launch({
      executablePath,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run'],
    }),
  ]);
}, 10 * 60_000);

afterAll(async () => {
  await browser?.close();
  await host?.stop();
  await Promise.all([emulator?.close(), azurite?.dispose()]);
  console.warn(`token client in Chromium, requests measured: ${JSON.stringify(measured)}`);
});

beforeEach(async () => {
  started(emulator, 'the emulator').reset();
  context = await started(browser, 'the browser').newContext();
  context.setDefaultTimeout(15_000);
});

afterEach(async () => {
  await context?.close();
});

interface Sent {
  at: number;
  outcome: number | 'failed';
  retryAfter?: number;
}

interface PageEvent {
  type: string;
  attempt?: number;
  delayMs?: number;
  attempts?: number;
  nextTryInMs?: number;
  code?: string;
  status?: number;
  communicationUserId?: string;
}

/** A signed-in page on the host's origin, on Playwright's clock, with the package loaded. */
async function signedInPage(): Promise<{ page: Page; sent: Sent[]; user: string }> {
  const page = await started(context, 'the browser').newPage();
  const sent: Sent[] = [];
  page.on('response', (response) => {
    if (!response.url().endsWith('/api/token')) return;
    const retryAfter = response.headers()['retry-after'];
    sent.push({
      at: Date.now(),
      outcome: response.status(),
      ...(retryAfter ? { retryAfter: Number(retryAfter) } : {}),
    });
  });
  page.on('requestfailed', (request) => {
    if (request.url().endsWith('/api/token')) sent.push({ at: Date.now(), outcome: 'failed' });
  });
  await page.clock.install();
  const url = started(host, 'the local host').url;
  const user = uniqueUser('client');
  await page.goto(`${url}/.auth/login/dev?user=${user}&roles=member`);
  await page.evaluate(harness);
  return { page, sent, user };
}

/** Creates the credential in the page; resolves with the first token's expiry. */
async function createCredential(page: Page): Promise<number> {
  return page.evaluate(async (maxAttempts) => {
    const w = globalThis as unknown as Record<string, unknown> & {
      snippet: { createTokenCredential: (o: unknown) => Promise<unknown> };
    };
    w.events = [];
    w.unauthorized = 0;
    const events = w.events as unknown[];
    const credential = (await w.snippet.createTokenCredential({
      url: '',
      scopes: ['voip'],
      retry: { maxAttempts },
      onEvent: (e: {
        type: string;
        error?: { code: string; status: number };
        [k: string]: unknown;
      }) => {
        // Never the token: what a UI would show.
        const {
          error,
          user,
          expiresOn: _expiresOn,
          ...rest
        } = e as typeof e & {
          user?: { communicationUserId: string };
        };
        events.push({
          ...rest,
          ...(user ? { communicationUserId: user.communicationUserId } : {}),
          ...(error ? { code: error.code, status: error.status } : {}),
        });
      },
      onUnauthorized: () => {
        w.unauthorized = (w.unauthorized as number) + 1;
      },
    })) as { getToken(): Promise<{ token: string; expiresOnTimestamp: number }> };
    w.credential = credential;
    return (await credential.getToken()).expiresOnTimestamp;
  }, MAX_ATTEMPTS);
}

const eventsOf = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { events: PageEvent[] }).events);

const tokenNow = (page: Page) =>
  page.evaluate(async () => {
    const { credential } = globalThis as unknown as {
      credential: { getToken(): Promise<{ token: string; expiresOnTimestamp: number }> };
    };
    return credential.getToken();
  });

/** Moves the page's clock to `ms` past the SDK's proactive refresh point of a token. */
async function pastRefreshPoint(page: Page, expiresAt: number, ms: number): Promise<void> {
  const now = await page.evaluate(() => Date.now());
  await page.clock.fastForward(Math.max(0, expiresAt - SDK_WINDOW_MS - now) + ms);
}

async function waitForEvent(page: Page, type: string, count = 1): Promise<PageEvent[]> {
  await eventually(`${count} "${type}" event(s) in the page`, async () => {
    return (await eventsOf(page)).filter((e) => e.type === type).length >= count;
  });
  return eventsOf(page);
}

describe('acs-token-service-client in Chromium, with the real AzureCommunicationTokenCredential', () => {
  it('refreshes proactively before expiry, once', async () => {
    const { page, sent } = await signedInPage();
    const firstExpiry = await createCredential(page);
    const first = await tokenNow(page);
    expect(sent.map((s) => s.outcome)).toEqual([200]);

    // A minute short of the refresh point nothing is asked...
    const now = await page.evaluate(() => Date.now());
    await page.clock.fastForward(firstExpiry - SDK_WINDOW_MS - now - 60_000);
    expect(sent).toHaveLength(1);
    // ...and a minute past it the SDK's timer has refreshed through the package.
    await page.clock.fastForward(2 * 60_000);
    await waitForEvent(page, 'refreshed', 2);
    const second = await tokenNow(page);
    expect(second.token).not.toBe(first.token);
    expect(sent.map((s) => s.outcome)).toEqual([200, 200]);
    expect(started(emulator, 'the emulator').counts()).toMatchObject({
      createUserAndToken: 1,
      issueAccessToken: 1,
    });
    // No loop: another minute of page time (and a second of real time) asks nothing more.
    await page.clock.fastForward(60_000);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(sent).toHaveLength(2);
    measured.proactiveRefresh = { requests: sent.length };
  });

  it('waits out ACS throttling (429 + Retry-After) a bounded number of times, then recovers', async () => {
    const acs = started(emulator, 'the emulator');
    const { page, sent } = await signedInPage();
    const expiresAt = await createCredential(page);
    const first = await tokenNow(page);

    acs.setFaults({
      errorStatus: 429,
      errorRate: 1,
      retryAfterSeconds: 2,
      operations: ['issueAccessToken'],
    });
    await pastRefreshPoint(page, expiresAt, 1_000);
    const events = await waitForEvent(page, 'gave-up');
    const failed = sent.slice(1);
    expect(failed.map((s) => s.outcome)).toEqual(Array(MAX_ATTEMPTS).fill(429));
    // Each retry waited at least the Retry-After of the answer before it: as the package
    // scheduled it (in the page), and as seen from outside (event delivery adds some noise).
    const waits = events.filter((e) => e.type === 'retrying').map((e) => e.delayMs ?? 0);
    for (let i = 1; i < failed.length; i++) {
      const asked = (failed[i - 1]?.retryAfter ?? 0) * 1000;
      expect(waits[i - 1]).toBeGreaterThanOrEqual(asked);
      expect((failed[i]?.at ?? 0) - (failed[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(asked - 250);
    }
    expect(events.filter((e) => e.type === 'retrying')).toHaveLength(MAX_ATTEMPTS - 1);
    const gaveUp = events.find((e) => e.type === 'gave-up');
    expect(gaveUp).toMatchObject({ attempts: MAX_ATTEMPTS, code: 'upstream_throttled' });
    // The SDK keeps the current, still valid token and tries again later by itself.
    expect((await tokenNow(page)).token).toBe(first.token);

    // ACS recovers. The SDK's next try comes minutes later (page time); in real time, let the
    // service's own hold on ACS (its last Retry-After) pass first, as minutes would.
    acs.setFaults({ errorRate: 0 });
    await new Promise((r) => setTimeout(r, (failed.at(-1)?.retryAfter ?? 0) * 1000 + 100));
    await page.clock.fastForward((gaveUp?.nextTryInMs ?? 0) + 1_000);
    await waitForEvent(page, 'refreshed', 2);
    expect(sent.slice(1 + MAX_ATTEMPTS).map((s) => s.outcome)).toEqual([200]);
    expect((await tokenNow(page)).token).not.toBe(first.token);
    measured.throttled = {
      requestsWhileThrottled: failed.length,
      retryAfterSeconds: failed.map((s) => s.retryAfter),
      gapsMs: failed.slice(1).map((s, i) => s.at - (failed[i]?.at ?? 0)),
      requestsToRecover: 1,
    };
  });

  it('calls onUnauthorized when the session has ended, one request per SDK attempt, never a loop', async () => {
    const { page, sent, user } = await signedInPage();
    const expiresAt = await createCredential(page);
    const first = await tokenNow(page);
    const identity = (await eventsOf(page))[0]?.communicationUserId;
    expect(identity).toMatch(/^8:acs:/);

    // The browser drops the session cookie (its Max-Age passed, or the user signed out).
    await started(context, 'the browser').clearCookies();
    await pastRefreshPoint(page, expiresAt, 1_000);
    await waitForEvent(page, 'unauthorized');
    await new Promise((r) => setTimeout(r, 500));
    expect(sent.slice(1).map((s) => s.outcome)).toEqual([401]);
    expect(
      await page.evaluate(() => (globalThis as unknown as { unauthorized: number }).unauthorized),
    ).toBe(1);
    expect((await tokenNow(page)).token).toBe(first.token);

    // The SDK tries again halfway through what is left (about 4.5 minutes): one more 401.
    await page.clock.fastForward(5 * 60_000);
    await waitForEvent(page, 'unauthorized', 2);
    expect(sent.slice(1).map((s) => s.outcome)).toEqual([401, 401]);

    // Signed in again (another tab), the SDK's next try gets a token for the same identity.
    const url = started(host, 'the local host').url;
    const login = await started(context, 'the browser').newPage();
    await login.goto(`${url}/.auth/login/dev?user=${user}&roles=member`);
    await login.close();
    await page.clock.fastForward(3 * 60_000);
    const events = await waitForEvent(page, 'refreshed', 2);
    expect(sent.slice(1).map((s) => s.outcome)).toEqual([401, 401, 200]);
    expect(events.filter((e) => e.type === 'refreshed')[1]?.communicationUserId).toBe(identity);
    expect(events.filter((e) => e.type === 'gave-up')).toEqual([]);
    measured.unauthorized = {
      // Two SDK attempts while signed out, one request each; then one after signing in again.
      requestsAnswered401: sent.filter((r) => r.outcome === 401).length,
      requestsToRecover: sent.slice(1).filter((r) => r.outcome === 200).length,
      unauthorizedCalls: await page.evaluate(
        () => (globalThis as unknown as { unauthorized: number }).unauthorized,
      ),
    };
  });

  it('backs off while the service is down, bounded per refresh, and recovers when it is back', async () => {
    const { page, sent } = await signedInPage();
    const expiresAt = await createCredential(page);
    const first = await tokenNow(page);
    const running = started(host, 'the local host');
    const port = new URL(running.url).port;

    await running.stop();
    host = undefined;
    await pastRefreshPoint(page, expiresAt, 1_000);
    let events = await waitForEvent(page, 'gave-up');
    expect(sent.slice(1).map((s) => s.outcome)).toEqual(Array(MAX_ATTEMPTS).fill('failed'));
    const backoffs = events.filter((e) => e.type === 'retrying').map((e) => e.delayMs ?? 0);
    // Equal jitter around 1 s, then 2 s.
    expect(backoffs).toHaveLength(MAX_ATTEMPTS - 1);
    expect(backoffs[0]).toBeGreaterThanOrEqual(500);
    expect(backoffs[1]).toBeGreaterThanOrEqual(1_000);
    expect((await tokenNow(page)).token).toBe(first.token);

    // Still down at the SDK's next try: another bounded round, no more.
    const nextTry = events.find((e) => e.type === 'gave-up')?.nextTryInMs ?? 0;
    await page.clock.fastForward(nextTry + 1_000);
    events = await waitForEvent(page, 'gave-up', 2);
    expect(sent.slice(1).map((s) => s.outcome)).toEqual(Array(2 * MAX_ATTEMPTS).fill('failed'));

    // Back on the same port: the next try gets a token.
    host = await startLocalHost({ ...hostEnv, PORT: port });
    const lastTry = events.filter((e) => e.type === 'gave-up')[1]?.nextTryInMs ?? 0;
    await page.clock.fastForward(lastTry + 1_000);
    await waitForEvent(page, 'refreshed', 2);
    expect(sent.slice(1 + 2 * MAX_ATTEMPTS).map((s) => s.outcome)).toEqual([200]);
    expect((await tokenNow(page)).token).not.toBe(first.token);
    measured.outage = {
      requestsWhileDown: 2 * MAX_ATTEMPTS,
      sdkAttemptsWhileDown: 2,
      backoffsMs: backoffs,
      requestsToRecover: 1,
    };
  });
});
