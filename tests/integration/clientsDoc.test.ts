import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CLIENT_PACKAGE_DIR, docSnippet } from '../support/docSnippets';
import { jwtClaims } from '../support/http';
import { issuerOfHost, mintToken } from '../support/issuer';
import { startLocalHost, type LocalHostProcess } from '../support/localHost';

const execFileAsync = promisify(execFile);
const APP_ID = '11111111-aaaa-4bbb-8ccc-222222222222';
const USER_ID = '33333333-dddd-4eee-8fff-444444444444';

let host: LocalHostProcess;
const dir = mkdtempSync(path.join(os.tmpdir(), 'clients-doc-'));
// The snippets import the client package: installed here as a link to clients/js (as built), so
// it resolves @azure/communication-common from the repository, like any installed package.
mkdirSync(path.join(dir, 'node_modules'));
symlinkSync(CLIENT_PACKAGE_DIR, path.join(dir, 'node_modules', 'acs-token-service-client'), 'dir');

beforeAll(async () => {
  // Its own throw-away emulator: the developer's .dev/ state is not the tests' to hold.
  host = await startLocalHost({ ACS_EMULATOR_PORT: '0', ACS_EMULATOR_STATE: 'fresh' });
});
afterAll(async () => {
  await host?.stop();
});

/** Runs `exported(...args)` of a docs/clients.md snippet in Node, as a backend would. */
async function runSnippet(name: string, exported: string, args: unknown[]): Promise<unknown> {
  const file = path.join(dir, `${name}.mjs`);
  writeFileSync(file, docSnippet('docs/clients.md', name));
  const runner = `
    const m = await import(${JSON.stringify(file)});
    try {
      let value = await m[${JSON.stringify(exported)}](...${JSON.stringify(args)});
      // A credential: what the SDK would get from it, then dispose of its refresh timer.
      if (typeof value?.getToken === 'function') {
        const { token } = await value.getToken();
        value.dispose();
        value = { token };
      }
      process.stdout.write(JSON.stringify({ value }));
    } catch (err) {
      process.stdout.write(JSON.stringify({ error: err.message }));
    }`;
  const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', runner], {
    env: {
      PATH: process.env.PATH ?? '',
      TOKEN_SERVICE_URL: host.url,
      FUNCTION_KEY: host.key,
    },
  });
  return JSON.parse(stdout) as unknown;
}

type Issued = { value: { user: { communicationUserId: string }; token: string } };

describe('docs/clients.md, run as written', () => {
  it('backend with a function key: a new identity, then a renewal of the same one', async () => {
    const first = (await runSnippet('backend-key', 'acsTokenFor', [])) as Issued;
    const id = first.value.user.communicationUserId;
    expect(id).toMatch(/^8:acs:/);
    const renewed = (await runSnippet('backend-key', 'acsTokenFor', [id, ['chat']])) as Issued;
    expect(renewed.value.user.communicationUserId).toBe(id);
    expect(jwtClaims(renewed.value.token).scp).toEqual(['chat']);
  });

  it('backend acting as a user: a credential for its own identity', async () => {
    const { value } = (await runSnippet('backend-credential', 'botCredential', [])) as {
      value: { token: string };
    };
    expect(jwtClaims(value.token)).toMatchObject({ scp: ['chat'] });
    expect(jwtClaims(value.token).sub).toMatch(/^8:acs:/);
  });

  it('Teams user: the exchange, and the refusal of another user', async () => {
    const entra = await mintToken(issuerOfHost(host.output()), {
      sub: 'teams-user',
      oid: USER_ID,
      appid: APP_ID,
      aud: 'https://auth.msft.communication.azure.com',
      scp: 'Teams.ManageCalls Teams.ManageChats',
    });
    const ok = (await runSnippet('teams-exchange', 'acsTokenForTeamsUser', [
      entra,
      APP_ID,
      USER_ID,
    ])) as { value: { token: string; expiresOn: string } };
    expect(jwtClaims(ok.value.token).sub).toBe(`8:orgid:${USER_ID}`);
    expect(Date.parse(ok.value.expiresOn)).toBe((jwtClaims(entra).exp as number) * 1000);
    const refused = await runSnippet('teams-exchange', 'acsTokenForTeamsUser', [
      entra,
      APP_ID,
      APP_ID,
    ]);
    expect(refused).toEqual({ error: 'exchange refused: 400 teams_token_mismatch' });
  });
});
