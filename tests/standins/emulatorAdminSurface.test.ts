import {
  acsError,
  admin,
  DEFAULT_FAULTS,
  emu,
  introspect,
  sdk,
  useSuiteEmulator,
  ZERO_COUNTS,
} from '../support/emulatorSuite';

useSuiteEmulator();

describe('ACS emulator admin surface', () => {
  it('reports stats', async () => {
    const client = sdk();
    const user = await client.createUser();
    await client.createUserAndToken(['chat']);
    await client.deleteUser(user);
    const res = await admin('GET', '/admin/stats');
    expect(res.status).toBe(200);
    const stats = (await res.json()) as { quotas: Record<string, { admitted: number }> };
    expect(stats).toMatchObject({
      calls: { ...ZERO_COUNTS, createUser: 1, createUserAndToken: 1, deleteIdentity: 1 },
      identities: { total: 2, active: 1, deleted: 1 },
    });
    expect(Object.keys(stats).sort()).toEqual(['calls', 'identities', 'quotas']);
    expect(stats.quotas.createUser?.admitted).toBe(1);
  });

  it('lists identities', async () => {
    const user = await sdk().createUser();
    const res = await admin('GET', '/admin/identities');
    expect(await res.json()).toEqual([
      {
        id: user.communicationUserId,
        createdAt: expect.any(String) as unknown,
        deleted: false,
        tokensIssued: 0,
      },
    ]);
  });

  it('resets counters and faults, and identities only when asked', async () => {
    await sdk().createUser();
    emu.setFaults({ latencyMs: 10 });
    const keep = await admin('POST', '/admin/reset');
    expect(keep.status).toBe(204);
    expect(emu.counts()).toEqual(ZERO_COUNTS);
    expect(emu.faults()).toEqual(DEFAULT_FAULTS);
    expect(emu.identities()).toHaveLength(1);
    expect((await admin('POST', '/admin/reset', { identities: true })).status).toBe(204);
    expect(emu.identities()).toEqual([]);
  });

  it('reads and merges faults', async () => {
    const put = await admin('PUT', '/admin/faults', {
      errorRate: 0.25,
      errorStatus: 429,
      operations: ['createUser'],
    });
    expect(put.status).toBe(200);
    const merged = {
      ...DEFAULT_FAULTS,
      errorRate: 0.25,
      errorStatus: 429,
      operations: ['createUser'],
    };
    expect(await put.json()).toEqual(merged);
    const second = await admin('PUT', '/admin/faults', { latencyMs: 5, operations: null });
    expect(await second.json()).toEqual({
      ...DEFAULT_FAULTS,
      errorRate: 0.25,
      errorStatus: 429,
      latencyMs: 5,
    });
    const get = await admin('GET', '/admin/faults');
    expect(await get.json()).toEqual(emu.faults());
  });

  it.each([
    [{ errorRate: 1.5 }, "'errorRate' must be a number between 0 and 1."],
    [{ dropRate: -1 }, "'dropRate' must be a number between 0 and 1."],
    [{ errorStatus: 600 }, "'errorStatus' must be an integer HTTP status between 100 and 599."],
    [{ errorStatus: 99 }, "'errorStatus' must be an integer HTTP status between 100 and 599."],
    [{ latencyMs: -1 }, "'latencyMs' must be a number >= 0."],
    [{ retryAfterSeconds: 1.5 }, "'retryAfterSeconds' must be an integer >= 0."],
    [{ errorRat: 1 }, "Unknown fault setting 'errorRat'."],
    [
      { operations: ['createUser', 'nope'] },
      "'operations' must be an array of: createUser, createUserAndToken, issueAccessToken, revokeAccessTokens, deleteIdentity, exchangeTeamsToken.",
    ],
    [[], 'The fault configuration must be a JSON object.'],
  ])('rejects the fault patch %j with 400', async (patch, message) => {
    const res = await admin('PUT', '/admin/faults', patch);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual(acsError('ValidationError', message));
    expect(emu.faults()).toEqual(DEFAULT_FAULTS);
  });

  it('introspects garbage as invalid and requires a token', async () => {
    expect(await introspect('abc.def.ghi')).toEqual({ active: false, reason: 'invalid' });
    const res = await admin('POST', '/admin/introspect', {});
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual(
      acsError('ValidationError', "'token' is required and must be a non-empty string."),
    );
  });

  it('publishes one RS256 signing key', async () => {
    const res = await fetch(emu.jwksUrl);
    expect(res.status).toBe(200);
    const jwks = (await res.json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys).toEqual([
      {
        kty: 'RSA',
        n: expect.any(String) as unknown,
        e: 'AQAB',
        kid: expect.any(String) as unknown,
        alg: 'RS256',
        use: 'sig',
      },
    ]);
  });

  it('exposes a connection string made of the endpoint and the access key', () => {
    expect(emu.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(emu.endpoint).toBe(`${emu.url}/`);
    expect(emu.connectionString).toBe(`endpoint=${emu.url}/;accesskey=${emu.accessKey}`);
    expect(Buffer.from(emu.accessKey, 'base64')).toHaveLength(32);
  });
});
