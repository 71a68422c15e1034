import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';

/** Names a Chromium or Chrome goes by on PATH (Debian, Ubuntu, Fedora, Google's packages). */
const NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome'];
/** Where they live when they are not on PATH. */
const KNOWN_PATHS = [
  '/usr/bin/chromium',
  '/usr/lib/chromium/chromium',
  '/snap/bin/chromium',
  '/opt/google/chrome/chrome',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];

const INSTALL_HINT =
  'install Chromium or Chrome (Debian/Ubuntu: apt-get install chromium) or set CHROMIUM_PATH to its executable';

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function installed(): string | undefined {
  const fromPath = (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .flatMap((dir) => NAMES.map((name) => path.join(dir, name)));
  return [...fromPath, ...KNOWN_PATHS].find(executable);
}

/** Root on Debian may install the distribution's package, as .ci/run does. */
function provisionWithApt(): boolean {
  const root = process.getuid?.() === 0;
  if (!root || !existsSync('/etc/debian_version') || !executable('/usr/bin/apt-get')) return false;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', '--no-install-recommends', 'chromium'],
  ]) {
    const run = spawnSync('apt-get', args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
    if (run.status !== 0) return false;
  }
  return true;
}

/**
 * The Chromium or Chrome the browser test drives: `CHROMIUM_PATH`, else one found on PATH or in
 * the usual places, else Debian's package installed with apt when running as root. Anything else
 * is a one-line error naming what to install; the test is never skipped.
 */
export function findChromium(): string {
  const chosen = process.env.CHROMIUM_PATH;
  if (chosen) {
    if (executable(chosen)) return chosen;
    throw new Error(`CHROMIUM_PATH=${chosen} is not an executable file; ${INSTALL_HINT}.`);
  }
  const found = installed() ?? (provisionWithApt() ? installed() : undefined);
  if (!found) throw new Error(`The browser test found no Chromium or Chrome: ${INSTALL_HINT}.`);
  return found;
}
