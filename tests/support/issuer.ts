import { spawn } from 'node:child_process';
import path from 'node:path';
import { call } from './http';

const MAIN = path.resolve(__dirname, '..', '..', 'dist', 'dev', 'issuer', 'main.js');

export interface IssuerProcess {
  url: string;
  stop(): Promise<void>;
}

/**
 * The built local issuer (`node dist/dev/issuer/main.js`) on a free loopback port. It runs in its
 * own process because jose is ESM-only and Jest here loads CommonJS.
 */
export async function spawnIssuer(): Promise<IssuerProcess> {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', ISSUER_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`issuer did not start:\n${output}`));
    }, 15_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = /Issuer ready at (\S+)/.exec(output);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`issuer exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The issuer a spawned local host started, from its banner. */
export function issuerOfHost(output: string): string {
  const m = /Issuer: local OpenID Connect issuer at (\S+)/.exec(output);
  if (!m?.[1]) throw new Error('the host banner names no local issuer');
  return m[1];
}

/** `POST /dev/token` with these claims; returns the access token. */
export async function mintToken(issuer: string, claims: Record<string, unknown>): Promise<string> {
  const res = await call(`${issuer}/dev/token`, { method: 'POST', json: claims });
  const token = (res.json as { access_token?: unknown } | undefined)?.access_token;
  if (res.status !== 200 || typeof token !== 'string') {
    throw new Error(`mint failed: ${res.status} ${res.text}`);
  }
  return token;
}

export async function rolloverKeys(issuer: string, retire = false): Promise<string> {
  const res = await call(`${issuer}/admin/rollover`, { method: 'POST', json: { retire } });
  return (res.json as { kid: string }).kid;
}

export async function issuerStats(
  issuer: string,
): Promise<{ discovery: number; jwks: number; tokens: number }> {
  return (await call(`${issuer}/admin/stats`)).json as {
    discovery: number;
    jwks: number;
    tokens: number;
  };
}
