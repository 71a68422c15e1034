import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { ordinalIgnoreCase } from '../../src/http/functionKey';

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

type KeyLevel = 'function' | 'admin';

/**
 * The key a request presents, read as Azure's host reads it
 * (azure-functions-host src/WebJobs.Script.WebHost/Security/Authentication/Keys/
 * AuthenticationLevelHandler.cs, `GetAuthorizationKeyInfoAsync`): the `x-functions-key` header
 * when there is one, even an empty one, else the `code` query parameter; of either only the first
 * value (`values.First()`). ASP.NET Core's query collection compares names case-insensitively,
 * so `?CODE=` and `?Code=` are `code` too, their values in the order sent.
 */
export function presentedKey(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headersDistinct['x-functions-key'];
  if (header) return header[0];
  for (const [name, value] of url.searchParams) {
    if (ordinalIgnoreCase(name) === 'CODE') return value;
  }
  return undefined;
}

/**
 * Whether a presented key satisfies an auth level (the master key satisfies both), with the
 * host's authorization cache in front: once a key was accepted for a function, the cache answers
 * for it and for every case variant of it (`SecretManager.GetAuthorizationLevelOrNullAsync`: the
 * cache key is the key value followed by the function name, in a dictionary with
 * `StringComparer.OrdinalIgnoreCase`). A key never accepted is compared exactly
 * (`Key.SecretValueEquals`), so a case variant is refused until the exact key has been used.
 * The host clears the cache when keys change; these keys are fixed for the process's life.
 */
export function keyChecker(keys: HostKeys) {
  const accepted = new Map<string, KeyLevel>();
  function levelOf(presented: string): KeyLevel | undefined {
    if (same(presented, keys.masterKey)) return 'admin';
    if (same(presented, keys.functionKey)) return 'function';
    return undefined;
  }
  return function keyAllows(
    level: 'anonymous' | 'function' | 'admin',
    presented: string | undefined,
    functionName: string,
  ): boolean {
    if (level === 'anonymous') return true;
    // An empty value counts as no key at all (`string.IsNullOrEmpty(keyValue)`).
    if (!presented) return false;
    const cacheKey = ordinalIgnoreCase(`${presented}${functionName}`);
    let found = accepted.get(cacheKey);
    if (found === undefined) {
      found = levelOf(presented);
      if (found !== undefined) accepted.set(cacheKey, found);
    }
    return found === 'admin' || (found === 'function' && level === 'function');
  };
}
