import type { KeyType, ResourceKeys } from './accessKeys';
import type { EntraOptions } from './entra';
import type { QuotaPatch, QuotaStats } from './quotas';

/** The ACS Identity operations the emulator implements, one per SDK call. */
export type AcsOperation =
  | 'createUser'
  | 'createUserAndToken'
  | 'issueAccessToken'
  | 'revokeAccessTokens'
  | 'deleteIdentity'
  | 'exchangeTeamsToken';

export const ACS_OPERATIONS: readonly AcsOperation[] = [
  'createUser',
  'createUserAndToken',
  'issueAccessToken',
  'revokeAccessTokens',
  'deleteIdentity',
  'exchangeTeamsToken',
];

/** Failure injection applied to authenticated ACS operations. Rates are probabilities in 0..1. */
export interface FaultConfig {
  /** Fixed delay added before answering every ACS operation in scope (default 0). */
  latencyMs: number;
  /** Status returned for injected errors (default 503). */
  errorStatus: number;
  /** Probability of answering with `errorStatus` and an ACS error body (429/503 also get Retry-After). */
  errorRate: number;
  /** Retry-After value, in seconds, sent with injected 429/503 (default 1). */
  retryAfterSeconds: number;
  /** Probability of destroying the socket WITHOUT doing the operation. */
  dropRate: number;
  /** Probability of doing the operation, then destroying the socket without answering. */
  dropAfterCommitRate: number;
  /** Probability of answering a successful operation with its status but a body that is not JSON. */
  malformedRate: number;
  /** When set, faults (latency included) apply only to these operations. */
  operations?: AcsOperation[];
}

export interface EmulatorOptions {
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Port to listen on (default 0 = a random free port). */
  port?: number;
  /** Base64 primary access key of the emulated resource (default: 32 random bytes). */
  accessKey?: string;
  /** Base64 secondary access key (default: 32 random bytes); it signs server calls as well. */
  secondaryAccessKey?: string;
  /**
   * ACS's per-resource quotas (default: the Identity table's limits per 30 s, on). Tests set a
   * short window and low limits; throughput benchmarks turn them off.
   */
  quotas?: QuotaPatch;
  /** Resource id embedded in identity ids and tokens (default: derived from the access key). */
  resourceId?: string;
  /**
   * File that keeps the resource (id, access key, signing key, identities, revocations) across
   * restarts; when it exists, its resource is the one served. Default: none, a throw-away
   * emulator, which is what tests and benchmarks use.
   */
  stateFile?: string;
  /** Initial fault configuration, merged over the defaults. */
  faults?: Partial<FaultConfig>;
  /** Source of randomness for fault decisions, returning values in [0, 1) (default Math.random). */
  random?: () => number;
  /** Serve /admin/* to non-loopback clients too (default false). */
  allowRemoteAdmin?: boolean;
  /**
   * The OpenID Connect issuer that stands in for Entra ID in the Teams-user exchange (the local
   * issuer, dev/issuer); without one every Teams token is refused.
   */
  teamsIssuer?: string;
  /**
   * Serve HTTPS with this certificate (PEM) instead of HTTP: the SDK sends Entra ID bearer
   * tokens over TLS only. See dev/tls.ts for a local one.
   */
  tls?: { key: string; cert: string };
  /**
   * Take Microsoft Entra ID bearer tokens besides HMAC-signed requests, from this tenant and
   * these keys (see dev/emulator/entra.ts); without it every bearer token gets ACS's 401.
   */
  entra?: EntraOptions;
}

/** What the emulator remembers about one identity. */
export interface EmulatorIdentity {
  id: string;
  createdAt: string;
  deleted: boolean;
  revokedAt?: string;
  tokensIssued: number;
}

export type OperationCounts = Record<AcsOperation, number> & { rejected: number };

export interface RunningEmulator {
  /** `http://<host>:<port>`, no trailing slash. */
  url: string;
  /** `url + '/'`, the endpoint of the connection string. */
  endpoint: string;
  /** The current primary key (it changes when the primary is regenerated). */
  readonly accessKey: string;
  /** The GUID in every identity id this resource makes (`8:acs:<resourceId>_<guid>`). */
  resourceId: string;
  /** `endpoint=<endpoint>;accesskey=<primary key>`, ready for `CommunicationIdentityClient`. */
  readonly connectionString: string;
  /** Both keys and their connection strings (ARM listKeys). */
  keys(): ResourceKeys;
  /** Regenerates one key: the old one stops signing and its tokens are revoked. */
  regenerateKey(keyType: KeyType): ResourceKeys;
  /** Assigns the resource's role (Contributor) to a principal (needs `entra`). */
  grantRole(principalId: string): void;
  /** Removes it: that principal's bearer tokens then get ACS's 403. */
  removeRole(principalId: string): void;
  /** Admitted and throttled calls per operation, with the limits in force. */
  quotaStats(): Record<AcsOperation, QuotaStats>;
  /** Merges quota settings (throws on invalid ones) and starts every window afresh. */
  setQuotas(patch: QuotaPatch): void;
  /** Where the public key that signs access tokens is published. */
  jwksUrl: string;
  /** Requests received per operation (faulted and invalid ones included); `rejected` = failed auth. */
  counts(): OperationCounts;
  identities(): EmulatorIdentity[];
  faults(): FaultConfig;
  /** Merges `f` into the current fault configuration. Throws on invalid values. */
  setFaults(f: Partial<FaultConfig>): void;
  /** Zeroes the counters and clears faults; forgets identities too when asked. */
  reset(opts?: { identities?: boolean }): void;
  /**
   * Stops listening and closes every open socket, keep-alive ones included; with a state file,
   * resolves once the last change is saved.
   */
  close(): Promise<void>;
}
