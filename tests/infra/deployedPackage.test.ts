/**
 * The artifact azd ships, run with exactly the app settings infra/ writes, read from the
 * compiled template (what `bicep snapshot` predicts the ARM engine deploys), not retyped: no
 * connection string, endpoints only. The platform's part is played locally: App Service's token
 * service (IDENTITY_ENDPOINT, IDENTITY_HEADER), Entra ID's keys, the ACS resource (the emulator
 * over HTTPS, the app's identity holding Contributor on it) and the storage account's tables
 * (Azurite over HTTPS with --oauth basic), trusted through NODE_EXTRA_CA_CERTS.
 *
 * It lives in `npm run test:infra` because only that suite compiles the template (with the
 * pinned Bicep CLI restored from NuGet, tests/infra/globalSetup.ts); CI runs it after `npm test`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildPackage, unpackZip } from '../../dev/package/artifact';
import { mintToken, spawnIssuer, spawnReady, type IssuerProcess } from '../support/issuer';
import { startLocalHost, type LocalHostProcess } from '../support/localHost';
import { walkThroughManagedIdentity } from '../support/managedIdentityWalk';
import { isExpression, only, snapshot, type Snapshot } from './compiled';

const projectRoot = path.resolve(__dirname, '..', '..');
/**
 * A deployable parameter set that keeps an identity map, so every path is walked: jwt mode with
 * Microsoft Entra ID (easyauth mode is refused on Flex Consumption, docs/platform-parity.md).
 */
const SET = 'jwt-entra';

interface StackFacts {
  acsEndpoint: string;
  emulatorUrl: string;
  tableEndpoint: string;
  caFile: string;
  systemAssigned: { principalId: string };
  platformEnv: Record<string, string>;
}

let work: string;
let appDir: string;
let stackProcess: IssuerProcess;
/** Plays the deployed OIDC_ISSUER (Entra ID's v2.0 issuer), which this machine cannot reach. */
let entra: IssuerProcess;
let stack: StackFacts;
let deployed: Record<string, string>;
let host: LocalHostProcess;

/** The app settings the template writes for `set`, as the engine predicts them. */
function appSettingsOf(d: Snapshot): Record<string, string> {
  const properties = only(d, 'Microsoft.Web/sites/config', 'appsettings').properties;
  if (typeof properties !== 'object' || properties === null) throw new Error('no app settings');
  return properties as Record<string, string>;
}

/**
 * Each value ARM learns only while deploying, replaced by the local service that plays that
 * resource. An expression this does not know fails the test: a new deploy-time setting must be
 * given its local counterpart here, not skipped.
 */
function resolved(settings: Record<string, string>, d: Snapshot): Record<string, string> {
  const acs = only(d, 'Microsoft.Communication/communicationServices');
  const storage = only(d, 'Microsoft.Storage/storageAccounts');
  const insights = only(d, 'Microsoft.Insights/components');
  const local = new Map([
    [
      `[format('https://{0}', reference('${acs.id}', '${acs.apiVersion}').hostName)]`,
      stack.acsEndpoint,
    ],
    [
      `[reference('${storage.id}', '${storage.apiVersion}').primaryEndpoints.table]`,
      stack.tableEndpoint,
    ],
    // Read by the Functions host, not by the app; the local host sends no telemetry.
    [
      `[reference('${insights.id}', '${insights.apiVersion}').ConnectionString]`,
      'InstrumentationKey=00000000-0000-0000-0000-000000000000',
    ],
    ["[parameters('easyAuthClientSecret')]", 'stand-in secret'],
  ]);
  return Object.fromEntries(
    Object.entries(settings).map(([name, value]) => {
      // The identity provider is the platform's part too: the deployed issuer, played locally.
      if (name === 'OIDC_ISSUER') return [name, entra.url];
      if (!isExpression(value)) return [name, value];
      const here = local.get(value);
      if (here === undefined) throw new Error(`${name}: no local counterpart for ${value}`);
      return [name, here];
    }),
  );
}

beforeAll(async () => {
  // A standalone `npm run test:infra` on a fresh clone has nothing built yet.
  if (!existsSync(path.join(projectRoot, 'dist', 'dev', 'identity', 'main.js'))) {
    const build = spawnSync('npm', ['run', 'build'], { cwd: projectRoot, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stderr}`);
  }
  work = mkdtempSync(path.join(os.tmpdir(), 'acs-deployed-'));
  appDir = path.join(work, 'wwwroot');
  const built = buildPackage(projectRoot, path.join(work, 'stage'), path.join(work, 'package.zip'));
  unpackZip(built.zipFile, appDir);
  stackProcess = await spawnReady('identity/main.js', {}, /MI stack ready (\{.*\})\n/);
  stack = JSON.parse(stackProcess.url) as StackFacts;
  entra = await spawnIssuer();
  const d = snapshot(SET);
  deployed = resolved(appSettingsOf(d), d);
  host = await startLocalHost({
    ...deployed,
    // What the platform adds beside the app settings: the token service and (here only) the
    // trust of the local certificate authority; WEBSITE_AUTH_ENABLED comes from authsettingsV2.
    ...stack.platformEnv,
    AzureWebJobsScriptRoot: appDir,
  });
}, 240_000);

afterAll(async () => {
  await host?.stop();
  await stackProcess?.stop();
  await entra?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe(`the unpacked package with the ${SET} set's app settings, through managed identity`, () => {
  it('is given endpoints only: no connection string, no key', () => {
    expect(deployed).toMatchObject({
      AUTH_MODE: 'jwt',
      ACS_ENDPOINT: stack.acsEndpoint,
      IDENTITY_MAP_ENDPOINT: stack.tableEndpoint,
    });
    // (APPLICATIONINSIGHTS_CONNECTION_STRING is the host's telemetry target; it holds no key.)
    for (const name of [
      'ACS_CONNECTION_STRING',
      'IDENTITY_MAP_CONNECTION',
      'AzureWebJobsStorage',
    ]) {
      expect(deployed).not.toHaveProperty(name);
    }
    expect(Object.values(deployed).join('\n')).not.toMatch(/accesskey=|accountkey=/i);
    expect(host.output()).toMatch(/"event":"startup","authMode":"jwt","acsAuth":"managedIdentity"/);
  });

  it('gets a token, keeps the mapping, revokes and deletes; without its role, 503 naming it', async () => {
    // A caller the deployed TOKEN_POLICY serves: its first role, and that role's first scope.
    const policy = JSON.parse(deployed.TOKEN_POLICY ?? '{"roles":{}}') as {
      roles: Record<string, { scopes: string[] }>;
    };
    const [role, rule] = Object.entries(policy.roles)[0] ?? ['member', { scopes: ['voip'] }];
    await walkThroughManagedIdentity(
      host,
      {
        emulatorUrl: stack.emulatorUrl,
        principalId: stack.systemAssigned.principalId,
        ca: readFileSync(stack.caFile, 'utf8'),
      },
      { role, scope: rule.scopes[0] ?? 'voip' },
      // A bearer token for the deployed audience, carrying the role in the default roles claim.
      async (user, asRole) => ({
        authorization: `Bearer ${await mintToken(entra.url, {
          sub: user,
          aud: deployed.OIDC_AUDIENCE,
          roles: [asRole],
        })}`,
      }),
    );
  }, 60_000);
});
