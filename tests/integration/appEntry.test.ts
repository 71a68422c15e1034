import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { HttpMethod } from '@azure/functions';
import { loadConfig } from '../../src/config';
import { buildServices } from '../../src/runtime';
import { buildApp } from '../support/registrar';

const ROOT = path.join(__dirname, '..', '..');
const unusedKey = Buffer.alloc(32).toString('base64');
const KEY_MODE = {
  ACS_CONNECTION_STRING: `endpoint=https://unused.communication.azure.com/;accesskey=${unusedKey}`,
};
const JWT_MODE = {
  ...KEY_MODE,
  AUTH_MODE: 'jwt',
  OIDC_ISSUER: 'https://issuer.example/',
  OIDC_AUDIENCE: 'api://acs-token-service',
  IDENTITY_MAP_CONNECTION: 'UseDevelopmentStorage=true',
};

interface Seen {
  name: string;
  route?: string | undefined;
  methods?: readonly HttpMethod[] | string[] | undefined;
  authLevel?: string | undefined;
}

/**
 * What a host receives from the built entry (package.json `main`), loaded in a fresh process the
 * way the Node.js worker loads it: one import of the file, settings from the environment.
 */
function registeredByEntry(env: Record<string, string>): Seen[] {
  const script = `
    const { loadApp } = require(${JSON.stringify(path.join(ROOT, 'dist/dev/host/loadApp.js'))});
    const seen = loadApp(${JSON.stringify(ROOT)}).map((r) => ({
      name: r.name, route: r.trigger.route, methods: r.trigger.methods, authLevel: r.trigger.authLevel,
    }));
    process.stdout.write('\\nREGISTERED ' + JSON.stringify(seen) + '\\n');`;
  const run = spawnSync(process.execPath, ['-e', script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
  });
  const line = run.stdout.split('\n').find((l) => l.startsWith('REGISTERED '));
  if (!line) throw new Error(`the entry registered nothing:\n${run.stdout}\n${run.stderr}`);
  return JSON.parse(line.slice('REGISTERED '.length)) as Seen[];
}

function registeredInProcess(env: Record<string, string>): Seen[] {
  return buildApp(buildServices(loadConfig(env))).functions.map(({ name, options }) => ({
    name,
    route: options.route,
    methods: options.methods,
    authLevel: options.authLevel,
  }));
}

describe('the built entry point', () => {
  it.each([
    ['key', KEY_MODE, 'function'],
    ['jwt', JWT_MODE, 'anonymous'],
  ])(
    'registers every function of the app on import, in %s mode from the environment',
    (_mode, env, protectedLevel) => {
      const seen = registeredByEntry(env);
      expect(seen).toEqual(registeredInProcess(env));
      expect(seen.find((f) => f.name === 'token')?.authLevel).toBe(protectedLevel);
      expect(seen.find((f) => f.name === 'health')?.authLevel).toBe('anonymous');
    },
  );
});
