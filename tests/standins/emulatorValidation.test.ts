import {
  acsError,
  API,
  decodeClaims,
  emu,
  failure,
  sdk,
  signedFetch,
  TEAMS_APP_ID,
  TEAMS_USER_ID,
  useSuiteEmulator,
} from '../support/emulatorSuite';

useSuiteEmulator();

describe('ACS emulator validation', () => {
  const scopeMessage = (scope: string): string =>
    `Scope "${scope}" is not valid; use chat, voip, chat.join, chat.join.limited, voip.join.`;
  const expiryMessage = "'expiresInMinutes' must be an integer between 60 and 1440.";

  it.each([
    ['an empty scope list', [], "'scopes' must be a non-empty array of scopes."],
    ['an unknown scope', ['chat', 'admin'], scopeMessage('admin')],
    ['a repeated scope', ['chat', 'chat'], "Scope 'chat' is listed more than once."],
  ])('returns 400 for %s', async (_name, scopes, message) => {
    const client = sdk();
    const user = await client.createUser();
    const err = await failure(client.getToken(user, scopes as never));
    expect(err.statusCode).toBe(400);
    expect(err.details).toEqual(acsError('ValidationError', message));
  });

  it.each([59, 1441])('returns 400 for a token lifetime of %i minutes', async (minutes) => {
    const client = sdk();
    const user = await client.createUser();
    const err = await failure(client.getToken(user, ['chat'], { tokenExpiresInMinutes: minutes }));
    expect(err.statusCode).toBe(400);
    expect(err.details).toEqual(acsError('ValidationError', expiryMessage));
    const both = await failure(
      client.createUserAndToken(['chat'], { tokenExpiresInMinutes: minutes }),
    );
    expect([both.statusCode, both.details]).toEqual([
      400,
      acsError('ValidationError', expiryMessage),
    ]);
  });

  it('accepts the lifetime bounds 60 and 1440', async () => {
    const client = sdk();
    const user = await client.createUser();
    for (const minutes of [60, 1440]) {
      const token = await client.getToken(user, ['chat'], { tokenExpiresInMinutes: minutes });
      const claims = decodeClaims(token.token);
      expect(claims.exp - claims.iat).toBe(minutes * 60);
    }
  });

  it.each([
    ['an empty appId', { token: 't', appId: '', userId: TEAMS_USER_ID }, 'AppId', 'appId'],
    [
      'a userId that is no GUID',
      { token: 't', appId: TEAMS_APP_ID, userId: 'u' },
      'UserId',
      'userId',
    ],
  ])(
    'returns 400 ValidationError for a Teams exchange with %s',
    async (_name, body, name, target) => {
      // As ACS answers in the SDK's recorded sessions (get_token_for_teams_user_playbacklive).
      const res = await signedFetch(
        'POST',
        `/teamsUser/:exchangeAccessToken?${API}`,
        JSON.stringify(body),
      );
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        error: { code: 'ValidationError', message: `Provided ${name} has invalid format.`, target },
      });
    },
  );

  it.each([
    ['missing', '', "The query parameter 'api-version' is required; use 2023-10-01."],
    [
      'unsupported',
      '?api-version=2021-03-07',
      "The api-version '2021-03-07' is not supported; use 2023-10-01.",
    ],
  ])('returns 400 when the api-version is %s', async (_name, query, message) => {
    const res = await signedFetch('POST', `/identities${query}`, '{}');
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual(acsError('UnsupportedApiVersion', message));
    expect(emu.identities()).toEqual([]);
  });

  it('returns 400 for a body that is not JSON', async () => {
    const res = await signedFetch('POST', `/identities?${API}`, '{"createTokenWithScopes":');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual(
      acsError('InvalidRequestBody', 'The request body is not valid JSON.'),
    );
  });

  it('returns 404 for an unknown path and 405 for a wrong method', async () => {
    const unknown = await signedFetch('POST', `/users?${API}`, '{}');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual(acsError('NotFound', "No resource at '/users'."));

    const wrong = await signedFetch('GET', `/identities?${API}`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect(await wrong.json()).toEqual(
      acsError('MethodNotAllowed', 'Method GET is not allowed here.'),
    );
  });

  it('returns 413 for a body over 1 MiB', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(1024 * 1024) });
    const res = await signedFetch('POST', `/identities?${API}`, big);
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual(
      acsError('PayloadTooLarge', 'The request body exceeds 1048576 bytes.'),
    );
  });
});
