import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { startEmulator, type RunningEmulator } from '../../dev/emulator';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { findChromium } from '../support/chromium';
import { startLocalHost, type LocalHostProcess } from '../support/localHost';

/**
 * CORS end to end in a real browser, answered by the platform's layer of the local host as the
 * Functions host answers it in Azure (docs/platform-parity.md): a page on a second origin, listed
 * in CORS_ALLOWED_ORIGINS, calls the API with the Easy Auth session cookie and gets a token; a
 * page on a third origin is refused by the browser. A duplicate Access-Control-Allow-Origin
 * (the app adding its own beside the platform's) would fail the first case.
 */
jest.setTimeout(90_000);

/** A site of its own (127.0.0.1 on its own port): an empty page to run fetch from. */
async function startSite(): Promise<{ origin: string; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>another origin</title><p>page</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

let emulator: RunningEmulator | undefined;
let azurite: TestAzurite | undefined;
let host: LocalHostProcess | undefined;
let browser: Browser | undefined;
let context: BrowserContext | undefined;
let listed: Awaited<ReturnType<typeof startSite>> | undefined;
let unlisted: Awaited<ReturnType<typeof startSite>> | undefined;
let api = '';

beforeAll(async () => {
  // Any installed Chromium or Chrome, as the README promises (CHROMIUM_PATH picks one).
  const executablePath = findChromium();
  [emulator, azurite, listed, unlisted] = await Promise.all([
    startEmulator({ port: 0 }),
    startTestAzurite(),
    startSite(),
    startSite(),
  ]);
  [host, browser] = await Promise.all([
    startLocalHost({
      ACS_CONNECTION_STRING: emulator.connectionString,
      AUTH_MODE: 'easyauth',
      IDENTITY_MAP_CONNECTION: azurite.connectionString,
      TOKEN_POLICY: JSON.stringify({ roles: { member: { scopes: ['chat', 'voip'] } } }),
      // The form the platform itself writes from siteConfig.cors.
      CORS_ALLOWED_ORIGINS: JSON.stringify([listed.origin]),
    }),
    chromium.launch({
      executablePath,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-sync'],
    }),
  ]);
  // The same host name as the pages: another origin (port), the same site, so the session
  // cookie (SameSite=Lax) goes with a credentialed fetch as App Service's would.
  api = host.url.replace('localhost', '127.0.0.1');
  context = await browser.newContext();
  context.setDefaultTimeout(15_000);
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await host?.stop();
  await Promise.all([emulator?.close(), azurite?.dispose(), listed?.close(), unlisted?.close()]);
});

/** From a page on `origin`, a credentialed JSON POST to the API (a preflight comes first). */
async function tokenFrom(
  origin: string,
): Promise<{ status?: number; body?: unknown; error?: string }> {
  const page = await context!.newPage();
  try {
    await page.goto(`${origin}/`);
    return await page.evaluate(async (url) => {
      try {
        const res = await fetch(url, {
          method: 'POST',
          credentials: 'include',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ scopes: ['chat'] }),
        });
        const body: unknown = await res.json();
        return { status: res.status, body };
      } catch (err) {
        return { error: String(err) };
      }
    }, `${api}/api/token`);
  } finally {
    await page.close();
  }
}

describe('CORS answered by the platform (browser)', () => {
  beforeAll(async () => {
    const page = await context!.newPage();
    const signIn = await page.goto(`${api}/.auth/login/dev?user=cors-${Date.now()}&roles=member`);
    expect(signIn?.status()).toBe(200);
    await page.close();
  });

  it('lets a listed origin call the API with the Easy Auth cookie', async () => {
    const answer = await tokenFrom(listed!.origin);
    expect(answer.error).toBeUndefined();
    expect(answer.status).toBe(200);
    const body = answer.body as { user?: { communicationUserId?: string } };
    expect(body.user?.communicationUserId).toMatch(/^8:acs:/);
  });

  it('refuses an origin that is not listed', async () => {
    const before = emulator!.counts().createUserAndToken + emulator!.counts().issueAccessToken;
    const answer = await tokenFrom(unlisted!.origin);
    expect(answer.status).toBeUndefined();
    expect(answer.error).toMatch(/TypeError/);
    // The preflight was refused, so the POST itself never ran.
    expect(emulator!.counts().createUserAndToken + emulator!.counts().issueAccessToken).toBe(
      before,
    );
  });
});
