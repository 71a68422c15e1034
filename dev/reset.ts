/**
 * `npm run reset`: starts local development over with empty state. Deletes what `npm start` and
 * `npm run emulator` keep in LOCAL_STATE_DIR (default .dev/): the ACS emulator's resource
 * (emulator/) and Azurite's tables (azurite/). The local host's keys (host-keys.json) stay, so
 * curl lines and bookmarks keep working. Refuses while an emulator is using that state.
 */
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { lockHolder } from './emulator/persistence';
import { EMULATOR_STATE_FILE, localState } from './localState';

const projectRoot = path.resolve(__dirname, '..', '..');

function main(): number {
  // Whatever ACS_EMULATOR_STATE says for a run, a reset is about the kept state.
  const state = localState(projectRoot, { ...process.env, ACS_EMULATOR_STATE: 'keep' });
  const emulatorDir = path.dirname(path.join(state.dir, EMULATOR_STATE_FILE));
  const holder = lockHolder(path.join(state.dir, EMULATOR_STATE_FILE));
  if (holder !== undefined) {
    console.error(
      `reset: process ${holder} (npm start or npm run emulator) is using ${state.dir}; stop it first.`,
    );
    return 1;
  }
  const cleared = [emulatorDir, state.azurite].filter((dir) => existsSync(dir));
  for (const dir of cleared) rmSync(dir, { recursive: true, force: true });
  console.log(
    cleared.length === 0
      ? `reset: nothing to clear in ${state.dir}`
      : `reset: cleared ${cleared.map((dir) => path.relative(state.dir, dir)).join(' and ')} in ${state.dir}`,
  );
  return 0;
}

try {
  process.exitCode = main();
} catch (err) {
  console.error(`reset: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
