import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { spawnReady } from '../../dev/spawnReady';
import { call } from './http';

const execFileAsync = promisify(execFile);
const DIST_DEV = path.resolve(__dirname, '..', '..', 'dist', 'dev');

export interface IssuerProcess {
  url: string;
  stop(): Promise<void>;
}

/** A built dev/ script running as a child process, ready once it printed what `ready` matches. */
export async function spawnDevScript(
  script: string,
  env: Record<string, string>,
  ready: RegExp,
): Promise<IssuerProcess & { output(): string }> {
  const child = await spawnReady(path.join(DIST_DEV, script), {
    what: script,
    env: { PATH: process.env.PATH ?? '', ...env },
    ready,
    readyOnStderr: true,
  });
  return {
    url: child.ready[1] ?? '',
    output: () => child.output(),
    stop: () => child.stop(),
  };
}

/**
 * The built local issuer (`node dist/dev/issuer/main.js`) on a free loopback port. It runs in its
 * own process because jose is ESM-only and Jest here loads CommonJS.
 */
export function spawnIssuer(): Promise<IssuerProcess> {
  return spawnDevScript('issuer/main.js', { ISSUER_PORT: '0' }, /Issuer ready at (\S+)/);
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

export type ForgedKind =
  | 'none'
  | 'hs256PublicKeyPem'
  | 'hs256PublicKeyJwk'
  | 'otherKeySameKid'
  | 'embeddedJwk'
  | 'unknownKid';

/** Attack tokens carrying `claims`, forged with jose against the issuer's published key. */
export async function forgeTokens<K extends ForgedKind>(
  issuer: string,
  claims: Record<string, unknown>,
  kinds: K[],
): Promise<Record<K, string>> {
  return (await runForger({ jwksUrl: `${issuer}/.well-known/jwks.json`, claims, kinds })) as Record<
    K,
    string
  >;
}

/** `count` tokens with made-up `kid`s. */
export async function forgeUnknownKids(
  issuer: string,
  claims: Record<string, unknown>,
  count: number,
): Promise<string[]> {
  const out = (await runForger({
    jwksUrl: `${issuer}/.well-known/jwks.json`,
    claims,
    kinds: ['unknownKid'],
    count,
  })) as { unknownKid: string[] };
  return out.unknownKid;
}

async function runForger(args: unknown): Promise<unknown> {
  const { stdout } = await execFileAsync(
    process.execPath,
    [path.join(__dirname, 'forgeTokens.mjs'), JSON.stringify(args)],
    { cwd: path.resolve(__dirname, '..', '..') },
  );
  return JSON.parse(stdout) as unknown;
}
