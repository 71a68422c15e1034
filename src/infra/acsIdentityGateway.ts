import type { CommunicationIdentityClient } from '@azure/communication-identity';
import type { TokenCredential } from '@azure/identity';
import type { AcsConnection } from '../config';
import { isLoopback } from '../loopback';
import type { AcsScope } from '../domain/scopes';
import type {
  AccessToken,
  AcsOperationClass,
  IdentityService,
  IssuedIdentity,
} from '../domain/identityService';
import { fromAcsError, fromTeamsExchangeError } from './acsErrors';
import { refusedBeforeProcessing, retryDelayMs, RetryBudget, type Repeatability } from './acsRetry';
import { AcsThrottleGate } from './acsThrottleGate';
import { recordAcsCall, recordUnknownCreate, type AcsCallTally } from './acsCalls';
import { underlyingFailure } from './restError';

/**
 * Builds the ACS client. The SDK's own retries are off: it would repeat a `createUserAndToken`
 * whose first attempt reached ACS (an orphaned identity) and hold the caller for a whole
 * `Retry-After`. The gateway below retries only what is safe.
 */
export async function createIdentityClient(
  acs: AcsConnection,
  credential: () => Promise<TokenCredential>,
): Promise<CommunicationIdentityClient> {
  const { CommunicationIdentityClient } = await import('@azure/communication-identity');
  const options = {
    allowInsecureConnection: isLoopback(acs.endpoint),
    retryOptions: { maxRetries: 0 },
    userAgentOptions: { userAgentPrefix: 'acs-token-service' },
  };
  if (acs.kind === 'connectionString') {
    return new CommunicationIdentityClient(acs.connectionString, options);
  }
  return new CommunicationIdentityClient(acs.endpoint.href, await credential(), options);
}

/**
 * ACS Identity over the real client: one client per process, created on first use, one deadline
 * per call (retries included), safe retries within a budget, and every failure translated by
 * `fromAcsError`. The domain gets it per request, as the `IdentityService` of `observedBy`, so
 * that every attempt lands in that request's facts.
 */
export interface AcsIdentityGatewayOptions {
  connect: () => Promise<CommunicationIdentityClient>;
  /** ACS_TIMEOUT_MS: one deadline per call, its retries included. */
  timeoutMs: number;
  budget?: RetryBudget;
  /** How the client signs in, so that a refusal can name the setting to check. */
  credential?: AcsConnection['kind'];
  gate?: AcsThrottleGate;
  now?: () => number;
  /** Waits out a retry's delay. */
  sleep?: (ms: number) => Promise<void>;
}

