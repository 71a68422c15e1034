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
