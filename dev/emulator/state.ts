import { copyFaults, DEFAULT_FAULTS, mergeFaults, parseFaultPatch } from './faults';
import type { StateWriter } from './persistence';
import type { IdentityStore } from './store';
import type { TokenSigner } from './tokens';
import { ACS_OPERATIONS, type AcsOperation, type FaultConfig, type OperationCounts } from './types';

export type IntrospectionReason = 'expired' | 'revoked' | 'deleted' | 'invalid';

export interface Introspection {
  active: boolean;
  reason?: IntrospectionReason;
  sub?: string;
  scopes?: string[];
}

function zeroCounts(): OperationCounts {
  const counts = {} as OperationCounts;
  for (const op of ACS_OPERATIONS) counts[op] = 0;
  counts.rejected = 0;
  return counts;
}

/** Everything the emulator knows, shared by the ACS and admin surfaces. */
export class EmulatorState {
  private calls = zeroCounts();
  private faultConfig: FaultConfig;
  private savedRevision: number;

  constructor(
    readonly store: IdentityStore,
    readonly signer: TokenSigner,
    readonly random: () => number,
    initialFaults: Partial<FaultConfig> = {},
    /** Where the state is kept across restarts; undefined for a throw-away emulator. */
    private readonly writer?: StateWriter,
  ) {
    this.faultConfig = mergeFaults({ ...DEFAULT_FAULTS }, parseFaultPatch(initialFaults));
    this.savedRevision = store.revision;
  }

  /**
   * Saves what changed since the last save, before the change is answered: what ACS has
   * acknowledged it keeps. Nothing to do for a throw-away emulator or when nothing changed.
   */
  async persist(): Promise<void> {
    if (!this.writer || this.store.revision === this.savedRevision) return;
    this.savedRevision = this.store.revision;
    try {
      await this.writer.save();
    } catch (err) {
      this.savedRevision = -1; // the next change saves everything again
      throw err;
    }
  }

  /** Saves what is left and waits for every write under way: the last step of a close. */
  async flush(): Promise<void> {
    await this.persist();
    await this.writer?.settled();
  }

  count(op: AcsOperation | 'rejected'): void {
    this.calls[op] += 1;
  }

  counts(): OperationCounts {
    return { ...this.calls };
  }

  faults(): FaultConfig {
    return copyFaults(this.faultConfig);
  }

  /** Validates (throws a 400 AcsError) and merges; returns the merged configuration. */
  setFaults(patch: unknown): FaultConfig {
    this.faultConfig = mergeFaults(this.faultConfig, parseFaultPatch(patch));
    return this.faults();
  }

  reset(opts: { identities?: boolean } = {}): void {
    this.calls = zeroCounts();
    this.faultConfig = { ...DEFAULT_FAULTS };
    if (opts.identities === true) this.store.clear();
  }

  /**
   * Judges a token the way a resource server would: signature first, then expiry, then the
   * fate of its identity (deleted, or tokens revoked after it was issued).
   */
  introspect(token: string, nowMs: number): Introspection {
    const claims = this.signer.verify(token);
    if (!claims) return { active: false, reason: 'invalid' };
    const about = { sub: claims.sub, scopes: claims.scp };
    if (nowMs >= claims.exp * 1000) return { active: false, reason: 'expired', ...about };
    // Teams users' tokens (8:orgid:...) have no identity in this resource to be revoked.
    if (!claims.sub.startsWith('8:acs:')) return { active: true, ...about };
    const standing = this.store.standing(claims.sub, claims.iat, claims.jti);
    switch (standing) {
      case 'active':
        return { active: true, ...about };
      case 'unknown':
        // Signed by this emulator, but its identity was forgotten by a reset.
        return { active: false, reason: 'invalid' };
      default:
        return { active: false, reason: standing, ...about };
    }
  }
}
