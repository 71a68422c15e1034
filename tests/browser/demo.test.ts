import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startEmulator, type RunningEmulator } from '../../dev/emulator';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { findChromium } from '../support/chromium';
import { startLocalHost, type LocalHostProcess } from '../support/localHost';

const projectRoot = path.resolve(__dirname, '..', '..');
const DEMO_INDEX = path.join(projectRoot, 'examples', 'browser', 'dist', 'index.html');
const SCREENSHOT = path.join(projectRoot, 'test-results', 'browser-demo.png');

/**
 * @azure/communication-common 2.4 (AutoRefreshTokenCredential) schedules its proactive refresh
 * for 10 minutes before `exp`; for a token already inside that window, halfway through the rest.
 */
const PROACTIVE_REFRESH_LEAD_MS = 10 * 60_000;

const TOKEN_POLICY = JSON.stringify({
  roles: {
    guest: { scopes: ['chat.join.limited', 'voip.join'], maxExpiryMinutes: 60 },
    member: { scopes: ['chat', 'voip'], defaultScopes: ['voip'] },
  },
});

jest.setTimeout(90_000);

let emulator: RunningEmulator | undefined;
let azurite: TestAzurite | undefined;
let host: LocalHostProcess | undefined;
let browser: Browser | undefined;
let context: BrowserContext | undefined;
let run = 0;

beforeAll(async () => {
  // Found, or installed with apt when root on Debian; otherwise a one-line error says what to do.
  const executablePath = findChromium();
  if (!existsSync(DEMO_INDEX)) {
    throw new Error(`${DEMO_INDEX} is missing; run \`npm run build\` (it builds the demo).`);
  }
  [emulator, azurite] = await Promise.all([startEmulator({ port: 0 }), startTestAzurite()]);
  [host, browser] = await Promise.all([
    startLocalHost({
      ACS_CONNECTION_STRING: emulator.connectionString,
      AUTH_MODE: 'easyauth',
      IDENTITY_MAP_CONNECTION: azurite.connectionString,
      TOKEN_POLICY,
    }),
    chromium.launch({
      executablePath,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    }),
  ]);
}, 10 * 60_000); // provisioning Chromium with apt can take minutes on a fresh machine

afterAll(async () => {
  await browser?.close();
  await host?.stop();
  await Promise.all([emulator?.close(), azurite?.dispose()]);
});

beforeEach(async () => {
  emulator?.reset();
  context = await browser?.newContext();
  // A missing element fails with Playwright's own message well before Jest's timeout.
  context?.setDefaultTimeout(15_000);
});

afterEach(async () => {
  await context?.close();
});

function started<T>(thing: T | undefined, name: string): T {
  if (thing === undefined) throw new Error(`${name} did not start`);
  return thing;
}

/** A unique user per test: the identity map outlives a test. */
const userName = (label: string) => `${label}-${Date.now()}-${++run}`;

async function textOf(page: Page, selector: string): Promise<string> {
  return ((await page.locator(selector).textContent()) ?? '').trim();
}

async function signIn(page: Page, user: string, roles: string): Promise<void> {
  await page.fill('#sign-in input[name="user"]', user);
  await page.fill('#sign-in input[name="roles"]', roles);
  await page.click('#sign-in button[type="submit"]');
  await page.locator('#session-status[data-state="in"]').waitFor();
}

async function chooseScopes(page: Page, scopes: string[]): Promise<void> {
  for (const box of await page.locator('input[name="scope"]').all()) {
    await box.setChecked(scopes.includes((await box.getAttribute('value')) ?? ''));
  }
}

