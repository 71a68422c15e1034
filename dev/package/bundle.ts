/**
 * The app bundle (`dist/app/index.js`, the `main` the Functions host loads), built by esbuild.
 * This module is the one place that says what the bundle leaves out: the packaging step ships
 * exactly those packages in `node_modules`, and the package test loads each of them from the
 * unpacked artifact.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';

/** Provided by the Node.js worker at run time; never in node_modules (the local host stands in). */
export const PLATFORM_MODULES = ['@azure/functions-core'] as const;

/**
 * Left out of the bundle and shipped in the package's node_modules. @azure/identity is only
 * loaded on the managed-identity path and is slow to import; bundling it would make every cold
 * start pay for it.
 */
export const SHIPPED_EXTERNALS = ['@azure/identity'] as const;

const BUNDLE_ENTRY = 'src/index.ts';
const BUNDLE_OUTFILE = 'dist/app/index.js';
/** esbuild's metafile, outside dist/app so it never ships (see .funcignore). */
const BUNDLE_METAFILE = 'dist/app-meta.json';

/**
 * The Node.js major the app is deployed on, from `engines.node` in package.json ("22.x"): the
 * single source for the esbuild target, the test runner (`npm test` runs the suite on it) and
 * the infra tests (the Function App's runtime version).
 */
export function deployedNodeMajor(projectRoot: string): number {
  const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as {
    engines?: { node?: string };
  };
  const match = /^(\d+)\.x$/.exec(pkg.engines?.node ?? '');
  if (!match?.[1]) throw new Error('package.json engines.node must name one major, like "22.x"');
  return Number(match[1]);
}

/** Builds the bundle and writes its metafile; returns the metafile's path. */
async function bundleApp(projectRoot: string): Promise<string> {
  const { build } = await import('esbuild');
  const result = await build({
    absWorkingDir: projectRoot,
    entryPoints: [BUNDLE_ENTRY],
    outfile: BUNDLE_OUTFILE,
    bundle: true,
    platform: 'node',
    target: `node${deployedNodeMajor(projectRoot)}`,
    format: 'cjs',
    sourcemap: true,
    external: [...PLATFORM_MODULES, ...SHIPPED_EXTERNALS],
    metafile: true,
    logLevel: 'warning',
  });
  const metafile = path.join(projectRoot, BUNDLE_METAFILE);
  writeFileSync(metafile, JSON.stringify(result.metafile));
  return metafile;
}

interface Metafile {
  outputs: Record<string, { imports: { path: string; external?: boolean }[] }>;
}

/**
 * Every bare package the built bundle imports at run time (Node built-ins aside), read from the
 * metafile esbuild wrote: what the package must provide, or the platform must.
 */
export function externalImports(projectRoot: string): string[] {
  const meta = JSON.parse(
    readFileSync(path.join(projectRoot, BUNDLE_METAFILE), 'utf8'),
  ) as Metafile;
  const output = meta.outputs[BUNDLE_OUTFILE];
  if (!output) throw new Error(`${BUNDLE_METAFILE} does not describe ${BUNDLE_OUTFILE}`);
  const names = output.imports
    .filter((i) => i.external && !i.path.startsWith('node:'))
    .map((i) => i.path)
    .filter((name) => !isBuiltin(name));
  return [...new Set(names)].sort();
}

if (require.main === module) {
  bundleApp(path.resolve(__dirname, '..', '..', '..')).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
