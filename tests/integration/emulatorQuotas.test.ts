import { CommunicationIdentityClient } from '@azure/communication-identity';

import { startEmulator, type RunningEmulator } from '../../dev/emulator';
import { quotasFromEnv } from '../../dev/emulator/quotas';
import { call } from '../support/http';
import { retryUntilResolved } from '../support/poll';

interface SdkError {
  statusCode?: number;
  code?: string;
  response?: { headers: { get(name: string): string | undefined }; bodyAsText?: string };
}

let emu: RunningEmulator;

beforeAll(async () => {
  // A short window keeps the test quick; the limits are what a test can exhaust in it.
  emu = await startEmulator({
    port: 0,
    quotas: { windowSeconds: 2, limits: { createUserAndToken: 3, issueAccessToken: 2 } },
  });
});
afterAll(() => emu.close());
beforeEach(() => emu.reset({ identities: true }));

const sdk = (connectionString = emu.connectionString) =>
  new CommunicationIdentityClient(connectionString, {
    allowInsecureConnection: true,
    retryOptions: { maxRetries: 0 },
  });

async function failure(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (err) {
    return err as SdkError;
  }
  throw new Error('expected the call to fail');
}

const introspect = async (token: string) =>
  (await call(`${emu.url}/admin/introspect`, { method: 'POST', json: { token } })).json as {
    active: boolean;
    reason?: string;
  };

describe('ACS quotas in the emulator', () => {
  it('enforces the Identity table by default, per 30 s', async () => {
    const real = await startEmulator({ port: 0 });
    try {
      const stats = real.quotaStats();
      expect(stats.createUserAndToken).toMatchObject({ limit: 1000, windowSeconds: 30 });
      expect(stats.issueAccessToken.limit).toBe(1000);
      expect(stats.createUser.limit).toBe(1000);
      expect(stats.deleteIdentity.limit).toBe(500);
      expect(stats.revokeAccessTokens.limit).toBe(500);
      expect(stats.exchangeTeamsToken.limit).toBe(500);
    } finally {
      await real.close();
    }
  });

  it('answers 429 with ACS error body and Retry-After past the limit, then admits again', async () => {
    const client = sdk();
    for (let i = 0; i < 3; i++) await client.createUserAndToken(['voip']);
    const err = await failure(client.createUserAndToken(['voip']));
    expect(err.statusCode).toBe(429);
    expect(err.code).toBe('TooManyRequests');
    const retryAfter = Number(err.response?.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(2);
    // Other operations have windows of their own.
    await expect(client.createUser()).resolves.toBeDefined();
    const stats = emu.quotaStats().createUserAndToken;
    expect(stats).toMatchObject({ admitted: 3, throttled: 1 });
    await retryUntilResolved(() => client.createUserAndToken(['voip']));
    expect(emu.quotaStats().createUserAndToken.admitted).toBe(4);
  });

  it('reports admitted and throttled calls per operation on /admin/stats', async () => {
    const client = sdk();
    const { user } = await client.createUserAndToken(['chat']);
    await client.getToken(user, ['chat']);
    await client.getToken(user, ['chat']);
    expect((await failure(client.getToken(user, ['chat']))).statusCode).toBe(429);
    const stats = (await call(`${emu.url}/admin/stats`)).json as {
      quotas: Record<string, { admitted: number; throttled: number; limit: number }>;
    };
    expect(stats.quotas.issueAccessToken).toMatchObject({ admitted: 2, throttled: 1, limit: 2 });
    expect(stats.quotas.createUserAndToken).toMatchObject({ admitted: 1, throttled: 0 });
  });

  it('takes lower limits from the admin API and from the environment', async () => {
    const put = await call(`${emu.url}/admin/quotas`, {
      method: 'PUT',
      json: { limits: { revokeAccessTokens: 1 } },
    });
    expect(put.status).toBe(200);
    const client = sdk();
    const user = await client.createUser();
    await client.revokeTokens(user);
    expect((await failure(client.revokeTokens(user))).statusCode).toBe(429);
    const bad = await call(`${emu.url}/admin/quotas`, {
      method: 'PUT',
      json: { limits: { x: 1 } },
    });
    expect(bad.status).toBe(400);
    emu.setQuotas({ limits: { revokeAccessTokens: 500 } });

    expect(
      quotasFromEnv({
        ACS_EMULATOR_QUOTA_WINDOW_SECONDS: '2',
        ACS_EMULATOR_QUOTA_LIMITS: 'createUserAndToken=5',
      }),
    ).toEqual({ windowSeconds: 2, limits: { createUserAndToken: 5 } });
    expect(quotasFromEnv({ ACS_EMULATOR_QUOTAS: 'off' })).toEqual({ enabled: false });
    expect(typeof quotasFromEnv({ ACS_EMULATOR_QUOTA_LIMITS: 'nope=x' })).toBe('string');
  });
});

describe('access keys and their rotation', () => {
  beforeAll(() => emu.setQuotas({ enabled: false }));
  afterAll(() => emu.setQuotas({ enabled: true }));

  it('signs with either key; a regenerated key gets 401 and its tokens are revoked', async () => {
    const before = emu.keys();
    const viaPrimary = await sdk(before.primaryConnectionString).createUserAndToken(['voip']);
    const viaSecondary = await sdk(before.secondaryConnectionString).getToken(viaPrimary.user, [
      'voip',
    ]);
    expect(await introspect(viaPrimary.token)).toMatchObject({ active: true });

    const regenerated = await call(`${emu.url}/admin/keys/regenerate`, {
      method: 'POST',
      json: { keyType: 'Primary' },
    });
    expect(regenerated.status).toBe(200);
    const after = regenerated.json as typeof before;
    expect(after.primaryKey).not.toBe(before.primaryKey);
    expect(after.secondaryKey).toBe(before.secondaryKey);
    expect(emu.connectionString).toBe(after.primaryConnectionString);

    const refused = await failure(sdk(before.primaryConnectionString).createUser());
    expect(refused.statusCode).toBe(401);
    expect(await introspect(viaPrimary.token)).toEqual(
      expect.objectContaining({ active: false, reason: 'revoked' }),
    );
    // The secondary did not change: what it issued stands, and it still signs.
    expect(await introspect(viaSecondary.token)).toMatchObject({ active: true });
    await sdk(after.secondaryConnectionString).getToken(viaPrimary.user, ['voip']);
    const fresh = await sdk(after.primaryConnectionString).getToken(viaPrimary.user, ['voip']);
    expect(await introspect(fresh.token)).toMatchObject({ active: true });

    const bad = await call(`${emu.url}/admin/keys/regenerate`, { method: 'POST', json: {} });
    expect(bad.status).toBe(400);
  });
});
