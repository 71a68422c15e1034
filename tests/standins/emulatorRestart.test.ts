import { CommunicationIdentityClient } from '@azure/communication-identity';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../dev/azurite';
import { startEmulator, type RunningEmulator } from '../../dev/emulator';
import { startDevStackExpectingFailure } from '../support/devStack';

const execFileAsync = promisify(execFile);
const MAIN = path.resolve(__dirname, '..', '..', 'dist', 'dev', 'emulator', 'main.js');

let dir: string;
let stateFile: string;
const open: RunningEmulator[] = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'acs-emulator-state-'));
  stateFile = path.join(dir, 'emulator', 'state.json');
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function start(options: Parameters<typeof startEmulator>[0]): Promise<RunningEmulator> {
  const emulator = await startEmulator(options);
  open.push(emulator);
  return emulator;
}

function sdk(emulator: RunningEmulator): CommunicationIdentityClient {
  return new CommunicationIdentityClient(emulator.connectionString, {
    allowInsecureConnection: true,
    retryOptions: { maxRetries: 0 },
  });
}

async function introspect(emulator: RunningEmulator, token: string): Promise<unknown> {
  const answer = await fetch(`${emulator.url}/admin/introspect`, {
    method: 'POST',
    body: JSON.stringify({ token }),
  });
  return ((await answer.json()) as { active: boolean; reason?: string }).reason ?? 'active';
}

/** Closes an emulator and starts it again on the same port and state, as a restart does. */
async function restart(emulator: RunningEmulator): Promise<RunningEmulator> {
  await emulator.close();
  open.splice(open.indexOf(emulator), 1);
  return start({ port: Number(new URL(emulator.url).port), stateFile });
}

describe('ACS emulator state across restarts', () => {
  it('keeps its resource, identities and revocations', async () => {
    const first = await start({ port: 0, stateFile });
    const client = sdk(first);
    const revoked = await client.createUserAndToken(['chat']);
    await client.revokeTokens(revoked.user);
    const deleted = await client.createUser();
    await client.deleteUser(deleted);
    const active = await client.createUserAndToken(['voip']);
    const before = first.identities();

    const second = await restart(first);
    expect([second.accessKey, second.resourceId]).toEqual([first.accessKey, first.resourceId]);
    expect(second.identities()).toEqual(before);
    // Tokens issued before the restart are judged as before: the signing key was kept too.
    expect(await introspect(second, revoked.token)).toBe('revoked');
    expect(await introspect(second, active.token)).toBe('active');
    const again = sdk(second);
    await expect(again.getToken(revoked.user, ['chat'])).resolves.toHaveProperty('token');
    await expect(again.getToken(deleted, ['chat'])).rejects.toMatchObject({
      statusCode: 404,
      code: 'IdentityNotFound',
    });
  });

  it('refuses a corrupt or half-written state file, naming it and the reset command', async () => {
    await (await start({ port: 0, stateFile })).close();
    open.length = 0;
    const whole = readFileSync(stateFile, 'utf8');
    for (const damaged of [whole.slice(0, whole.length / 2), '{"format":"acs-emulator-state"}']) {
      writeFileSync(stateFile, damaged);
      await expect(startEmulator({ stateFile })).rejects.toThrow(
        new RegExp(`^The ACS emulator's state file ${escape(stateFile)} .*\`npm run reset\``),
      );
      // Never reset behind the developer's back.
      expect(readFileSync(stateFile, 'utf8')).toBe(damaged);
    }
  });

  it('refuses a state file that belongs to another access key', async () => {
    await (await start({ port: 0, stateFile })).close();
    open.length = 0;
    await expect(
      startEmulator({ stateFile, accessKey: Buffer.alloc(32, 3).toString('base64') }),
    ).rejects.toThrow('belongs to a resource with another access key');
  });

  it('says so at start-up of npm run emulator and npm start, without a stack trace', async () => {
    mkdirSync(path.dirname(stateFile), { recursive: true });
    writeFileSync(stateFile, '{"format":"acs-emulator-state","version":1,"resou');
    const emulator = await execFileAsync(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? '', ACS_EMULATOR_PORT: '1', LOCAL_STATE_DIR: dir },
    }).catch((err: { code: number; stderr: string }) => err);
    const host = await startDevStackExpectingFailure(dir, { FUNCTIONS_DEV_KEY: 'k'.repeat(20) });
    for (const [code, output] of [
      [(emulator as { code: number }).code, (emulator as { stderr: string }).stderr],
      [host.code, host.output],
    ] as const) {
      expect(code).toBe(1);
      expect(output).toContain(`The ACS emulator's state file ${stateFile} is not valid JSON`);
      expect(output).toContain('`npm run reset`');
      expect(output).not.toMatch(/\n\s+at /);
    }
  });

  it('npm run emulator keeps its state by default, and none with ACS_EMULATOR_STATE=fresh', async () => {
    const kept = path.join(dir, 'kept');
    const fresh = path.join(dir, 'fresh');
    await runUntilListening({ LOCAL_STATE_DIR: kept });
    await runUntilListening({ LOCAL_STATE_DIR: fresh, ACS_EMULATOR_STATE: 'fresh' });
    expect(existsSync(path.join(kept, 'emulator', 'state.json'))).toBe(true);
    expect(existsSync(fresh)).toBe(false);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Starts `node dist/dev/emulator/main.js` on a free port, waits until it listens, stops it. */
async function runUntilListening(env: Record<string, string>): Promise<void> {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', ACS_EMULATOR_PORT: String(await freePort()), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (output.includes('emulator listening on')) resolve();
    });
    void exited.then(() => reject(new Error(`the emulator exited:\n${output}`)));
  });
  child.kill('SIGTERM');
  await exited;
}

describe('npm run reset', () => {
  const RESET = path.resolve(__dirname, '..', '..', 'dist', 'dev', 'reset.js');
  const reset = () =>
    execFileAsync(process.execPath, [RESET], {
      env: { PATH: process.env.PATH ?? '', LOCAL_STATE_DIR: dir },
    }).catch((err: { code: number; stderr: string }) => err);

  it('clears the emulator and Azurite data, keeps the host keys, refuses while in use', async () => {
    mkdirSync(path.join(dir, 'azurite'), { recursive: true });
    writeFileSync(path.join(dir, 'azurite', '__azurite_db_table__.json'), '{}');
    writeFileSync(path.join(dir, 'host-keys.json'), '{}');
    const emulator = await start({ port: 0, stateFile });

    const refused = (await reset()) as { code: number; stderr: string };
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`process ${process.pid}`);
    expect(existsSync(stateFile)).toBe(true);

    await emulator.close();
    open.length = 0;
    await reset();
    expect(existsSync(path.join(dir, 'emulator'))).toBe(false);
    expect(existsSync(path.join(dir, 'azurite'))).toBe(false);
    expect(existsSync(path.join(dir, 'host-keys.json'))).toBe(true);
    // A fresh start after a reset: same key, same resource id, no identities.
    const again = await start({ port: 0, stateFile, accessKey: emulator.accessKey });
    expect(again.resourceId).toBe(emulator.resourceId);
    expect(again.identities()).toEqual([]);
  });

  it('a second emulator on the same state is refused while the first runs', async () => {
    const first = await start({ port: 0, stateFile });
    await expect(startEmulator({ port: 0, stateFile })).rejects.toThrow(
      `is in use by process ${process.pid}`,
    );
    await first.close();
    open.length = 0;
    await expect(start({ port: 0, stateFile })).resolves.toHaveProperty('url');
  });
});
