import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { call } from '../support/http';
import { listening, startDevStack, type DevStack } from '../support/devStack';
import { eventually, pollUntil } from '../support/poll';
import { devLogin } from '../support/easyAuthSession';

/**
 * `npm start` in easyauth mode, with its own emulator and Azurite, stopped the ways a developer
 * stops it, at once after a write, then started again on the same local state.
 */
const SETTINGS = { AUTH_MODE: 'easyauth', FUNCTIONS_DEV_KEY: 'restart-test-key-0123456789' };

let stateDir: string;
let running: DevStack | undefined;

beforeEach(() => {
  stateDir = mkdtempSync(path.join(os.tmpdir(), 'acs-local-state-'));
});

afterEach(async () => {
  if (running) {
    try {
      process.kill(-running.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    await running.exited;
    running = undefined;
  }
  rmSync(stateDir, { recursive: true, force: true });
});

const login = (stack: DevStack, user: string) => devLogin(stack.url, user);

function tokenAnswer(stack: DevStack, cookie: string) {
  return call(`${stack.url}/api/token`, {
    method: 'POST',
    headers: { cookie },
    json: { scopes: ['voip'] },
  });
}

async function tokenFor(stack: DevStack, cookie: string): Promise<string> {
  const answer = await tokenAnswer(stack, cookie);
  expect(answer.status).toBe(200);
  return (answer.json as { user: { communicationUserId: string } }).user.communicationUserId;
}

async function emulatorCalls(stack: DevStack): Promise<Record<string, number>> {
  const url = stack.banner(/ACS: emulator at (http:\/\/\S+)/);
  const stats = (await (await fetch(`${url}/admin/stats`)).json()) as {
    calls: Record<string, number>;
  };
  return stats.calls;
}

describe('npm start keeps what it answered across a stop and a start', () => {
  it.each([
    ['Ctrl-C (SIGINT to the process group)', 'SIGINT', 'group'],
    ['SIGTERM to the process group', 'SIGTERM', 'group'],
    ['SIGTERM to the parent alone', 'SIGTERM', 'parent'],
  ] as const)('%s', async (_label, signal, target) => {
    const first = await startDevStack(stateDir, SETTINGS);
    running = first;
    const cookie = await login(first, 'restart-user');
    const id = await tokenFor(first, cookie);
    const azuritePort = Number(first.banner(/Azurite on 127\.0\.0\.1:(\d+)/));

    // At once after the 2xx: well inside Azurite's 5 s autosave interval.
    process.kill(target === 'group' ? -first.pid : first.pid, signal);
    expect(await first.exited).toEqual({ code: 0, signal: null });
    running = undefined;
    // Its children were stopped with it, not left behind.
    expect(await listening(azuritePort)).toBe(false);

    const second = await startDevStack(stateDir, SETTINGS);
    running = second;
    const me = await call(`${second.url}/api/user`, { headers: { cookie } });
    expect([me.status, me.json]).toEqual([200, { communicationUserId: id }]);
    // The emulator kept the identity: the same one serves, nothing is created or healed.
    expect(await tokenFor(second, cookie)).toBe(id);
    const calls = await emulatorCalls(second);
    expect([calls.createUserAndToken, calls.issueAccessToken]).toEqual([0, 1]);
    expect(second.output()).not.toMatch(/identity_gone/);
  });

  it('leaves nothing running when the parent is killed outright, and still loses nothing', async () => {
    const first = await startDevStack(stateDir, SETTINGS);
    running = first;
    const cookie = await login(first, 'killed-user');
    const id = await tokenFor(first, cookie);
    const azuritePort = Number(first.banner(/Azurite on 127\.0\.0\.1:(\d+)/));

    process.kill(first.pid, 'SIGKILL');
    await first.exited;
    running = undefined;
    // Azurite notices its parent is gone, saves and ends by itself.
    await eventually(
      'Azurite to end by itself',
      async () => !(await listening(azuritePort)),
      20_000,
      100,
    );

    const second = await startDevStack(stateDir, SETTINGS);
    running = second;
    // Right after a crash the restarted stack may answer a transient 503 (with Retry-After), as a
    // client would see it; retried within a bound, the token must be the same identity's.
    const answer = await pollUntil(
      () => tokenAnswer(second, cookie),
      (a) => a.status !== 503,
      20_000,
      250,
    );
    expect(answer.status).toBe(200);
    expect(
      (answer.json as { user: { communicationUserId: string } }).user.communicationUserId,
    ).toBe(id);
  });
});