export class AcsIdentityGateway {
  private client: Promise<CommunicationIdentityClient> | undefined;
  private readonly connect: () => Promise<CommunicationIdentityClient>;
  private readonly timeoutMs: number;
  private readonly budget: RetryBudget;
  private readonly credential: AcsConnection['kind'] | undefined;
  private readonly gate: AcsThrottleGate;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: AcsIdentityGatewayOptions) {
    this.connect = options.connect;
    this.timeoutMs = options.timeoutMs;
    this.now = options.now ?? Date.now;
    this.budget = options.budget ?? new RetryBudget(undefined, undefined, undefined, this.now);
    this.credential = options.credential;
    this.gate = options.gate ?? new AcsThrottleGate(this.now);
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** This gateway (same client, same retry budget) recording every ACS call in `facts`. */
  observedBy(facts: AcsCallTally): IdentityService {
    return {
      createUserAndToken: (scopes, minutes) => this.createUserAndToken(facts, scopes, minutes),
      getToken: (id, scopes, minutes) => this.getToken(facts, id, scopes, minutes),
      revokeTokens: (id) => this.revokeTokens(facts, id),
      deleteUser: (id) => this.deleteUser(facts, id),
      exchangeTeamsToken: (token, appId, userId) =>
        this.exchangeTeamsToken(facts, token, appId, userId),
    };
  }

  private async exchangeTeamsToken(
    facts: AcsCallTally,
    teamsUserAadToken: string,
    clientId: string,
    userObjectId: string,
  ): Promise<AccessToken> {
    try {
      // Nothing is created: repeating the exchange is safe.
      const result = await this.call(
        facts,
        'idempotent',
        'exchangeTeamsToken',
        (client, abortSignal) =>
          client.getTokenForTeamsUser({ teamsUserAadToken, clientId, userObjectId, abortSignal }),
      );
      return { token: result.token, expiresOn: result.expiresOn };
    } catch (err) {
      throw fromTeamsExchangeError(err);
    }
  }

  private async createUserAndToken(
    facts: AcsCallTally,
    scopes: AcsScope[],
    expiresInMinutes: number,
  ): Promise<IssuedIdentity> {
    const result = await this.call(facts, 'create', 'createUserAndToken', (client, abortSignal) =>
      client.createUserAndToken(scopes, { tokenExpiresInMinutes: expiresInMinutes, abortSignal }),
    );
    return {
      communicationUserId: result.user.communicationUserId,
      accessToken: { token: result.token, expiresOn: result.expiresOn },
    };
  }

  private async getToken(
    facts: AcsCallTally,
    id: string,
    scopes: AcsScope[],
    expiresInMinutes: number,
  ): Promise<AccessToken> {
    const result = await this.call(facts, 'idempotent', 'issueAccessToken', (client, abortSignal) =>
      client.getToken({ communicationUserId: id }, scopes, {
        tokenExpiresInMinutes: expiresInMinutes,
        abortSignal,
      }),
    );
    return { token: result.token, expiresOn: result.expiresOn };
  }

  private async revokeTokens(facts: AcsCallTally, id: string): Promise<void> {
    await this.call(facts, 'idempotent', 'revokeAccessTokens', (client, abortSignal) =>
      client.revokeTokens({ communicationUserId: id }, { abortSignal }),
    );
  }

  private async deleteUser(facts: AcsCallTally, id: string): Promise<void> {
    await this.call(facts, 'idempotent', 'deleteIdentity', (client, abortSignal) =>
      client.deleteUser({ communicationUserId: id }, { abortSignal }),
    );
  }

  private async call<T>(
    facts: AcsCallTally,
    repeatability: Repeatability,
    operationClass: AcsOperationClass,
    operation: (client: CommunicationIdentityClient, signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    // The deadline is for ACS's answer: loading the SDK on a cold instance must not spend it.
    const client = await this.connected();
    // One of this class's in-flight slots (ACS_MAX_CONCURRENCY), waited for at most ACS_TIMEOUT_MS.
    const release = await this.gate.acquire(operationClass, this.timeoutMs);
    try {
      return await this.attempts(facts, repeatability, operationClass, client, operation);
    } finally {
      release();
    }
  }

  private async attempts<T>(
    facts: AcsCallTally,
    repeatability: Repeatability,
    operationClass: AcsOperationClass,
    client: CommunicationIdentityClient,
    operation: (client: CommunicationIdentityClient, signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const deadline = this.now() + this.timeoutMs;
    const signal = AbortSignal.timeout(this.timeoutMs);
    this.budget.recordCall();
    for (let attempt = 0; ; attempt++) {
      // Never into a window ACS has said it refuses, first attempts and retries alike.
      this.gate.check(operationClass);
      const started = performance.now();
      try {
        const result = await operation(client, signal);
        recordAcsCall(facts, performance.now() - started, attempt > 0);
        return result;
      } catch (err) {
        recordAcsCall(facts, performance.now() - started, attempt > 0);
        // A 429 shuts the class for its Retry-After; the caller, not this request, waits it out.
        const throttled = this.gate.learn(operationClass, err);
        const delay =
          signal.aborted || throttled
            ? undefined
            : retryDelayMs(repeatability, err, attempt, deadline - this.now());
        if (delay !== undefined && this.budget.tryRetry()) {
          await this.sleep(delay);
          continue;
        }
        // ACS may have created an identity we will never hear of: say so, for reconciliation.
        if (repeatability === 'create' && !refusedBeforeProcessing(err)) recordUnknownCreate(facts);
        throw fromAcsError(err, signal.aborted, this.credential);
      }
    }
  }

  /**
   * Readiness: builds the client a token request would use (the SDK and, with a managed
   * identity, @azure/identity and its credential), without an ACS operation. Built once; a
   * failure is retried on the next call. Resolves with the failure instead of throwing.
   */
  async buildFailure(): Promise<unknown> {
    try {
      await this.connected();
      return undefined;
    } catch (err) {
      return underlyingFailure(err);
    }
  }

  private async connected(): Promise<CommunicationIdentityClient> {
    this.client ??= this.connect().catch((err: unknown) => {
      this.client = undefined; // let the next request try again
      throw err;
    });
    try {
      return await this.client;
    } catch (err) {
      throw fromAcsError(err, false, this.credential);
    }
  }
}
