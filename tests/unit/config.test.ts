import { ConfigError, loadConfig } from '../../src/config';

const KEY = Buffer.alloc(32, 7).toString('base64');
const CS = `endpoint=https://contoso.communication.azure.com/;accesskey=${KEY}`;

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({ ACS_CONNECTION_STRING: CS });
    expect(config).toEqual({
      authMode: 'key',
      azureCredential: { kind: 'managedIdentity', clientId: undefined },
      corsAllowedOrigins: [],
      tokenCacheKey: undefined,
      tokenCacheEpoch: '',
      acsMaxConcurrency: 32,
      tokenCacheLocalSeconds: 30,
      rateLimits: {
        principal: { perMinute: 30, burst: 60 },
        key: { perMinute: 1200, burst: 300 },
      },
      identityMap: undefined,
      oidc: undefined,
      easyAuthProof: undefined,
      rolePolicy: undefined,
      acs: {
        kind: 'connectionString',
        endpoint: new URL('https://contoso.communication.azure.com/'),
        connectionString: CS,
      },
      allowedScopes: ['chat', 'voip', 'chat.join', 'chat.join.limited', 'voip.join'],
      defaultScopes: ['voip'],
      defaultExpiryMinutes: 60,
      maxExpiryMinutes: 1440,
      acsTimeoutMs: 10_000,
    });
  });

  it('uses managed identity when only ACS_ENDPOINT is set', () => {
    const config = loadConfig({ ACS_ENDPOINT: 'https://contoso.communication.azure.com' });
    expect(config.acs).toEqual({
      kind: 'managedIdentity',
      endpoint: new URL('https://contoso.communication.azure.com/'),
    });
  });

  it('treats empty settings as unset', () => {
    const config = loadConfig({ ACS_CONNECTION_STRING: CS, ACS_ENDPOINT: '', DEFAULT_SCOPES: ' ' });
    expect(config.acs.kind).toBe('connectionString');
    expect(config.defaultScopes).toEqual(['voip']);
  });

  it('requires one way to reach ACS', () => {
    expect(problemsOf({})).toEqual([
      'ACS_CONNECTION_STRING or ACS_ENDPOINT: one is required (ACS_ENDPOINT uses managed identity)',
    ]);
  });

  it('refuses both ACS settings at once', () => {
    expect(
      problemsOf({ ACS_CONNECTION_STRING: CS, ACS_ENDPOINT: 'https://x.communication.azure.com' }),
    ).toEqual(['ACS_CONNECTION_STRING and ACS_ENDPOINT: set one, not both']);
  });

  it('accepts http:// only for loopback endpoints', () => {
    expect(loadConfig({ ACS_ENDPOINT: 'http://127.0.0.1:7090/' }).acs.endpoint.port).toBe('7090');
    expect(loadConfig({ ACS_ENDPOINT: 'http://localhost:7090/' }).acs.kind).toBe('managedIdentity');
    expect(problemsOf({ ACS_ENDPOINT: 'http://acs.example.com/' })).toEqual([
      'ACS_ENDPOINT: must be https:// (http:// is accepted only for localhost emulators)',
    ]);
    expect(
      problemsOf({ ACS_CONNECTION_STRING: `endpoint=http://10.0.0.5/;accesskey=${KEY}` }),
    ).toEqual([
      'ACS_CONNECTION_STRING: endpoint must be https:// (http:// is accepted only for localhost emulators)',
    ]);
  });

  it('never echoes a secret in its messages', () => {
    const secret = 'c2VjcmV0'; // too short to be a key
    const problems = problemsOf({
      ACS_CONNECTION_STRING: `endpoint=https://x.communication.azure.com/;accesskey=${secret}`,
    });
    expect(problems).toEqual(['ACS_CONNECTION_STRING: accesskey must be base64']);
    expect(problems.join()).not.toContain(secret);
    const garbage = 'Password=hunter2;Server=x';
    const more = problemsOf({ ACS_CONNECTION_STRING: garbage });
    expect(more).toEqual(['ACS_CONNECTION_STRING: must look like endpoint=https://…;accesskey=…']);
    expect(more.join()).not.toContain('hunter2');
  });

  it('validates scope lists and their relation', () => {
    expect(problemsOf({ ACS_CONNECTION_STRING: CS, ALLOWED_SCOPES: 'chat,video' })).toEqual([
      'ALLOWED_SCOPES: must be a comma-separated list of chat, voip, chat.join, chat.join.limited, voip.join (unknown: video)',
    ]);
    expect(problemsOf({ ACS_CONNECTION_STRING: CS, ALLOWED_SCOPES: 'chat' })).toEqual([
      'DEFAULT_SCOPES: voip not in ALLOWED_SCOPES',
    ]);
    expect(
      loadConfig({ ACS_CONNECTION_STRING: CS, ALLOWED_SCOPES: ' chat , chat,voip ' }).allowedScopes,
    ).toEqual(['chat', 'voip']);
  });

  it('validates expiry settings', () => {
    expect(problemsOf({ ACS_CONNECTION_STRING: CS, MAX_TOKEN_EXPIRY_MINUTES: '30' })).toEqual([
      'MAX_TOKEN_EXPIRY_MINUTES: must be a whole number from 60 to 1440',
    ]);
    expect(problemsOf({ ACS_CONNECTION_STRING: CS, DEFAULT_TOKEN_EXPIRY_MINUTES: '1.5' })).toEqual([
      'DEFAULT_TOKEN_EXPIRY_MINUTES: must be a whole number from 60 to 1440',
    ]);
    expect(
      problemsOf({
        ACS_CONNECTION_STRING: CS,
        DEFAULT_TOKEN_EXPIRY_MINUTES: '120',
        MAX_TOKEN_EXPIRY_MINUTES: '90',
      }),
    ).toEqual(['DEFAULT_TOKEN_EXPIRY_MINUTES: must not exceed MAX_TOKEN_EXPIRY_MINUTES']);
    expect(problemsOf({ ACS_CONNECTION_STRING: CS, ACS_TIMEOUT_MS: 'soon' })).toEqual([
      'ACS_TIMEOUT_MS: must be a whole number from 100 to 120000',
    ]);
  });

  it('bounds TOKEN_CACHE_LOCAL_SECONDS (0 turns the in-process layer off)', () => {
    expect(loadConfig({ ACS_CONNECTION_STRING: CS, TOKEN_CACHE_LOCAL_SECONDS: '0' })).toMatchObject(
      { tokenCacheLocalSeconds: 0 },
    );
    expect(problemsOf({ ACS_CONNECTION_STRING: CS, TOKEN_CACHE_LOCAL_SECONDS: '301' })).toEqual([
      'TOKEN_CACHE_LOCAL_SECONDS: must be a whole number from 0 to 300',
    ]);
  });

  it('names every bad setting in one error', () => {
    const err = (() => {
      try {
        loadConfig({ ALLOWED_SCOPES: 'x', ACS_TIMEOUT_MS: '5' });
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(err?.message).toContain('ALLOWED_SCOPES');
    expect(err?.message).toContain('ACS_TIMEOUT_MS');
  });

  describe('easyauth mode', () => {
    const base = {
      ACS_CONNECTION_STRING: CS,
      AUTH_MODE: 'easyauth',
      WEBSITE_AUTH_ENABLED: 'True',
      IDENTITY_MAP_CONNECTION: 'UseDevelopmentStorage=true',
    };

    it('needs the platform to report Easy Auth on and an identity map', () => {
      expect(problemsOf({ ACS_CONNECTION_STRING: CS, AUTH_MODE: 'easyauth' })).toEqual([
        'AUTH_MODE: easyauth needs App Service Authentication switched on (WEBSITE_AUTH_ENABLED is not true)',
        'IDENTITY_MAP_CONNECTION or IDENTITY_MAP_ENDPOINT: required when AUTH_MODE is easyauth',
      ]);
      expect(problemsOf({ ...base, WEBSITE_AUTH_ENABLED: 'false' })).toHaveLength(1);
    });

    it('asks for an Entra token per principal with EASY_AUTH_TOKEN_ISSUER and _AUDIENCE', () => {
      const issuer = 'https://login.microsoftonline.com/00000000-0000-0000-0000-0000000000b2/v2.0';
      expect(loadConfig(base).easyAuthProof).toBeUndefined();
      expect(
        loadConfig({
          ...base,
          EASY_AUTH_TOKEN_ISSUER: issuer,
          EASY_AUTH_TOKEN_AUDIENCE: ' c11e , api://c11e,c11e',
        }).easyAuthProof,
      ).toEqual({
        issuer,
        audiences: ['c11e', 'api://c11e'],
        jwksUri: undefined,
        algorithms: ['RS256'],
        rolesClaim: 'roles',
        clockSkewSeconds: 60,
      });
      expect(problemsOf({ ...base, EASY_AUTH_TOKEN_ISSUER: issuer })).toEqual([
        "EASY_AUTH_TOKEN_AUDIENCE: required with EASY_AUTH_TOKEN_ISSUER (the Entra app registration's client ID)",
      ]);
      expect(problemsOf({ ...base, EASY_AUTH_TOKEN_AUDIENCE: 'c11e' })).toEqual([
        'EASY_AUTH_TOKEN_AUDIENCE: only used with EASY_AUTH_TOKEN_ISSUER',
      ]);
      expect(
        problemsOf({
          ...base,
          EASY_AUTH_TOKEN_ISSUER: 'http://login.example.com',
          EASY_AUTH_TOKEN_AUDIENCE: 'a',
        }),
      ).toEqual([
        'EASY_AUTH_TOKEN_ISSUER: must be https:// (http:// is accepted only for localhost emulators)',
      ]);
      expect(
        problemsOf({
          ACS_CONNECTION_STRING: CS,
          EASY_AUTH_TOKEN_ISSUER: issuer,
          EASY_AUTH_TOKEN_AUDIENCE: 'a',
        }),
      ).toEqual([
        'EASY_AUTH_TOKEN_ISSUER, EASY_AUTH_TOKEN_AUDIENCE: only used when AUTH_MODE is easyauth',
      ]);
    });

    it('parses the identity map connection and table', () => {
      expect(loadConfig(base).identityMap).toEqual({
        kind: 'connectionString',
        connectionString: 'UseDevelopmentStorage=true',
        table: 'acsidentities',
      });
      const viaIdentity = loadConfig({
        ...base,
        IDENTITY_MAP_CONNECTION: '',
        IDENTITY_MAP_ENDPOINT: 'https://acct.table.core.windows.net',
        IDENTITY_MAP_TABLE: 'tokens2',
      });
      expect(viaIdentity.identityMap).toEqual({
        kind: 'managedIdentity',
        endpoint: new URL('https://acct.table.core.windows.net/'),
        table: 'tokens2',
      });
    });

    it('refuses a bad storage connection without echoing it', () => {
      const problems = problemsOf({ ...base, IDENTITY_MAP_CONNECTION: 'Password=hunter2' });
      expect(problems).toEqual([
        'IDENTITY_MAP_CONNECTION: must be a storage connection string (AccountName=…;AccountKey=… or UseDevelopmentStorage=true)',
      ]);
    });

    it('refuses an unknown AUTH_MODE', () => {
      expect(problemsOf({ ACS_CONNECTION_STRING: CS, AUTH_MODE: 'open' })).toEqual([
        'AUTH_MODE: must be key, easyauth or jwt',
      ]);
    });

    it('parses TOKEN_POLICY with defaults filled in', () => {
      const config = loadConfig({
        ...base,
        TOKEN_POLICY: JSON.stringify({
          roles: {
            guest: { scopes: ['chat.join.limited', 'voip.join'], maxExpiryMinutes: 60 },
            member: { scopes: ['chat', 'voip'], defaultScopes: ['voip'] },
          },
        }),
      });
      expect(config.rolePolicy).toEqual({
        guest: {
          scopes: ['chat.join.limited', 'voip.join'],
          defaultScopes: ['chat.join.limited', 'voip.join'],
          maxExpiryMinutes: 60,
        },
        member: { scopes: ['chat', 'voip'], defaultScopes: ['voip'], maxExpiryMinutes: 1440 },
      });
    });

    it.each([
      ['not json', 'TOKEN_POLICY: must be JSON'],
      [
        '{"roles":{"guest":{"scopes":["video"]}}}',
        'TOKEN_POLICY: roles.guest.scopes.0: unknown scope "video"; allowed: chat, voip',
      ],
      [
        '{"roles":{"guest":{"scopes":["voip"],"maxExpiryMinutes":5}}}',
        'TOKEN_POLICY: roles.guest.maxExpiryMinutes',
      ],
      [
        '{"roles":{"guest":{"scopes":["voip"],"defaultScopes":["chat"]}}}',
        'TOKEN_POLICY: role guest has defaultScopes outside its scopes',
      ],
    ])('refuses TOKEN_POLICY %s', (value, message) => {
      expect(problemsOf({ ...base, TOKEN_POLICY: value }).join()).toContain(message);
    });

    it('refuses a role granting a scope outside ALLOWED_SCOPES', () => {
      expect(
        problemsOf({
          ...base,
          ALLOWED_SCOPES: 'voip',
          TOKEN_POLICY: '{"roles":{"member":{"scopes":["chat","voip"]}}}',
        }),
      ).toEqual(['TOKEN_POLICY: role member names chat, not in ALLOWED_SCOPES']);
    });

    it('refuses TOKEN_POLICY in key mode', () => {
      expect(
        problemsOf({
          ACS_CONNECTION_STRING: CS,
          TOKEN_POLICY: '{"roles":{"m":{"scopes":["voip"]}}}',
        }),
      ).toEqual([
        'TOKEN_POLICY: roles come from Easy Auth or bearer tokens; it needs AUTH_MODE=easyauth or jwt',
      ]);
    });
  });

  describe('jwt mode', () => {
    const base = {
      ACS_CONNECTION_STRING: CS,
      AUTH_MODE: 'jwt',
      OIDC_ISSUER: 'https://login.example.com/tenant/v2.0',
      OIDC_AUDIENCE: 'api://acs-token-service',
      IDENTITY_MAP_CONNECTION: 'UseDevelopmentStorage=true',
    };

    it('applies the documented defaults and keeps the issuer exactly as written', () => {
      const config = loadConfig({ ...base, OIDC_ISSUER: 'https://issuer.example.com' });
      expect(config.oidc).toEqual({
        issuer: 'https://issuer.example.com',
        audiences: ['api://acs-token-service'],
        jwksUri: undefined,
        algorithms: ['RS256'],
        rolesClaim: 'roles',
        clockSkewSeconds: 60,
      });
      expect(config.identityMap).toMatchObject({ kind: 'connectionString' });
    });

    it('parses every setting', () => {
      const config = loadConfig({
        ...base,
        OIDC_AUDIENCE: 'api://one, api://two,api://one',
        OIDC_JWKS_URI: 'https://login.example.com/keys',
        OIDC_ALGORITHMS: 'RS256,ES256',
        OIDC_ROLES_CLAIM: 'groups',
        OIDC_CLOCK_SKEW_SECONDS: '300',
      });
      expect(config.oidc).toEqual({
        issuer: 'https://login.example.com/tenant/v2.0',
        audiences: ['api://one', 'api://two'],
        jwksUri: new URL('https://login.example.com/keys'),
        algorithms: ['RS256', 'ES256'],
        rolesClaim: 'groups',
        clockSkewSeconds: 300,
      });
    });

    it('needs an issuer, an audience and an identity map', () => {
      expect(problemsOf({ ACS_CONNECTION_STRING: CS, AUTH_MODE: 'jwt' })).toEqual([
        'OIDC_ISSUER: required when AUTH_MODE is jwt',
        'OIDC_AUDIENCE: required when AUTH_MODE is jwt (one or more, comma-separated)',
        'IDENTITY_MAP_CONNECTION or IDENTITY_MAP_ENDPOINT: required when AUTH_MODE is jwt',
      ]);
    });

    it.each([
      ['none', 'none'],
      ['HS256', 'HS256'],
      ['RS256,HS512', 'HS512'],
    ])('never accepts OIDC_ALGORITHMS=%s', (value, refused) => {
      expect(problemsOf({ ...base, OIDC_ALGORITHMS: value })).toEqual([
        `OIDC_ALGORITHMS: must be a comma-separated list of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA; none and HMAC (HS*) are never accepted (refused: ${refused})`,
      ]);
    });

    it.each([
      ['OIDC_CLOCK_SKEW_SECONDS', '301', 'must be a whole number from 0 to 300'],
      ['OIDC_ISSUER', 'http://issuer.example.com', 'must be https://'],
      ['OIDC_JWKS_URI', 'not a url', 'is not a URL'],
    ])('refuses %s=%s', (name, value, message) => {
      expect(problemsOf({ ...base, [name]: value }).join()).toContain(`${name}: ${message}`);
    });

    it('accepts an http issuer on loopback only (the local issuer)', () => {
      expect(loadConfig({ ...base, OIDC_ISSUER: 'http://127.0.0.1:7080' }).oidc?.issuer).toBe(
        'http://127.0.0.1:7080',
      );
    });

    it('takes TOKEN_POLICY roles from the bearer token', () => {
      const config = loadConfig({ ...base, TOKEN_POLICY: '{"roles":{"m":{"scopes":["voip"]}}}' });
      expect(config.rolePolicy).toEqual({
        m: { scopes: ['voip'], defaultScopes: ['voip'], maxExpiryMinutes: 1440 },
      });
    });

    it('refuses OIDC settings outside jwt mode, where they would be silently ignored', () => {
      expect(
        problemsOf({ ACS_CONNECTION_STRING: CS, OIDC_ISSUER: 'https://issuer.example.com' }),
      ).toEqual(['OIDC_ISSUER: only used when AUTH_MODE is jwt']);
    });
  });

  describe('the Entra ID credential (ACS_ENDPOINT, IDENTITY_MAP_ENDPOINT)', () => {
    const mi = { ACS_ENDPOINT: 'https://res.communication.azure.com' };

    it('is the managed identity alone, user-assigned when AZURE_CLIENT_ID names one', () => {
      expect(loadConfig(mi).azureCredential).toEqual({
        kind: 'managedIdentity',
        clientId: undefined,
      });
      const clientId = '5e29463d-71da-4fe0-8e69-999b57db23b0';
      expect(loadConfig({ ...mi, AZURE_CLIENT_ID: clientId }).azureCredential).toEqual({
        kind: 'managedIdentity',
        clientId,
      });
    });

    it('is the DefaultAzureCredential chain AZURE_TOKEN_CREDENTIALS restricts, when set', () => {
      expect(
        loadConfig({ ...mi, AZURE_TOKEN_CREDENTIALS: 'azureclicredential' }).azureCredential,
      ).toEqual({
        kind: 'chain',
        selection: 'AzureCliCredential',
      });
    });

    it.each([
      ['AZURE_TOKEN_CREDENTIALS', 'AzureCli', 'must be one of prod, dev, EnvironmentCredential'],
      ['AZURE_CLIENT_ID', 'my-identity', 'must be the client id (a GUID)'],
    ])('refuses %s=%s at start-up instead of on the first token', (name, value, message) => {
      expect(problemsOf({ ...mi, [name]: value }).join()).toContain(`${name}: ${message}`);
    });
  });
});
