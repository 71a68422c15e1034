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

describe('ACS emulator authentication', () => {
  it('accepts a request signed by hand with the documented scheme', async () => {
    const res = await signedFetch('POST', `/identities?${API}`, '{}');
    expect(res.status).toBe(201);
    const body = (await res.json()) as { identity: { id: string } };
    expect(body.identity.id).toMatch(ID_PATTERN);
  });

  it('accepts a date 14 minutes off', async () => {
    const date = new Date(Date.now() - 14 * 60 * 1000);
    expect((await signedFetch('POST', `/identities?${API}`, '{}', { date })).status).toBe(201);
  });

  it('rejects a client with the wrong access key with 401 and counts it as rejected', async () => {
    const wrongKey = Buffer.alloc(32, 7).toString('base64');
    const err = await failure(sdk(`endpoint=${emu.endpoint};accesskey=${wrongKey}`).createUser());
    expect(err.statusCode).toBe(401);
    expect(err.details).toEqual(
      acsError('Denied', 'Denied by the resource provider: the HMAC signature does not match.'),
    );
    expect(emu.counts()).toEqual({ ...ZERO_COUNTS, rejected: 1 });
    expect(emu.identities()).toEqual([]);
  });

  it.each([
    [
      'a body that does not match its hash',
      { hashOf: '{}' },
      'x-ms-content-sha256 does not match the request body.',
    ],
    [
      'a date 16 minutes old',
      { date: new Date(Date.now() - 16 * 60 * 1000) },
      'x-ms-date is more than 15 minutes away from the server clock.',
    ],
    [
      'a bearer token',
      { authorization: 'Bearer abc' },
      'bearer tokens are not supported by the emulator; sign with the access key.',
    ],
    [
      'other signed headers',
      { authorization: 'HMAC-SHA256 SignedHeaders=host&Signature=abc' },
      "SignedHeaders must be 'x-ms-date;host;x-ms-content-sha256'.",
    ],
  ])('rejects %s with 401', async (_name, opts, reason) => {
    const body = JSON.stringify({ createTokenWithScopes: ['chat'] });
    const res = await signedFetch('POST', `/identities?${API}`, body, opts);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual(
      acsError('Denied', `Denied by the resource provider: ${reason}`),
    );
    expect(emu.counts()).toEqual({ ...ZERO_COUNTS, rejected: 1 });
    expect(emu.identities()).toEqual([]);
  });

  it('rejects a request without an Authorization header', async () => {
    const res = await fetch(`${emu.url}/identities?${API}`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual(
      acsError('Denied', 'Denied by the resource provider: the Authorization header is missing.'),
    );
  });
});
