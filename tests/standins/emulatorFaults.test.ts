import {
  acsError,
  API,
  emu,
  failure,
  ID_PATTERN,
  sdk,
  signedFetch,
  useSuiteEmulator,
  ZERO_COUNTS,
} from '../support/emulatorSuite';

useSuiteEmulator();

describe('ACS emulator faults', () => {
  it('answers with the injected status, the ACS error body and Retry-After', async () => {
    emu.setFaults({ errorRate: 1, errorStatus: 429, retryAfterSeconds: 7 });
    const err = await failure(sdk().createUser());
    expect(err.statusCode).toBe(429);
    expect(err.response?.headers.get('retry-after')).toBe('7');
    expect(err.details).toEqual(
      acsError('TooManyRequests', 'Fault injected by the ACS emulator (status 429).'),
    );
    expect(emu.identities()).toEqual([]);
    expect(emu.counts()).toEqual({ ...ZERO_COUNTS, createUser: 1 });
  });

  it('sends no Retry-After with injected statuses other than 429 and 503', async () => {
    emu.setFaults({ errorRate: 1, errorStatus: 500 });
    const err = await failure(sdk().createUser());
    expect(err.statusCode).toBe(500);
    expect(err.response?.headers.get('retry-after')).toBeUndefined();
    expect(err.details).toEqual(
      acsError('InjectedFault', 'Fault injected by the ACS emulator (status 500).'),
    );
  });

  it('drops the connection without creating an identity', async () => {
    emu.setFaults({ dropRate: 1 });
    const err = await failure(sdk().createUserAndToken(['chat']));
    expect(err.statusCode).toBeUndefined();
    expect(err.code).toBe('ECONNRESET');
    expect(emu.identities()).toEqual([]);
    expect(emu.counts()).toEqual({ ...ZERO_COUNTS, createUserAndToken: 1 });
  });

  it('drops the connection after creating the identity', async () => {
    emu.setFaults({ dropAfterCommitRate: 1 });
    const err = await failure(sdk().createUser());
    expect(err.code).toBe('ECONNRESET');
    const identities = emu.identities();
    expect(identities).toHaveLength(1);
    expect(identities[0]?.id).toMatch(ID_PATTERN);
  });

  it('answers with the success status and a body that is not JSON', async () => {
    emu.setFaults({ malformedRate: 1 });
    const err = await failure(sdk().createUser());
    expect([err.statusCode, err.code]).toEqual([201, 'PARSE_ERROR']);
    expect(emu.identities()).toHaveLength(1);
  });

  it('adds latency to every operation', async () => {
    const client = sdk();
    const user = await client.createUser();
    emu.setFaults({ latencyMs: 200 });
    for (const call of [() => client.createUser(), () => client.getToken(user, ['chat'])]) {
      const started = Date.now();
      await call();
      expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    }
  });

  it('applies faults only to the listed operations', async () => {
    const client = sdk();
    // A latency longer than the test may run: were it applied to createUser, the test would fail.
    emu.setFaults({ latencyMs: 10 * 60_000, operations: ['issueAccessToken'] });
    const user = await client.createUser();
    emu.setFaults({ latencyMs: 0, errorRate: 1 });
    const err = await failure(client.getToken(user, ['chat']));
    expect(err.statusCode).toBe(503);
    expect(err.response?.headers.get('retry-after')).toBe('1');
    expect(emu.identities()[0]?.tokensIssued).toBe(0);
  });

  it('does not fault requests that fail authentication', async () => {
    emu.setFaults({ dropRate: 1 });
    const res = await signedFetch('POST', `/identities?${API}`, '{}', { hashOf: 'x' });
    expect(res.status).toBe(401);
  });

  it('rejects invalid fault settings from code', () => {
    expect(() => emu.setFaults({ errorRate: 1.5 })).toThrow(
      "'errorRate' must be a number between 0 and 1.",
    );
  });
});
