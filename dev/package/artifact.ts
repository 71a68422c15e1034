/**
 * The deployment package, built the way `azd package` / `azd deploy` builds a Functions zip for a
 * `language: js`, `host: function` service with `remoteBuild: false`, so that what the tests
 * unpack is what Azure runs. azd (Azure/azure-dev, cli/azd/pkg/project):
 * - `framework_service_node.go`: the package is the service folder, or its `dist:` folder
 *   (azure.yaml points `dist:` at the staged folder this module writes);
 * - `service_target_functionapp.go`: a folder that is not already a .zip is zipped by
 *   `createDeployableZip`, and `remoteBuild: false` is refused if `.funcignore` excludes
 *   node_modules;
 * - `project_utils.go` (`createDeployableZip`): `.funcignore` is read from the root of that folder
 *   and applied with gitignore semantics (github.com/denormal/go-gitignore); an ignored folder is
 *   not entered; folders named `.azure`, and files named `.funcignore` or `local.settings.json`,
 *   are left out at any depth; symbolic links are followed;
 * - `pkg/rzip/rzip.go`: entries in directory order (sorted by name), files only, deflated.
 * The gitignore semantics come from the `ignore` package, never from a matcher of our own.
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { unzipSync, zipSync, type Zippable } from 'fflate';
import ignore, { type Ignore } from 'ignore';
import { SHIPPED_EXTERNALS } from './bundle';

const IGNORE_FILE = '.funcignore';
/** Where `npm run package` stages the folder azd zips (`dist:` in azure.yaml). */
export const STAGE_DIR = path.join('dist', 'package', 'app');
const ZIP_FILE = path.join('dist', 'package', 'acs-token-service.zip');

interface PackageFile {
  /** Path inside the package, with forward slashes. */
  name: string;
  source: string;
  mode: number;
  mtime: Date;
}