describe('browser demo (easyauth mode)', () => {
  it('signs in, shows the token, refreshes it proactively and explains a lost session', async () => {
    const acs = started(emulator, 'the emulator');
    const page = await started(context, 'the browser').newPage();
    // Before the first navigation, so the page's timers (and the SDK's) run on Playwright's clock.
    await page.clock.install();
    await page.goto(`${started(host, 'the local host').url}/`);
    await page.locator('#session-status[data-state="out"]').waitFor();
    expect(await page.locator('#sign-in').isVisible()).toBe(true);
    expect(await page.locator('#key-entry').isVisible()).toBe(false);

    const user = userName('alice');
    await signIn(page, user, 'member');
    expect(await textOf(page, '#session-status')).toBe(`Signed in as ${user} (roles: member)`);

    await chooseScopes(page, ['chat', 'voip']);
    await page.click('#get-token');
    await page.locator('#identity', { hasText: /^8:acs:/ }).waitFor();
    const identity = await textOf(page, '#identity');
    expect(identity).toMatch(/^8:acs:[A-Za-z0-9_.-]+$/);
    expect(await textOf(page, '#granted-scopes')).toBe('chat, voip');
    const firstExpiry = Date.parse(await textOf(page, '#expires-on'));
    const pageNow = await page.evaluate(() => Date.now());
    // The service's default lifetime is 60 minutes.
    expect(Math.round((firstExpiry - pageNow) / 60_000)).toBe(60);
    expect(await textOf(page, '#countdown')).toMatch(/^(59|60):\d\d$/);
    expect(acs.counts()).toMatchObject({ createUserAndToken: 1, issueAccessToken: 0 });
    const firstAnswer = await page.evaluate(
      (ms) => `a token that expires ${new Date(ms).toLocaleTimeString()}`,
      firstExpiry,
    );
    expect(await textOf(page, '#credential-answer')).toBe(firstAnswer);

    // Just short of the refresh point nothing happens...
    const refreshPoint = firstExpiry - PROACTIVE_REFRESH_LEAD_MS;
    await page.clock.fastForward(refreshPoint - pageNow - 5_000);
    expect(await page.locator('#refresh-log li').count()).toBe(0);
    expect(acs.counts().issueAccessToken).toBe(0);

    // ...and a minute past it the credential has fetched a new token through our endpoint.
    // (A minute, not a second: the new token then has under 10 minutes left on the page's
    // clock, so the SDK waits half of that before its next refresh instead of going again now.)
    await page.clock.fastForward(65_000);
    await page.locator('#refresh-log li[data-kind="refresh"]').waitFor();
    expect(await page.locator('#refresh-log li').count()).toBe(1);
    expect(await textOf(page, '#refresh-log li')).toMatch(/ — New token, expires /);
    expect(acs.counts()).toMatchObject({ createUserAndToken: 1, issueAccessToken: 1 });
    expect(await textOf(page, '#identity')).toBe(identity);
    expect(await textOf(page, '#granted-scopes')).toBe('chat, voip');
    const secondExpiry = Date.parse(await textOf(page, '#expires-on'));
    expect(secondExpiry).toBeGreaterThanOrEqual(firstExpiry);

    // The credential now hands out the new token.
    await page.click('#ask-credential');
    const secondAnswer = await page.evaluate(
      (ms) => `a token that expires ${new Date(ms).toLocaleTimeString()}`,
      secondExpiry,
    );
    await page.locator('#credential-answer', { hasText: secondAnswer }).waitFor();

    // Signing out in another tab ends the session; the next proactive refresh gets a 401.
    const otherTab = await started(context, 'the browser').newPage();
    await otherTab.goto(
      `${started(host, 'the local host').url}/.auth/logout?post_logout_redirect_uri=/`,
    );
    await otherTab.locator('#session-status[data-state="out"]').waitFor();
    await otherTab.close();
    const later = await page.evaluate(() => Date.now());
    await page.clock.fastForward(secondExpiry - later - 60_000);
    await page.locator('#refresh-log li[data-kind="error"]').waitFor();
    expect(await textOf(page, '#refresh-log li[data-kind="error"]')).toMatch(
      / — You are signed out — sign in again$/,
    );
    await page.locator('#session-status[data-state="out"]').waitFor();
    expect(acs.counts().issueAccessToken).toBe(1);
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    // Asking for a new token while signed out says the same in plain words.
    await page.click('#get-token');
    await page.locator('#problem', { hasText: 'You are signed out — sign in again' }).waitFor();
    expect(await textOf(page, '#problem')).toBe('You are signed out — sign in again');
  });

  it('signs out through the page’s own link', async () => {
    const page = await started(context, 'the browser').newPage();
    await page.goto(`${started(host, 'the local host').url}/`);
    await signIn(page, userName('bob'), 'member');
    await page.click('#sign-out');
    await page.locator('#session-status[data-state="out"]').waitFor();
    expect(await textOf(page, '#session-status')).toBe('Not signed in.');
    await page.click('#get-token');
    await page.locator('#problem', { hasText: 'You are signed out' }).waitFor();
    expect(await textOf(page, '#problem')).toBe('You are signed out — sign in again');
    expect(started(emulator, 'the emulator').counts().createUserAndToken).toBe(0);
  });

  it('explains a refused scope, a throttled service and an upstream failure', async () => {
    const acs = started(emulator, 'the emulator');
    const page = await started(context, 'the browser').newPage();
    await page.goto(`${started(host, 'the local host').url}/`);
    await signIn(page, userName('guest'), 'guest');
    await chooseScopes(page, ['chat']);
    await page.click('#get-token');
    await page.locator('#problem:not([hidden])').waitFor();
    expect(await textOf(page, '#problem')).toBe(
      'You may not be granted "chat"; allowed scopes: chat.join.limited, voip.join.',
    );

    await chooseScopes(page, ['voip.join']);
    acs.setFaults({ errorStatus: 503, errorRate: 1 });
    await page.click('#get-token');
    await page.locator('#problem', { hasText: 'trouble' }).waitFor();
    expect(await textOf(page, '#problem')).toBe('The token service is having trouble');

    // A 429 is waited out as Retry-After says; once ACS recovers the token arrives.
    acs.setFaults({ errorStatus: 429, errorRate: 1, retryAfterSeconds: 2 });
    await page.click('#get-token');
    await page.locator('#problem', { hasText: 'Too many requests — retrying in 2 s' }).waitFor();
    acs.setFaults({ errorRate: 0 });
    await page.locator('#identity', { hasText: /^8:acs:/ }).waitFor();
    expect(await page.locator('#problem').isVisible()).toBe(false);
    expect(await textOf(page, '#granted-scopes')).toBe('voip.join');
  });
});

