import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmulator } from '../../dev/emulator';
import { corsPolicyFrom } from '../../dev/host/cors';
import { applyLocalSettings, loopbackEmulator } from '../../dev/host/localSettings';
import { loadConfig } from '../../src/config';

const SAMPLE = path.resolve(__dirname, '..', '..', 'local.settings.sample.json');

/** The sample copied to a project's local.settings.json, read as Core Tools and npm start read it. */
function sampleEnv(): NodeJS.ProcessEnv {
  const root = mkdtempSync(path.join(os.tmpdir(), 'settings-'));
  writeFileSync(path.join(root, 'local.settings.json'), readFileSync(SAMPLE));
  const env: NodeJS.ProcessEnv = {};
  applyLocalSettings(root, env);
  return env;
}

describe('local.settings.sample.json (docs/local-development.md: func start)', () => {
  it('points at the emulator `npm run emulator` starts, with a key it accepts', async () => {
    const env = sampleEnv();
    const expected = loopbackEmulator(env.ACS_CONNECTION_STRING);
    expect(expected?.port).toBe(7090); // the emulator's default port
    // The emulator takes the key; the app's settings parse as they are.
    const emulator = await startEmulator({ port: 0, accessKey: expected!.accessKey });
    await emulator.close();
    expect(() => loadConfig(env)).not.toThrow();
  });

  it('has Core Tools answer CORS for another origin, from the same field the local host reads', () => {
    const sample = JSON.parse(readFileSync(SAMPLE, 'utf8')) as {
      Values: Record<string, string>;
      Host: { LocalHttpPort: number; CORS: string; CORSCredentials?: boolean };
    };
    // One place: Host.CORS, not a second copy in Values that could disagree.
    expect(sample.Values.CORS_ALLOWED_ORIGINS).toBeUndefined();
    const policy = corsPolicyFrom(sampleEnv(), false);
    expect(policy.origins).not.toHaveLength(0);
    // The API's own origin needs no CORS; listing only it would allow no other page.
    expect(policy.origins).not.toEqual([`http://localhost:${sample.Host.LocalHttpPort}`]);
    expect(policy.supportCredentials).toBe(sample.Host.CORSCredentials === true);
  });
});