function readIgnoreFile(root: string): Ignore | undefined {
  let text: string;
  try {
    text = readFileSync(path.join(root, IGNORE_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  // azd strips a UTF-8 byte order mark before parsing (stripUTF8BOM).
  return ignore().add(text.replace(/^\uFEFF/, ''));
}

/**
 * The files azd would put in the zip of `root`, in its order. `skip` prunes more folders (the
 * staging step replaces the project's node_modules with a production install).
 */
function deployableFiles(root: string, skip: (rel: string) => boolean = () => false) {
  const rules = readIgnoreFile(root);
  const files: PackageFile[] = [];
  const walk = (dir: string, rel: string, depth: number): void => {
    // rzip.go gives up on a chain of more than 40 symbolic links, as the zip tool does.
    if (depth > 40) return;
    const names = readdirSync(dir).sort();
    for (const name of names) {
      const source = path.join(dir, name);
      const relPath = rel ? `${rel}/${name}` : name;
      const link = lstatSync(source);
      const info = link.isSymbolicLink() ? statSync(source) : link;
      const isDir = info.isDirectory();
      if (isDir && name === '.azure') continue;
      if (!isDir && (name === IGNORE_FILE || name === 'local.settings.json')) continue;
      if (rules?.ignores(isDir ? `${relPath}/` : relPath)) continue;
      if (skip(relPath)) continue;
      if (isDir) walk(source, relPath, depth + (link.isSymbolicLink() ? 1 : 0));
      else files.push({ name: relPath, source, mode: info.mode, mtime: info.mtime });
    }
  };
  walk(root, '', 0);
  return files;
}

function npm(args: string[], cwd: string): void {
  // Under `npm run`, npm_execpath is the npm that runs us: use it with this very Node.
  const cli = process.env.npm_execpath;
  const [command, commandArgs] =
    cli && /\.c?js$/.test(cli) ? [process.execPath, [cli, ...args]] : ['npm', args];
  const result = spawnSync(command, commandArgs, { cwd, stdio: 'pipe', encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`npm ${args.join(' ')} failed in ${cwd}:\n${result.stderr || result.stdout}`);
  }
}

interface PackageJson {
  name: string;
  version: string;
  main: string;
  engines?: Record<string, string>;
  dependencies?: Record<string, string>;
  [key: string]: unknown;
}

/**
 * Stages the package folder: the project's files that `.funcignore` keeps (node_modules aside),
 * and a production install of only the packages the bundle leaves external — everything else is
 * inside `dist/app/index.js` already. The staged package.json keeps `main` and `engines`.
 */
function stagePackage(projectRoot: string, stageDir: string): void {
  rmSync(stageDir, { recursive: true, force: true });
  mkdirSync(stageDir, { recursive: true });
  const stageRel = path.relative(projectRoot, stageDir).split(path.sep).join('/');
  const files = deployableFiles(projectRoot, (rel) => rel === 'node_modules' || rel === stageRel);
  for (const file of files) {
    const target = path.join(stageDir, file.name);
    mkdirSync(path.dirname(target), { recursive: true });
    copyFileSync(file.source, target);
  }
  // azd reads the ignore file from the folder it zips, and leaves the file itself out.
  copyFileSync(path.join(projectRoot, IGNORE_FILE), path.join(stageDir, IGNORE_FILE));

  const pkg = JSON.parse(
    readFileSync(path.join(projectRoot, 'package.json'), 'utf8'),
  ) as PackageJson;
  const dependencies: Record<string, string> = {};
  for (const name of SHIPPED_EXTERNALS) {
    const range = pkg.dependencies?.[name];
    if (!range) throw new Error(`${name} is left out of the bundle but is not a dependency`);
    dependencies[name] = range;
  }
  const shipped = {
    name: pkg.name,
    version: pkg.version,
    private: true,
    description: pkg.description,
    license: pkg.license,
    main: pkg.main,
    engines: pkg.engines,
    dependencies,
  };
  writeFileSync(path.join(stageDir, 'package.json'), `${JSON.stringify(shipped, null, 2)}\n`);
  // The project's lock file pins every version; npm prunes it to what the staged package needs.
  npm(
    ['install', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'],
    stageDir,
  );
}

export interface BuiltPackage {
  zipFile: string;
  files: PackageFile[];
  zipBytes: number;
  unpackedBytes: number;
}

/** Zips `stageDir` as azd would and writes the zip to `zipFile`. */
function zipPackage(stageDir: string, zipFile: string): BuiltPackage {
  const files = deployableFiles(stageDir);
  const entries: Zippable = {};
  let unpackedBytes = 0;
  for (const file of files) {
    const data = readFileSync(file.source);
    unpackedBytes += data.length;
    // Unix mode in the high half of the external attributes, as Go's zip.FileHeader.SetMode.
    entries[file.name] = [
      data,
      { level: 6, mtime: file.mtime, os: 3, attrs: (file.mode & 0xffff) << 16 },
    ];
  }
  const zip = zipSync(entries);
  mkdirSync(path.dirname(zipFile), { recursive: true });
  writeFileSync(zipFile, zip);
  return { zipFile, files, zipBytes: zip.length, unpackedBytes };
}

/** Stage and zip: what `npm run package` does after the build (see azure.yaml). */
export function buildPackage(
  projectRoot: string,
  stageDir = path.join(projectRoot, STAGE_DIR),
  zipFile = path.join(projectRoot, ZIP_FILE),
): BuiltPackage {
  stagePackage(projectRoot, stageDir);
  return zipPackage(stageDir, zipFile);
}

/** Unpacks a package zip into `dir` (as the platform unpacks it into wwwroot); returns the names. */
export function unpackZip(zipFile: string, dir: string): string[] {
  const entries = unzipSync(readFileSync(zipFile));
  const root = path.resolve(dir);
  for (const [name, data] of Object.entries(entries)) {
    const target = path.resolve(root, name);
    if (!target.startsWith(root + path.sep))
      throw new Error(`zip entry escapes the folder: ${name}`);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, data);
  }
  return Object.keys(entries);
}
