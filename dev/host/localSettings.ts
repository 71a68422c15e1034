import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Copies `Values` from local.settings.json into the environment like Core Tools does; a variable
 * already set in the real environment wins.
 */
export function applyLocalSettings(projectRoot: string, env: NodeJS.ProcessEnv): string[] {
  // FUNCTIONS_LOCAL_SETTINGS names another file; set to "" it turns the file off (tests do).
  const override = env.FUNCTIONS_LOCAL_SETTINGS;
  if (override === '') return [];
  const file = path.resolve(projectRoot, override ?? 'local.settings.json');
  if (!existsSync(file)) return [];
  let parsed: { Values?: Record<string, unknown> };
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
  return applied;
}
