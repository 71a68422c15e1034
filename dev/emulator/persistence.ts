/**
 * The emulator's state file: what a real ACS resource keeps across restarts (its id, its access
 * key, the key that signs its tokens, its identities and their revocations), so that `npm start`
 * and `npm run emulator` pick up where they stopped, as Azurite does with its own data.
 *
 * The file is JSON with a `format` tag and a `version`. To keep more (another stream's access
 * keys, say), add an optional section to `StateFileSchema`; a change that old files cannot be
 * read as needs a new version and a step in `upgrade` from the previous one.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod/mini';

export const STATE_FORMAT = 'acs-emulator-state';
export const STATE_VERSION = 1;
/** The command that clears local state; every state-file error names it. */
export const RESET_COMMAND = 'npm run reset';

const StoredIdentitySchema = z.object({
  id: z.string(),
  createdAtMs: z.number(),
  deleted: z.boolean(),
  revokedAtMs: z.optional(z.number()),
  revokedInSameSecond: z.array(z.string()),
  tokensIssued: z.number(),
});

const StateFileSchema = z.object({
  format: z.literal(STATE_FORMAT),
  version: z.literal(STATE_VERSION),
  resource: z.object({ id: z.string(), accessKey: z.string() }),
  signingKey: z.object({ privateKeyPem: z.string() }),
  identities: z.array(StoredIdentitySchema),
});

export type PersistedState = z.infer<typeof StateFileSchema>;

/** A start-up error about local state: its message says what to do, and is all there is to say. */
export class LocalStateError extends Error {
  override name = 'LocalStateError';
}

/** A state file that cannot be used: the message names the file and how to start over. */
export class StateFileError extends LocalStateError {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(
      `The ACS emulator's state file ${file} ${reason}. ` +
        `Run \`${RESET_COMMAND}\` to start again with empty local state (it clears the ` +
        `emulator's and Azurite's data), or set ACS_EMULATOR_STATE=fresh for a throw-away run.`,
    );
    this.name = 'StateFileError';
  }
}

/** Another live emulator serves from the same state file; two writers would undo each other. */
export class StateInUseError extends LocalStateError {
  constructor(
    readonly file: string,
    readonly pid: number,
  ) {
    super(
      `The ACS emulator's state file ${file} is in use by process ${pid} (npm start or ` +
        `npm run emulator). Stop that one first, point LOCAL_STATE_DIR elsewhere, or set ` +
        `ACS_EMULATOR_STATE=fresh for a throw-away run.`,
    );
    this.name = 'StateInUseError';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live process that holds the state file's lock, if any. */
export function lockHolder(file: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(`${file}.lock`, 'utf8').trim());
  } catch {
    return undefined;
  }
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

/**
 * Takes the state file for this process (a `.lock` file holding its pid); a lock left by a
 * process that has died is taken over. Returns the release.
 */
export function lockState(file: string): () => void {
  const lock = `${file}.lock`;
  mkdirSync(path.dirname(file), { recursive: true });
  for (;;) {
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      return () => rmSync(lock, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = lockHolder(file);
    if (holder !== undefined) throw new StateInUseError(file, holder);
    rmSync(lock, { force: true }); // stale: its process is gone
  }
}

/** Older formats, read as the current one. Version 1 is the first: nothing to upgrade yet. */
function upgrade(raw: Record<string, unknown>): unknown {
  return raw;
}

/** The saved state, or undefined when there is none yet. Throws `StateFileError` otherwise. */
export function loadState(file: string): PersistedState | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StateFileError(file, `cannot be read (${(err as NodeJS.ErrnoException).code})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new StateFileError(file, 'is not valid JSON (half-written, or edited by hand?)');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new StateFileError(file, 'does not hold an emulator state');
  }
  const tagged = raw as Record<string, unknown>;
  if (tagged.format !== STATE_FORMAT) {
    throw new StateFileError(file, 'does not hold an emulator state');
  }
  if (typeof tagged.version === 'number' && tagged.version > STATE_VERSION) {
    throw new StateFileError(
      file,
      `was written by a newer emulator (format version ${tagged.version}; this one reads ${STATE_VERSION})`,
    );
  }
  const parsed = StateFileSchema.safeParse(upgrade(tagged));
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first?.path.join('.') || 'state';
    throw new StateFileError(file, `is incomplete or damaged (${where}: ${first?.message})`);
  }
  return parsed.data;
}

/**
 * Writes snapshots atomically (a temporary file, flushed to disk, then renamed over the old one),
 * so a crash leaves either the old state or the new one, never half of one. Saves asked for
 * while one is being written are served together by the next write.
 */
export class StateWriter {
  private writing: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(
    readonly file: string,
    private readonly snapshot: () => PersistedState,
  ) {
    mkdirSync(path.dirname(file), { recursive: true });
    // Left by a process that died mid-write; the state file itself is still whole.
    rmSync(this.temporaryFile(), { force: true });
  }

  /** Resolves once the state as it is now (or later) is on disk. */
  save(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.writing) {
      this.writing = this.write().finally(() => (this.writing = undefined));
      return this.writing;
    }
    this.queued = this.writing
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.save();
      });
    return this.queued;
  }

  /** Resolves once no write is under way (failed ones included). */
  settled(): Promise<void> {
    return (this.queued ?? this.writing ?? Promise.resolve()).catch(() => undefined);
  }

  /** One name is enough: the lock (`lockState`) lets one process at a time write the file. */
  private temporaryFile(): string {
    return `${this.file}.tmp`;
  }

  private async write(): Promise<void> {
    const temporary = this.temporaryFile();
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(this.snapshot(), null, 1)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, this.file);
  }
}
