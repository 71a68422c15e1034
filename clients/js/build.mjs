// Builds the package with the repository's own tools: esbuild writes dist/index.js (ESM, the
// SDK left as the peer dependency it is), tsc writes the declarations beside it.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, 'dist');
const require = createRequire(import.meta.url);

rmSync(dist, { recursive: true, force: true });
await build({
  entryPoints: [path.join(here, 'src', 'index.ts')],
  outfile: path.join(dist, 'index.js'),
  bundle: true,
  format: 'esm',
  // Browsers, React Native and Node 20+ all have fetch, AbortController and timers.
  platform: 'neutral',
  target: ['es2020'],
  external: ['@azure/communication-common'],
  sourcemap: true,
  logLevel: 'warning',
});
execFileSync(
  process.execPath,
  [require.resolve('typescript/bin/tsc'), '-p', path.join(here, 'tsconfig.json')],
  {
    stdio: 'inherit',
  },
);
