import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createFunctionsCore, installFunctionsCore, type Registration } from './functionsCore';
import type { TimerRegistration } from './timers';

/** Expands the `main` entry of package.json the way the Functions host does (a file or a glob). */
export function resolveEntryFiles(projectRoot: string): string[] {
  const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as {
    main?: string;
  };
  if (!pkg.main) throw new Error('package.json has no "main" entry for the Functions host');
  if (!pkg.main.includes('*')) {
    const file = path.join(projectRoot, pkg.main);
    if (!existsSync(file)) throw new Error(`${pkg.main} not found: run "npm run build" first`);
    return [file];
  }
  const dir = path.join(projectRoot, path.dirname(pkg.main));
  const pattern = new RegExp(
    `^${path.basename(pkg.main).replace(/\./g, '\\.').replace(/\*/g, '.*')}$`,
  );
  return readdirSync(dir)
    .filter((f) => pattern.test(f))
    .map((f) => path.join(dir, f));
}

/**
 * Loads the app once and returns what it registered. `entries` (comma-separated paths from the
 * project root) replaces package.json's `main`: the benchmark uses it to load the unbundled
 * build, or to add its baseline function beside the app.
 */
export function loadApp(
  projectRoot: string,
  entries?: string,
  /** Receives the app's timer triggers (dev/host/timers.ts runs them). */
  timers: TimerRegistration[] = [],
): Registration[] {
  const registrations: Registration[] = [];
  installFunctionsCore(createFunctionsCore(registrations, timers));
  const files = entries
    ? entries.split(',').map((entry) => path.resolve(projectRoot, entry.trim()))
    : resolveEntryFiles(projectRoot);
  // The real host require()s the entry point too; registrations happen as a side effect.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  for (const file of files) require(file);
  if (registrations.length === 0) throw new Error('the app registered no functions');
  return registrations;
}
