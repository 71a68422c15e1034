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
  /** ACS's ValidationError, which names the field it is about in `target`. */
  const fieldError = (message: string, target: string) => ({
    error: { code: 'ValidationError', message, target },
  });

  it.each([
    // As recorded: ..._error_cases_/recording_throws_an_error_when_attempting_to_issue_a_token_without_any_scopes.json
    ['an empty scope list', [], 'Invalid scopes - Scopes field is required.'],
    ['an unknown scope', ['chat', 'admin'], scopeMessage('admin')],
    ['a repeated scope', ['chat', 'chat'], "Scope 'chat' is listed more than once."],
  ])('returns 400 for %s, with target scopes', async (_name, scopes, message) => {
    const client = sdk();
    const user = await client.createUser();
    const err = await failure(client.getToken(user, scopes as never));
    expect(err.statusCode).toBe(400);
    expect(err.details).toEqual(fieldError(message, 'scopes'));
  });

  it.each([59, 1441])(
    'returns 400 for a token lifetime of %i minutes, with target ExpiresInMinutes',
    async (minutes) => {
      // As recorded: ..._error_cases_/recording_throws_an_error_when_attempting_to_issue_a_token_with_{min,max}_invalid_expiration.json
      const expected = fieldError(
        `ExpiresInMinutes value ${minutes} is invalid.`,
        'ExpiresInMinutes',
      );
      const client = sdk();
      const user = await client.createUser();
      const err = await failure(
        client.getToken(user, ['chat'], { tokenExpiresInMinutes: minutes }),
      );
      expect(err.statusCode).toBe(400);
      expect(err.details).toEqual(expected);
      const both = await failure(
        client.createUserAndToken(['chat'], { tokenExpiresInMinutes: minutes }),
      );
      expect([both.statusCode, both.details]).toEqual([400, expected]);
    },
  );

  it('labels 2xx JSON with charset=utf-8 and errors without, as ACS does', async () => {
    // recording_successfully_gets_a_token_with_max_valid_custom_expiration.json (201, 200) and
    // the error-case recordings (400).
    const created = await signedFetch('POST', `/identities?${API}`, '{}');
    expect(created.status).toBe(201);
    expect(created.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const { identity } = (await created.json()) as { identity: { id: string } };
    const issued = await signedFetch(
      'POST',
      `/identities/${encodeURIComponent(identity.id)}/:issueAccessToken?${API}`,
      JSON.stringify({ scopes: ['chat'], expiresInMinutes: 1440 }),
    );
    expect(issued.status).toBe(200);
    expect(issued.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = (await issued.json()) as { expiresOn: string; token: string };
    // Seven fractional digits and +00:00, as in the same recording ("2022-09-08T13:34:55.6279516+00:00").
    expect(body.expiresOn).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}\+00:00$/);
    expect(Date.parse(body.expiresOn)).toBe(decodeClaims(body.token).exp * 1000);
    const refused = await signedFetch(
      'POST',
      `/identities/${encodeURIComponent(identity.id)}/:issueAccessToken?${API}`,
      JSON.stringify({ scopes: [] }),
    );
    expect(refused.status).toBe(400);
    expect(refused.headers.get('content-type')).toBe('application/json');
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
