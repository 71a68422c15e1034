import type { Config } from './config';
import { CallerIdentities } from './domain/callerIdentities';
import { CallerLimits } from './domain/callerLimits';
import type { IdentityAccess } from './domain/issueToken';
import { LocalTokenCache, LocallyCachedCallers } from './domain/localTokenCache';
import { TokenPolicy } from './domain/tokenPolicy';
import { AcsIdentityGateway, createIdentityClient } from './infra/acsIdentityGateway';
import { AcsReachability, type Reachability } from './infra/acsReachability';
import { RetryBudget } from './infra/acsRetry';
import { AcsThrottleGate } from './infra/acsThrottleGate';
import { AesTokenSealer } from './infra/aesTokenSealer';
import { createAzureCredential } from './infra/azureCredential';
import { cacheScopeOf } from './infra/credentialFingerprint';
import { recordIdentityGone, type AcsCallTally } from './infra/acsCalls';
import { OidcVerifier } from './infra/oidcVerifier';
import { EasyAuthProof } from './http/easyAuthProof';
import { createTableClient, TableIdentityMap } from './infra/tableIdentityMap';

/** What a token request needs, checked for `/api/health`. */
export interface Readiness {
  /** A token request can succeed: ACS answers and every client it needs could be built. */
  ready: boolean;
  acs: Reachability;
  /** Whether each client could be built (`identityMap` only in easyauth mode). */
  checks: { acsClient: boolean; identityMap?: boolean };
  /** Why a check failed, for the log (never for the response). */
  failures: { check: 'acsClient' | 'identityMap'; error: unknown }[];
}

/** Everything the functions need, built once per process from validated config. */
export interface Services {
  config: Config;
  policy: TokenPolicy;
  reachability: AcsReachability;
  limits: CallerLimits;
  /** Validates bearer tokens (jwt mode only). */
  bearer: OidcVerifier | undefined;
  /** easyauth mode with EASY_AUTH_TOKEN_ISSUER: the Entra token each principal must come with. */
  easyAuthProof: EasyAuthProof | undefined;
  /** Which ACS operations this instance is holding back after a 429 (for /api/health). */
  throttle: AcsThrottleGate;
  /**
   * What the domain reaches ACS through, for one request: the process's one ACS client and (in
   * easyauth mode) its identity map, with every ACS call recorded in the request's tally.
   */
  forRequest(tally: AcsCallTally): IdentityAccess;
  readiness(): Promise<Readiness>;
}

/**
 * What the services take from the process: the clock, timers and `fetch`. Passed in, so a test
 * can run them on its own time and network.
 */
export interface Platform {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  fetch: typeof fetch;
}

export const systemPlatform: Platform = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  fetch: (input, init) => fetch(input, init),
};

/** The process's services, built once from validated config by the composition root (`src/app.ts`). */
export function buildServices(config: Config, platform: Platform = systemPlatform): Services {
  const { now, sleep } = platform;
  // One credential for both clients, made on first use (never in key mode with a connection string).
  let credential: ReturnType<typeof createAzureCredential> | undefined;
  const azureCredential = () => (credential ??= createAzureCredential(config.azureCredential));
  const throttle = new AcsThrottleGate(now, config.acsMaxConcurrency);
  const gateway = new AcsIdentityGateway({
    connect: () => createIdentityClient(config.acs, azureCredential),
    timeoutMs: config.acsTimeoutMs,
    budget: new RetryBudget(undefined, undefined, undefined, now),
    credential: config.acs.kind,
    gate: throttle,
    now,
    sleep,
  });
  const { identityMap } = config;
  // Shared by every request: one table client, one sealer. Only the ACS view is per request.
  const map =
    identityMap && new TableIdentityMap(() => createTableClient(identityMap, azureCredential));
  const callerOptions = map && {
    map,
    // A reservation must outlive the slowest ACS call its holder can make.
    leaseMs: config.acsTimeoutMs + 5_000,
    waitMs: config.acsTimeoutMs + 2_000,
    cache: config.tokenCacheKey ? new AesTokenSealer(config.tokenCacheKey) : undefined,
    cacheScope: cacheScopeOf(config),
    now,
    sleep,
  };
  // One per process, shared by every request; only with the sealed cache it stands in front of.
  const local =
    callerOptions?.cache && config.tokenCacheLocalSeconds > 0
      ? new LocalTokenCache({ maxAgeMs: config.tokenCacheLocalSeconds * 1000 })
      : undefined;
  const reachability = new AcsReachability(config.acs.endpoint, platform);
  return {
    config,
    policy: new TokenPolicy(config),
    reachability,
    limits: new CallerLimits(config.rateLimits, now),
    bearer: config.oidc && new OidcVerifier(config.oidc, platform.fetch, now),
    easyAuthProof:
      config.easyAuthProof &&
      new EasyAuthProof(new OidcVerifier(config.easyAuthProof, platform.fetch, now)),
    throttle,
    forRequest(tally) {
      const identity = gateway.observedBy(tally);
      const options = callerOptions && {
        ...callerOptions,
        identity,
        onIdentityGone: () => recordIdentityGone(tally),
      };
      return {
        identity,
        // One ACS identity per signed-in principal (easyauth and jwt modes).
        callers:
          options &&
          (local ? new LocallyCachedCallers(options, local) : new CallerIdentities(options)),
      };
    },
    async readiness() {
      // Build the clients before probing: the first build loads the SDK modules synchronously,
      // and a probe started alongside would spend its timeout waiting for the event loop (a cold
      // start would then read as "ACS unreachable").
      const [acsClient, table] = await Promise.all([gateway.buildFailure(), map?.openFailure()]);
      const acs = await reachability.check();
      const failures: Readiness['failures'] = [];
      if (acsClient !== undefined) failures.push({ check: 'acsClient', error: acsClient });
      if (map && table !== undefined) failures.push({ check: 'identityMap', error: table });
      return {
        ready: acs.reachable && failures.length === 0,
        acs,
        checks: {
          acsClient: acsClient === undefined,
          ...(map ? { identityMap: table === undefined } : {}),
        },
        failures,
      };
    },
  };
}
