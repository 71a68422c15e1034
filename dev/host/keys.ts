import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface HostKeys {
  functionKey: string;
  masterKey: string;
  /** Signs the local Easy Auth stand-in's session cookies. */
  sessionSecret: string;
}

function newKey(): string {
  return randomBytes(30).toString('base64url');
}

/**
 * The function key is `FUNCTIONS_DEV_KEY` when set; otherwise one is generated on first start
 * and kept in `.dev/host-keys.json` (git-ignored) so curl lines keep working across restarts.
 */
export function resolveKeys(projectRoot: string, env: NodeJS.ProcessEnv): HostKeys {
  const file = path.join(projectRoot, '.dev', 'host-keys.json');
  let stored: Partial<HostKeys> = {};
  if (existsSync(file)) {
    try {
      stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<HostKeys>;
    } catch {
      stored = {};
    }
  }
  const keys: HostKeys = {
    functionKey: stored.functionKey ?? newKey(),
    masterKey: stored.masterKey ?? newKey(),
    sessionSecret: stored.sessionSecret ?? newKey(),
  };
  if (
    keys.functionKey !== stored.functionKey ||
    keys.masterKey !== stored.masterKey ||
    keys.sessionSecret !== stored.sessionSecret
  ) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(keys, null, 2), { mode: 0o600 });
  }
  const fromEnv = env.FUNCTIONS_DEV_KEY?.trim();
  return fromEnv ? { ...keys, functionKey: fromEnv } : keys;
}

export function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Whether a presented key satisfies an auth level (the master key satisfies both). */
export function keyAllows(
  keys: HostKeys,
  level: 'anonymous' | 'function' | 'admin',
  presented: string | undefined,
): boolean {
  if (level === 'anonymous') return true;
  if (presented === undefined) return false;
  if (same(presented, keys.masterKey)) return true;
  return level === 'function' && same(presented, keys.functionKey);
}
