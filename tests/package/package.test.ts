/**
 * The deployment package, tested as Azure gets it: `buildPackage` stages and zips exactly what
 * `npm run package` (azure.yaml's prepackage hook) hands to azd, the zip is unpacked into an
 * empty folder under the system temp dir (no node_modules of the repo above it), and the app is
 * loaded and served from there.
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ignore from 'ignore';
import { startEmulator, type RunningEmulator } from '../../dev/emulator';
import { buildPackage, unpackZip, type BuiltPackage } from '../../dev/package/artifact';
import { externalImports, PLATFORM_MODULES, SHIPPED_EXTERNALS } from '../../dev/package/bundle';
import { healthOnceReady } from '../support/health';
import { call } from '../support/http';
import { startLocalHost } from '../support/localHost';

const projectRoot = path.resolve(__dirname, '..', '..');

let work: string;
let stageDir: string;
let appDir: string;
let built: BuiltPackage;
let names: string[];
let emulator: RunningEmulator;

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'acs-package-'));
  stageDir = path.join(work, 'stage');
  appDir = path.join(work, 'wwwroot');
  built = buildPackage(projectRoot, stageDir, path.join(work, 'package.zip'));
  names = unpackZip(built.zipFile, appDir);
  emulator = await startEmulator({ port: 0 });
}, 180_000);

afterAll(async () => {
  await emulator?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Every file under a folder, as package names (forward slashes), symbolic links followed. */
function filesUnder(dir: string, prefix: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const full = path.join(dir, name);
      return statSync(full).isDirectory()
        ? filesUnder(full, `${prefix}/${name}`)
        : [`${prefix}/${name}`];
    })
    .sort();
}

describe('the deployment package', () => {
  it('holds the app and every file of its production node_modules, and nothing else', () => {
    expect(names).toEqual(
      expect.arrayContaining(['dist/app/index.js', 'host.json', 'package.json']),
    );
    // .funcignore is applied with gitignore semantics: an unanchored pattern would drop files
    // deep inside node_modules (debug/src, ecdsa-sig-formatter/src) that the SDKs require.
    const installed = filesUnder(path.join(stageDir, 'node_modules'), 'node_modules');
    expect(names.filter((n) => n.startsWith('node_modules/')).sort()).toEqual(installed);
    expect(names.filter((n) => /^(src|dev|tests|bench|infra|examples)\//.test(n))).toEqual([]);
    expect(names).not.toContain('.funcignore');
    const dev = Object.keys(
      (
        JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as {
          devDependencies: Record<string, string>;
        }
      ).devDependencies,
    );
    expect(dev.filter((d) => names.includes(`node_modules/${d}/package.json`))).toEqual([]);
    // Budget, stated in docs/deploy.md: the package stays small.
    expect(built.zipBytes).toBeLessThan(15 * 1024 * 1024);
  });

  it('keeps node_modules, as azd requires with remoteBuild: false', () => {
    // azd refuses `remoteBuild: false` when .funcignore excludes node_modules (Azure/azure-dev,
    // cli/azd/pkg/project/service_target_functionapp.go, resolveFunctionAppRemoteBuild).
    const rules = ignore().add(readFileSync(path.join(projectRoot, '.funcignore'), 'utf8'));
    expect(rules.ignores('node_modules/')).toBe(false);
    expect(readFileSync(path.join(projectRoot, 'azure.yaml'), 'utf8')).toMatch(
      /^\s+remoteBuild: false$/m,
    );
  });

  it('loads every module the bundle leaves external from the package alone', () => {
    // What esbuild really left out is what bundle.ts says it leaves out.
    expect(externalImports(projectRoot)).toEqual(
      [...PLATFORM_MODULES, ...SHIPPED_EXTERNALS].sort(),
    );
    const script = `
      const { createRequire } = require('node:module');
      const path = require('node:path');
      const [appDir, ...names] = JSON.parse(process.argv[1]);
      const load = createRequire(path.join(appDir, 'dist', 'app', 'index.js'));
      const resolved = {};
      for (const name of names) { resolved[name] = load.resolve(name); load(name); }
      // The managed-identity path infra configures: built without any network call.
      const identity = load('@azure/identity');
      new identity.ManagedIdentityCredential({ clientId: '00000000-0000-0000-0000-000000000000' });
      new identity.DefaultAzureCredential();
      const outside = Object.keys(require.cache).filter((f) => !f.startsWith(appDir + path.sep));
      console.log(JSON.stringify({ resolved, outside }));
    `;
    const run = spawnSync(
      process.execPath,
      ['-e', script, JSON.stringify([appDir, ...SHIPPED_EXTERNALS])],
      { cwd: appDir, env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8' },
    );
    expect(run.stderr).toBe('');
    const result = JSON.parse(run.stdout) as {
      resolved: Record<string, string>;
      outside: string[];
    };
    for (const name of SHIPPED_EXTERNALS) {
      expect(result.resolved[name]?.startsWith(appDir + path.sep)).toBe(true);
    }
    expect(result.outside).toEqual([]);
  });

  it('serves a token through the local host, loaded from the unpacked package', async () => {
    const host = await startLocalHost({
      AzureWebJobsScriptRoot: appDir,
      ACS_CONNECTION_STRING: emulator.connectionString,
    });
    try {
      const answer = await call(`${host.url}/api/token`, {
        method: 'POST',
        headers: { 'x-functions-key': host.key },
        json: { scopes: ['voip'] },
      });
      expect(answer.status).toBe(200);
      expect((answer.json as { token: string }).token).toMatch(/^eyJ/);
    } finally {
      await host.stop();
    }
  });

  it('managed identity: ready from the package, and not ready when the credential cannot load', async () => {
    const ready = await startLocalHost({
      AzureWebJobsScriptRoot: appDir,
      ACS_ENDPOINT: emulator.url,
    });
    try {
      const health = await healthOnceReady(ready.url);
      expect({ status: health.status, body: health.json }).toMatchObject({
        status: 200,
        body: { status: 'ready', checks: { acsClient: true } },
      });
    } finally {
      await ready.stop();
    }

    // What the old .funcignore (an unanchored `src`) did to the package.
    const broken = path.join(work, 'broken');
    cpSync(appDir, broken, { recursive: true });
    rmSync(path.join(broken, 'node_modules', 'debug', 'src'), { recursive: true });
    expect(existsSync(path.join(broken, 'node_modules', '@azure', 'identity'))).toBe(true);
    const host = await startLocalHost({
      AzureWebJobsScriptRoot: broken,
      ACS_ENDPOINT: emulator.url,
    });
    try {
      const health = await call(`${host.url}/api/health`);
      expect(health.status).toBe(503);
      expect(health.json).toMatchObject({ status: 'degraded', checks: { acsClient: false } });
      const token = await call(`${host.url}/api/token`, {
        method: 'POST',
        headers: { 'x-functions-key': host.key },
        json: { scopes: ['voip'] },
      });
      expect(token.status).toBe(503);
      expect(host.output()).toMatch(/"event":"not_ready".*"check":"acsClient".*"MODULE_NOT_FOUND"/);
    } finally {
      await host.stop();
    }
  }, 90_000);
});
