// Bundles the browser demo into examples/browser/dist, which `npm start` serves at `/`.
// Needs clients/js/dist: `npm run build` builds the client package first.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
// The client package as built by `npm run build:client` (clients/js/dist), not its sources:
// the demo runs what users install.
const client = path.join(here, '..', '..', 'clients', 'js', 'dist', 'index.js');
const out = path.join(here, 'dist');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [path.join(here, 'src', 'main.ts')],
  outfile: path.join(out, 'main.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  alias: { 'acs-token-service-client': client },
  // Left readable on purpose: the demo is there to be read in the browser's dev tools.
  sourcemap: true,
  logLevel: 'warning',
});
for (const file of ['index.html', 'style.css']) {
  copyFileSync(path.join(here, file), path.join(out, file));
}
