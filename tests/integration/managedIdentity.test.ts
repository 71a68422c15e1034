/**
 * `ACS_AUTH=managedIdentity npm start`: the app as Azure runs it, on this machine. It gets
 * ACS_ENDPOINT and IDENTITY_MAP_ENDPOINT only, signs in through the local managed-identity
 * endpoint, and reaches the emulator and Azurite over HTTPS with bearer tokens.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLocalHost, type LocalHostProcess } from '../support/localHost';
import { walkThroughManagedIdentity } from '../support/managedIdentityWalk';

let stateDir: string;
let host: LocalHostProcess;

beforeAll(async () => {
  stateDir = mkdtempSync(path.join(os.tmpdir(), 'acs-mi-start-'));
  host = await startLocalHost({
    ACS_AUTH: 'managedIdentity',
    AUTH_MODE: 'easyauth',
    LOCAL_STATE_DIR: stateDir,
    ACS_EMULATOR_PORT: '0',
    AZURITE_TABLE_PORT: '0',
  });
}, 60_000);

afterAll(async () => {
  await host?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe('ACS_AUTH=managedIdentity npm start', () => {
  it('starts the app with endpoints only and says so in its start-up record', () => {
    const output = host.output();
    expect(output).toMatch(/"event":"startup","authMode":"easyauth","acsAuth":"managedIdentity"/);
    expect(output).toMatch(
      /ACS auth: managed identity, token service at http:\/\/127\.0\.0\.1:\d+\/msi\/token/,
    );
    expect(output).toMatch(/Identity map: Azurite on 127\.0\.0\.1:\d+ \(HTTPS, OAuth\)/);
  });

  it('serves, keeps, revokes and deletes through managed identity, and names the role when it is gone', async () => {
    const emulatorUrl = /\((https:\/\/127\.0\.0\.1:\d+)\/admin\/roles\)/.exec(host.output())?.[1];
    const principalId = /principal ([0-9a-f-]{36}) holds Contributor/.exec(host.output())?.[1];
    expect(emulatorUrl).toBeDefined();
    await walkThroughManagedIdentity(host, {
      emulatorUrl: emulatorUrl ?? '',
      principalId: principalId ?? '',
      ca: readFileSync(path.join(stateDir, 'tls', 'ca.pem'), 'utf8'),
    });
  }, 60_000);
});
