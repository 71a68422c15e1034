import { readFileSync } from 'node:fs';
import path from 'node:path';

const projectRoot = path.resolve(__dirname, '..', '..');

/** The client package's built entry (`npm run build` builds clients/js). */
export const CLIENT_PACKAGE_DIR = path.join(projectRoot, 'clients', 'js');
const CLIENT_PACKAGE_ENTRY = path.join(CLIENT_PACKAGE_DIR, 'dist', 'index.js');

/**
 * The JavaScript block that follows `<!-- snippet: <name> -->` in a doc, exactly as written, so
 * the tests run the code readers copy.
 */
export function docSnippet(doc: string, name: string): string {
  const text = readFileSync(path.join(projectRoot, doc), 'utf8');
  const marker = `<!-- snippet: ${name} -->`;
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`${doc} has no snippet ${name}`);
  const block = /```js\n([\s\S]*?)\n```/.exec(text.slice(at + marker.length));
  if (!block?.[1]) throw new Error(`snippet ${name} in ${doc} has no js block`);
  return block[1];
}

/**
 * A browser snippet bundled (esbuild, as the demo is) into a script that exposes its exports on
 * `window.snippet`, for `page.addScriptTag`.
 */
export async function bundleForBrowser(code: string): Promise<string> {
  const { build } = await import('esbuild');
  const result = await build({
    stdin: { contents: code, resolveDir: projectRoot, loader: 'js' },
    bundle: true,
    format: 'iife',
    globalName: 'snippet',
    platform: 'browser',
    target: ['es2022'],
    // The snippets import the client package as users install it: clients/js as built.
    alias: { 'acs-token-service-client': CLIENT_PACKAGE_ENTRY },
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]?.text ?? '';
}
