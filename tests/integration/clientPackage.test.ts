import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { jwtClaims } from '../support/http';
import { startLocalHost, type LocalHostProcess } from '../support/localHost';

/**
 * The package as users get it: `npm pack` of clients/js (already built by `npm run build`),
 * installed from the tarball into an empty project next to @azure/communication-common,
 * type-checked as a Node ESM consumer would (`moduleResolution: nodenext`), bundled with esbuild,
 * and run against a key-mode local host, sending the function key through `getHeaders`.
 */

const run = promisify(execFile);
const projectRoot = path.resolve(__dirname, '..', '..');
const clientDir = path.join(projectRoot, 'clients', 'js');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

jest.setTimeout(240_000);

let host: LocalHostProcess | undefined;
const dir = mkdtempSync(path.join(os.tmpdir(), 'client-package-'));

beforeAll(async () => {
  host = await startLocalHost({ ACS_EMULATOR_PORT: '0', ACS_EMULATOR_STATE: 'fresh' });
});

afterAll(async () => {
  await host?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const CONSUMER = `
import { createTokenCredential, fetchToken, isTokenServiceError } from 'acs-token-service-client';

const url: string = process.env.TOKEN_SERVICE_URL ?? '';
const getHeaders = () => ({ 'x-functions-key': process.env.FUNCTION_KEY ?? '' });

const credential = await createTokenCredential({
  url,
  scopes: ['chat', 'voip'],
  getHeaders,
  keepIdentity: true,
  refreshProactively: false,
});
const { token, expiresOnTimestamp } = await credential.getToken();
credential.dispose();

const renewed = await fetchToken({ url, getHeaders, scopes: ['voip'] });
let refusal = '';
try {
  await fetchToken({ url, getHeaders: () => ({ 'x-functions-key': 'wrong' }) });
} catch (err) {
  if (isTokenServiceError(err, 'unauthenticated')) refusal = err.code + ' ' + err.status;
}
process.stdout.write(JSON.stringify({ token, expiresOnTimestamp, renewed: renewed.user, refusal }));
`;

describe('acs-token-service-client, packed and installed', () => {
  it('installs from its tarball, type-checks, bundles and gets a token in key mode', async () => {
    // --ignore-scripts: npm run build already built dist/; a rebuild here would race the
    // browser tests that bundle it at the same time.
    const packed = await run(
      npm,
      ['pack', '--json', '--ignore-scripts', '--pack-destination', dir],
      { cwd: clientDir },
    );
    const [manifest] = JSON.parse(packed.stdout) as {
      filename: string;
      files: { path: string }[];
    }[];
    if (!manifest) throw new Error(`npm pack printed no manifest: ${packed.stdout}`);
    const files = manifest.files.map((f) => f.path).sort();
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/index.js']));
    expect(files).toContain('dist/index.d.ts');
    // Only what consumers need: no sources, no build script, no tsconfig.
    expect(
      files.filter((f) => !f.startsWith('dist/') && f !== 'package.json' && f !== 'README.md'),
    ).toEqual([]);

    // The versions the root already has, so --prefer-offline finds them in the npm cache.
    const versionOf = (name: string) =>
      (
        JSON.parse(
          readFileSync(path.join(projectRoot, 'node_modules', name, 'package.json'), 'utf8'),
        ) as { version: string }
      ).version;
    writeFileSync(
      path.join(dir, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
    );
    await run(
      npm,
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--no-package-lock',
        path.join(dir, manifest.filename),
        `@azure/communication-common@${versionOf('@azure/communication-common')}`,
        // The SDK's own declarations name Node's types; a Node consumer has them.
        `@types/node@${versionOf('@types/node')}`,
      ],
      { cwd: dir },
    );

    writeFileSync(path.join(dir, 'app.ts'), CONSUMER);
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          lib: ['es2022', 'dom'],
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
        },
        files: ['app.ts'],
      }),
    );
    const tsc = path.join(projectRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(process.execPath, [tsc, '-p', dir]).catch((err: Error & { stdout?: string }) => {
      throw new Error(`the consumer does not type-check:\n${err.stdout ?? err.message}`);
    });

    const { build } = await import('esbuild');
    await build({
      absWorkingDir: dir,
      entryPoints: ['app.ts'],
      outfile: path.join(dir, 'app.bundle.mjs'),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      // The SDK's CommonJS dependencies require Node built-ins; an ESM bundle needs a require.
      banner: {
        js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
      logLevel: 'silent',
    });

    const running = host as LocalHostProcess;
    const { stdout } = await run(process.execPath, [path.join(dir, 'app.bundle.mjs')], {
      env: {
        PATH: process.env.PATH ?? '',
        TOKEN_SERVICE_URL: running.url,
        FUNCTION_KEY: running.key,
      },
    });
    const out = JSON.parse(stdout) as {
      token: string;
      expiresOnTimestamp: number;
      renewed: { communicationUserId: string };
      refusal: string;
    };
    const claims = jwtClaims(out.token);
    expect(claims.sub).toMatch(/^8:acs:/);
    expect(claims.scp).toEqual(['chat', 'voip']);
    expect(out.expiresOnTimestamp).toBe((claims.exp as number) * 1000);
    expect(out.renewed.communicationUserId).toMatch(/^8:acs:/);
    expect(out.refusal).toBe('unauthenticated 401');
  });
});