describe('browser demo (key mode)', () => {
  let keyHost: LocalHostProcess | undefined;

  beforeAll(async () => {
    keyHost = await startLocalHost({
      ACS_CONNECTION_STRING: started(emulator, 'the emulator').connectionString,
    });
  });

  afterAll(async () => {
    await keyHost?.stop();
  });

  it('asks for a function key and sends it as x-functions-key', async () => {
    const page = await started(context, 'the browser').newPage();
    const sentKeys: (string | undefined)[] = [];
    page.on('request', (request) => {
      if (request.url().endsWith('/api/token')) sentKeys.push(request.headers()['x-functions-key']);
    });
    const running = started(keyHost, 'the key-mode host');
    await page.goto(`${running.url}/`);
    await page.locator('#session-status[data-state="key"]').waitFor();
    expect(await page.locator('#sign-in').isVisible()).toBe(false);
    expect(await page.locator('#function-key').isVisible()).toBe(true);

    await page.click('#get-token');
    await page.locator('#problem', { hasText: 'function key' }).waitFor();
    expect(await textOf(page, '#problem')).toBe(
      'The function key is missing or wrong — paste a valid key',
    );

    await page.fill('#function-key', running.key);
    await page.click('#get-token');
    await page.locator('#identity', { hasText: /^8:acs:/ }).waitFor();
    expect(await textOf(page, '#granted-scopes')).toBe('voip');
    expect(sentKeys).toEqual([undefined, running.key]);
  });
});
