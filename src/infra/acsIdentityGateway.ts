import type { CommunicationIdentityClient } from '@azure/communication-identity';
import type { AcsConnection } from '../config';
import { isLoopback } from '../config';
import type { AcsScope } from '../contracts/token';
import type { AccessToken, IdentityService, IssuedIdentity } from '../domain/identityService';
import { fromAcsError } from './acsErrors';

/**
 * Builds the ACS client the way production needs it. Retries are off: a retried
 * `createUserAndToken` whose first attempt reached ACS would leave an orphaned identity, and the
 * SDK's throttling retry would hold the caller for the whole `Retry-After`.
 */
export async function createIdentityClient(
  acs: AcsConnection,
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
  // Loaded only here: @azure/identity is slow to import and most local runs never need it.
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new CommunicationIdentityClient(acs.endpoint.href, new DefaultAzureCredential(), options);
}

/**
 * `IdentityService` over the real ACS client: one client per process, created on first use,
 * a deadline on every call and every failure translated by `fromAcsError`.
 */
export class AcsIdentityGateway implements IdentityService {
  private client: Promise<CommunicationIdentityClient> | undefined;

  constructor(
    private readonly connect: () => Promise<CommunicationIdentityClient>,
    private readonly timeoutMs: number,
  ) {}

  async createUserAndToken(scopes: AcsScope[], expiresInMinutes: number): Promise<IssuedIdentity> {
    const result = await this.call((client, abortSignal) =>
      client.createUserAndToken(scopes, { tokenExpiresInMinutes: expiresInMinutes, abortSignal }),
    );
    return {
      communicationUserId: result.user.communicationUserId,
      accessToken: { token: result.token, expiresOn: result.expiresOn },
    };
  }

  async getToken(id: string, scopes: AcsScope[], expiresInMinutes: number): Promise<AccessToken> {
    const result = await this.call((client, abortSignal) =>
      client.getToken({ communicationUserId: id }, scopes, {
        tokenExpiresInMinutes: expiresInMinutes,
        abortSignal,
      }),
    );
    return { token: result.token, expiresOn: result.expiresOn };
  }

  async revokeTokens(id: string): Promise<void> {
    await this.call((client, abortSignal) =>
      client.revokeTokens({ communicationUserId: id }, { abortSignal }),
    );
  }

  async deleteUser(id: string): Promise<void> {
    await this.call((client, abortSignal) =>
      client.deleteUser({ communicationUserId: id }, { abortSignal }),
    );
  }

  private async call<T>(
    operation: (client: CommunicationIdentityClient, signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      this.client ??= this.connect().catch((err: unknown) => {
        this.client = undefined; // let the next request try again
        throw err;
      });
      return await operation(await this.client, signal);
    } catch (err) {
      throw fromAcsError(err, signal.aborted);
    }
  }
}
