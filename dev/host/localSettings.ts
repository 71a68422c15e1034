import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Copies `Values` from local.settings.json into the environment like Core Tools does, and its
 * `Host.CORS` settings into the platform's CORS settings; a variable already set in the real
 * environment wins.
 */
export function applyLocalSettings(projectRoot: string, env: NodeJS.ProcessEnv): string[] {
  // FUNCTIONS_LOCAL_SETTINGS names another file; set to "" it turns the file off (tests do).
  const override = env.FUNCTIONS_LOCAL_SETTINGS;
  if (override === '') return [];
  const file = path.resolve(projectRoot, override ?? 'local.settings.json');
  if (!existsSync(file)) return [];
  let parsed: { Values?: Record<string, unknown>; Host?: Record<string, unknown> };
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as typeof parsed;
  } catch {
    throw new Error('local.settings.json is not valid JSON');
  }
  const applied: string[] = [];
  for (const [name, value] of Object.entries(parsed.Values ?? {})) {
    if (env[name] === undefined && typeof value === 'string') {
      env[name] = value;
      applied.push(name);
    }
  }
  // Core Tools answers CORS from `Host.CORS` / `Host.CORSCredentials`; the same two fields drive
  // this host's CORS layer, so one value in the file serves `func start` and `npm start`.
  const host = parsed.Host ?? {};
  const hostCors: [string, unknown][] = [
    ['CORS_ALLOWED_ORIGINS', host.CORS],
    ['CORS_SUPPORT_CREDENTIALS', host.CORSCredentials],
  ];
  for (const [name, value] of hostCors) {
    if (env[name] === undefined && (typeof value === 'string' || typeof value === 'boolean')) {
      env[name] = String(value);
      applied.push(name);
    }
  }
  return applied;
}

/**
 * The local ACS Identity emulator a connection string points at (`endpoint=http://127.0.0.1:
 * <port>/;accesskey=…`), so `npm start` and `npm run emulator` can serve exactly the resource
 * that local.settings.json names (the sample names one, ready for `func start`).
 */
export function loopbackEmulator(
  connectionString: string | undefined,
): { port: number; accessKey: string } | undefined {
  const parts = new Map<string, string>();
  for (const segment of (connectionString ?? '').split(';')) {
    const at = segment.indexOf('=');
    if (at > 0) parts.set(segment.slice(0, at).trim().toLowerCase(), segment.slice(at + 1).trim());
  }
  const accessKey = parts.get('accesskey');
  let endpoint: URL;
  try {
    endpoint = new URL(parts.get('endpoint') ?? '');
  } catch {
    return undefined;
  }
  const loopback = ['127.0.0.1', 'localhost'].includes(endpoint.hostname);
  if (endpoint.protocol !== 'http:' || !loopback || !endpoint.port || !accessKey) return undefined;
  return { port: Number(endpoint.port), accessKey };
}
