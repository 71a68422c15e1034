/**
 * Where `npm start` and `npm run emulator` keep what must survive a restart, as Azure would:
 * Azurite's tables and the ACS emulator's resource. One folder, `.dev/` (git-ignored) unless
 * LOCAL_STATE_DIR says otherwise; `npm run reset` empties it (see dev/reset.ts).
 */
import path from 'node:path';

export interface LocalState {
  /** The folder itself. */
  dir: string;
  /** Azurite's `--location`. */
  azurite: string;
  /** The emulator's state file, or undefined for a throw-away emulator (ACS_EMULATOR_STATE=fresh). */
  emulatorFile: string | undefined;
}

export const EMULATOR_STATE_FILE = path.join('emulator', 'state.json');

/** Reads LOCAL_STATE_DIR and ACS_EMULATOR_STATE; throws a message naming a bad setting. */
export function localState(projectRoot: string, env: NodeJS.ProcessEnv): LocalState {
  const configured = env.LOCAL_STATE_DIR?.trim();
  const dir = configured ? path.resolve(projectRoot, configured) : path.join(projectRoot, '.dev');
  const mode = env.ACS_EMULATOR_STATE?.trim() || 'keep';
  if (mode !== 'keep' && mode !== 'fresh') {
    throw new Error(`ACS_EMULATOR_STATE must be 'keep' or 'fresh' (got '${mode}').`);
  }
  return {
    dir,
    azurite: path.join(dir, 'azurite'),
    emulatorFile: mode === 'keep' ? path.join(dir, EMULATOR_STATE_FILE) : undefined,
  };
}
