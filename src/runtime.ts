import { loadConfig, type Config } from './config';
import { CallerIdentities } from './domain/callerIdentities';
import { CallerLimits } from './domain/callerLimits';
import type { TokenDeps } from './domain/issueToken';
import { TokenPolicy } from './domain/tokenPolicy';
import { AcsIdentityGateway, createIdentityClient } from './infra/acsIdentityGateway';
import { AcsReachability } from './infra/acsReachability';
import { RetryBudget } from './infra/acsRetry';
import { AcsThrottleGate } from './infra/acsThrottleGate';
import { AesTokenSealer } from './infra/aesTokenSealer';
import { cacheScopeOf } from './infra/credentialFingerprint';
import type { RequestFacts } from './infra/requestFacts';
import { createTableClient, TableIdentityMap } from './infra/tableIdentityMap';

/** Everything the functions need, built once per process from validated config. */
export interface Services {
  config: Config;
  policy: TokenPolicy;
  reachability: AcsReachability;
  limits: CallerLimits;
  /** Which ACS operations this instance is holding back after a 429 (for /api/health). */
  throttle: AcsThrottleGate;
  /**
   * What the domain reaches ACS through, for one request: the process's one ACS client and (in
   * easyauth mode) its identity map, with every ACS call recorded in the request's facts.
   */
  forRequest(facts: RequestFacts): TokenDeps;
}

export function buildServices(config: Config): Services {
  const throttle = new AcsThrottleGate(Date.now, config.acsMaxConcurrency);
  const gateway = new AcsIdentityGateway(
    () => createIdentityClient(config.acs),
    config.acsTimeoutMs,
    new RetryBudget(),
    throttle,
  );
  const { identityMap } = config;
  // Shared by every request: one table client, one sealer. Only the ACS view is per request.
  const callerOptions = identityMap && {
    map: new TableIdentityMap(() => createTableClient(identityMap)),
    // A reservation must outlive the slowest ACS call its holder can make.
    leaseMs: config.acsTimeoutMs + 5_000,
    waitMs: config.acsTimeoutMs + 2_000,
    cache: config.tokenCacheKey ? new AesTokenSealer(config.tokenCacheKey) : undefined,
    cacheScope: cacheScopeOf(config),
  };
  return {
    config,
    policy: new TokenPolicy(config),
    reachability: new AcsReachability(config.acs.endpoint),
    limits: new CallerLimits(config.rateLimits),
    throttle,
    forRequest(facts) {
      const identity = gateway.observedBy(facts);
      return {
        identity,
        // One ACS identity per signed-in principal (easyauth mode only).
        callers: callerOptions && new CallerIdentities({ ...callerOptions, identity }),
      };
    },
  };
}

let current: Services | undefined;

/** The process's services; the first call parses the environment (see `src/index.ts`). */
export function services(): Services {
  current ??= buildServices(loadConfig());
  return current;
}

/** Lets in-process tests run the real handlers against services of their choosing. */
export function setServices(next: Services | undefined): void {
  current = next;
}
