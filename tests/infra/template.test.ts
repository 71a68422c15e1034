import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_INSTANCE_MEMORY_MB, workerNodeOptions } from '../../bench/lib/deployment';
import { loadConfig, SettingsSchema } from '../../src/config';
import { BICEP_VERSION, REPO } from './bicep';
import {
  isExpression,
  ofType,
  only,
  report,
  snapshot,
  snapshotText,
  SNAPSHOT_SCOPE,
  template,
  templateText,
  type Resource,
  type Snapshot,
} from './compiled';

/*
 * infra/ as the Bicep compiler and the ARM engine see it (globalSetup.ts compiles it): the
 * template `bicep build` makes, and for each parameter set in params/ the deployment
 * `bicep snapshot` predicts from it. Nothing here reads Bicep source text.
 */

/** Settings the platform, the Functions host or Easy Auth read; the app's schema does not. */
const PLATFORM_SETTINGS: Record<string, string> = {
  AzureWebJobsStorage__accountName: 'Functions host storage, reached with the managed identity',
  AzureWebJobsStorage__credential: 'makes the host use the managed identity for that account',
  APPLICATIONINSIGHTS_CONNECTION_STRING: 'where the host sends telemetry',
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'telemetry with an Entra token (local auth is off)',
  NODE_OPTIONS: "the worker's heap cap (bench/lib/deployment.ts copies it)",
};

/** SettingsSchema settings infra must never write, and why. */
const NEVER_IN_INFRA: Record<string, string> = {
  WEBSITE_AUTH_ENABLED: 'App Service sets it when authsettingsV2 is on; writing it would fake that',
  ACS_CONNECTION_STRING: 'key-based alternative to ACS_ENDPOINT; Azure uses the managed identity',
  IDENTITY_MAP_CONNECTION: 'key-based alternative to IDENTITY_MAP_ENDPOINT; shared keys are off',
};

/** SettingsSchema settings infra leaves at the app's default on purpose, and why. */
const NOT_IN_INFRA: Record<string, string> = {
  ACS_MAX_CONCURRENCY: "per-instance ACS concurrency; the app's default suits Flex instances",
  AZURE_CLIENT_ID:
    'infra gives the app a system-assigned identity; only a user-assigned one is named',
  AZURE_TOKEN_CREDENTIALS:
    'production uses ManagedIdentityCredential alone; a DefaultAzureCredential chain is opt-in',
  CORS_ALLOWED_ORIGINS: 'the platform writes it from siteConfig.cors',
  TOKEN_CACHE_EPOCH: 'bumped by hand after a key rotation the app cannot see',
  // The identity pool is off unless sized for an event (docs/operations.md): set by hand then.
  POOL_SIZE: 'the identity pool is off by default; sized by hand for an event',
  POOL_QUOTA_SHARE: "the pool's share of ACS's quota; the app's default while the pool is on",
  POOL_SCOPES: "the pool's grant; the app's default (DEFAULT_SCOPES)",
  POOL_SCHEDULE: "the pool filler's schedule; the app's default",
  POOL_TOKEN_EXPIRY_MINUTES: "the pool's token lifetime; the app's default",
  TOKEN_CACHE_LOCAL_SECONDS: "the in-process cache bound; the app's default",
};

/**
 * Which mode reads which setting (src/config.ts): the identity map, roles and the token cache
 * belong to the modes with principals; OIDC_* to jwt alone (the app refuses them elsewhere); the
 * per-key limit to key mode, whose callers are function keys.
 */
const MODE_SETTINGS = {
  all: [
    'ACS_ENDPOINT',
    'AUTH_MODE',
    'ALLOWED_SCOPES',
    'DEFAULT_SCOPES',
    'DEFAULT_TOKEN_EXPIRY_MINUTES',
    'MAX_TOKEN_EXPIRY_MINUTES',
    'ACS_TIMEOUT_MS',
  ],
  key: ['RATE_LIMIT_KEY_PER_MINUTE', 'RATE_LIMIT_KEY_BURST'],
  // Never deployed on Flex Consumption (refused), listed so no mode writes them by mistake.
  easyauth: [
    'IDENTITY_MAP_ENDPOINT',
    'IDENTITY_MAP_TABLE',
    'TOKEN_POLICY',
    'RATE_LIMIT_PER_MINUTE',
    'RATE_LIMIT_BURST',
    'TOKEN_CACHE_KEY',
    'EASY_AUTH_TOKEN_ISSUER',
    'EASY_AUTH_TOKEN_AUDIENCE',
  ],
  jwt: [
    'IDENTITY_MAP_ENDPOINT',
    'IDENTITY_MAP_TABLE',
    'TOKEN_POLICY',
    'RATE_LIMIT_PER_MINUTE',
    'RATE_LIMIT_BURST',
    'TOKEN_CACHE_KEY',
    'OIDC_ISSUER',
    'OIDC_AUDIENCE',
    'OIDC_ALGORITHMS',
    'OIDC_ROLES_CLAIM',
    'OIDC_JWKS_URI',
    'OIDC_CLOCK_SKEW_SECONDS',
  ],
} as const;

const SCHEMA_SETTINGS = Object.keys(SettingsSchema.shape);
type SettingName = keyof typeof SettingsSchema.shape;
const isSchemaSetting = (name: string): name is SettingName => SCHEMA_SETTINGS.includes(name);

/** Built-in role definition ids (the same in every tenant). */
const ROLE = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
};

const SETS = ['defaults', 'jwt-entra', 'jwt-auth0'] as const;
type SetName = (typeof SETS)[number];
const deployments = Object.fromEntries(SETS.map((set) => [set, snapshot(set)])) as Record<
  SetName,
  Snapshot
>;
/** Parameter values of each set, as `bicep build-params` passes them to the deployment. */
function parameterValues(set: SetName): Record<string, unknown> {
  const built = JSON.parse(
    readFileSync(path.join(REPO, '.tools/bicep/compiled', `${set}.build-params.json`), 'utf8'),
  ) as { parametersJson: string };
  const parameters = (
    JSON.parse(built.parametersJson) as { parameters: Record<string, { value: unknown }> }
  ).parameters;
  const defaults = Object.fromEntries(
    Object.entries(template().parameters).map(([name, p]) => [name, p.defaultValue]),
  );
  return {
    ...defaults,
    ...Object.fromEntries(Object.entries(parameters).map(([name, p]) => [name, p.value])),
  };
}

const site = (d: Snapshot) => only(d, 'Microsoft.Web/sites');
const siteProperties = (d: Snapshot) =>
  site(d).properties as {
    httpsOnly: boolean;
    siteConfig: {
      minTlsVersion: string;
      ftpsState: string;
      cors: { allowedOrigins: string[]; supportCredentials: boolean };
    };
    functionAppConfig: {
      runtime: { name: string; version: string };
      scaleAndConcurrency: { instanceMemoryMB: number };
      deployment: { storage: { authentication: { type: string } } };
    };
  };
const appSettingsResource = (d: Snapshot) => only(d, 'Microsoft.Web/sites/config', 'appsettings');
const authSettings = (d: Snapshot) =>
  only(d, 'Microsoft.Web/sites/config', 'authsettingsV2').properties as {
    platform: { enabled: boolean };
    globalValidation?: { requireAuthentication: boolean; unauthenticatedClientAction: string };
    identityProviders?: {
      azureActiveDirectory: {
        enabled: boolean;
        registration: unknown;
        validation: { allowedAudiences: string[] };
      };
    };
  };

/** The app settings of a set, as the engine predicts them (a secure value stays an expression). */
function appSettings(d: Snapshot): Record<string, string> {
  const properties = appSettingsResource(d).properties;
  if (typeof properties !== 'object' || properties === null) {
    throw new Error(`app settings are not resolved: ${String(properties)}`);
  }
  return properties as Record<string, string>;
}

/**
 * Values ARM learns only while deploying, each allowed in exactly one place: the reference to
 * the resource it must come from, and a stand-in of the shape Azure returns, for loadConfig.
 */
function deployTimeValues(d: Snapshot): Map<string, string> {
  const acs = only(d, 'Microsoft.Communication/communicationServices');
  const storage = only(d, 'Microsoft.Storage/storageAccounts');
  const insights = only(d, 'Microsoft.Insights/components');
  return new Map([
    [
      `[format('https://{0}', reference('${acs.id}', '${acs.apiVersion}').hostName)]`,
      `https://${acs.name}.unitedstates.communication.azure.com`,
    ],
    [
      `[reference('${storage.id}', '${storage.apiVersion}').primaryEndpoints.table]`,
      `https://${storage.name}.table.core.windows.net/`,
    ],
    [
      `[reference('${insights.id}', '${insights.apiVersion}').ConnectionString]`,
      'InstrumentationKey=00000000-0000-0000-0000-000000000000',
    ],
    // A secure parameter: the engine never puts its value in a prediction.
    ["[parameters('tokenCacheKey')]", Buffer.alloc(32, 7).toString('base64')],
  ]);
}

/** What the worker's environment holds in Azure for this set: app settings plus the platform's. */
function deployedEnvironment(d: Snapshot): Record<string, string> {
  const known = deployTimeValues(d);
  const env = Object.fromEntries(
    Object.entries(appSettings(d)).map(([name, value]) => {
      if (!isExpression(value)) return [name, value];
      const resolved = known.get(value);
      if (resolved === undefined) throw new Error(`${name}: unexpected expression ${value}`);
      return [name, resolved];
    }),
  );
  if (authSettings(d).platform.enabled) env.WEBSITE_AUTH_ENABLED = 'true';
  return env;
}

describe(`the Bicep compiler (${BICEP_VERSION})`, () => {
  const compiled = report();

  it('built, linted and compiled every parameter set and snapshot', () => {
    expect(compiled.version).toBe(BICEP_VERSION);
    expect([...compiled.sets].sort()).toEqual([...SETS].sort());
    expect(compiled.steps.map((s) => s.name)).toEqual([
      'build',
      'lint',
      ...compiled.sets.flatMap((set) => [`build-params ${set}`, `snapshot ${set}`]),
      ...Object.keys(compiled.refused).map((set) => `build-params refused/${set}`),
    ]);
  });

  it('reports no error, warning or info on any of them', () => {
    expect(compiled.steps.filter((s) => s.diagnostics.length > 0)).toEqual([]);
    for (const set of SETS)
      expect({ set, diagnostics: deployments[set].diagnostics }).toEqual({
        set,
        diagnostics: [],
      });
  });
});

describe('app settings', () => {
  it.each(SETS)(
    '%s: every setting is one the app reads or a documented platform setting',
    (set) => {
      const names = Object.keys(appSettings(deployments[set]));
      const unknown = names.filter((n) => !isSchemaSetting(n) && !(n in PLATFORM_SETTINGS));
      expect(unknown).toEqual([]);
      expect(names.filter((n) => n in NEVER_IN_INFRA)).toEqual([]);
    },
  );

  it('never writes the settings the platform owns or the key-based alternatives', () => {
    expect(Object.keys(NEVER_IN_INFRA).filter((n) => !isSchemaSetting(n))).toEqual([]);
    expect(Object.keys(PLATFORM_SETTINGS).filter(isSchemaSetting)).toEqual([]);
  });

  it('key mode (the default): the app starts with its managed identity and function keys', () => {
    const d = deployments.defaults;
    const config = loadConfig(deployedEnvironment(d));
    expect(config.authMode).toBe('key');
    expect(config.acs).toEqual({
      kind: 'managedIdentity',
      endpoint: new URL(
        `https://${only(d, 'Microsoft.Communication/communicationServices').name}.unitedstates.communication.azure.com`,
      ),
    });
    expect(config.tokenCacheKey).toBeUndefined();
  });

  it('jwt-entra: the app starts in jwt mode for Entra ID, with the identity map, by identity', () => {
    const d = deployments['jwt-entra'];
    const config = loadConfig(deployedEnvironment(d));
    const storage = only(d, 'Microsoft.Storage/storageAccounts');
    expect(config.authMode).toBe('jwt');
    expect(config.oidc).toEqual({
      issuer: 'https://login.microsoftonline.com/00000000-0000-0000-0000-0000000000b2/v2.0',
      audiences: ['00000000-0000-0000-0000-00000000c11e'],
      jwksUri: undefined,
      algorithms: ['RS256'],
      rolesClaim: 'roles',
      clockSkewSeconds: 60,
    });
    expect(config.identityMap).toEqual({
      kind: 'managedIdentity',
      endpoint: new URL(`https://${storage.name}.table.core.windows.net/`),
      table: only(d, 'Microsoft.Storage/storageAccounts/tableServices/tables').name.split('/')[2],
    });
    expect(config.rolePolicy).toEqual({
      guest: { scopes: ['voip.join'], defaultScopes: ['voip.join'], maxExpiryMinutes: 60 },
    });
    expect(config.tokenCacheKey).toBeUndefined();
  });

  it('jwt-auth0: every OIDC parameter reaches the app as written', () => {
    const config = loadConfig(deployedEnvironment(deployments['jwt-auth0']));
    expect(config.oidc).toEqual({
      // Kept exactly, trailing slash and all: a token's iss must equal it.
      issuer: 'https://example-tenant.us.auth0.com/',
      audiences: ['https://api.example.com', 'https://tokens.example.com'],
      jwksUri: new URL('https://example-tenant.us.auth0.com/.well-known/jwks.json'),
      algorithms: ['RS256', 'PS256'],
      rolesClaim: 'https://example.com/roles',
      clockSkewSeconds: 30,
    });
    expect(config.tokenCacheKey?.length).toBe(32);
  });

  it('keeps the token cache key (a secure parameter) out of the predicted deployment', () => {
    const secret = String(parameterValues('jwt-auth0').tokenCacheKey);
    expect(secret.length).toBeGreaterThan(0);
    expect(template().parameters.tokenCacheKey?.type).toBe('securestring');
    expect(appSettings(deployments['jwt-auth0']).TOKEN_CACHE_KEY).toBe(
      "[parameters('tokenCacheKey')]",
    );
    expect(snapshotText('jwt-auth0')).not.toContain(secret);
  });

  it.each(SETS)('%s: writes the settings of its own mode and none of another mode', (set) => {
    const written = Object.keys(appSettings(deployments[set])).filter(isSchemaSetting).sort();
    const mode = loadConfig(deployedEnvironment(deployments[set])).authMode;
    const own: string[] = [...MODE_SETTINGS.all, ...MODE_SETTINGS[mode]].sort();
    expect(written).toEqual(own);
    const others: string[] = (['key', 'jwt', 'easyauth'] as const)
      .filter((m) => m !== mode)
      .flatMap((m): readonly string[] => MODE_SETTINGS[m])
      .filter((name) => !own.includes(name));
    expect({ set, fromOtherModes: written.filter((n) => others.includes(n)) }).toEqual({
      set,
      fromOtherModes: [],
    });
  });

  it('covers both deployable modes and every setting the modes read', () => {
    const modes = SETS.map((set) => loadConfig(deployedEnvironment(deployments[set])).authMode);
    expect([...new Set(modes)].sort()).toEqual(['jwt', 'key']);
    const listed = new Set<string>(Object.values(MODE_SETTINGS).flat());
    const unlisted = SCHEMA_SETTINGS.filter(
      (name) => !listed.has(name) && !(name in NEVER_IN_INFRA) && !(name in NOT_IN_INFRA),
    );
    expect(unlisted).toEqual([]);
  });

  it.each([
    ['defaults', []],
    ['jwt-entra', ['AUTH_MODE', 'OIDC_ISSUER', 'OIDC_AUDIENCE', 'TOKEN_POLICY']],
  ] as const)(
    '%s: each setting not set by the parameters means what the app assumes when it is unset',
    (set, given: readonly string[]) => {
      const settings = appSettings(deployments[set]);
      const resourceBound = new Set(['ACS_ENDPOINT', 'IDENTITY_MAP_ENDPOINT', ...given]);
      const compared = Object.keys(settings).filter(
        (name): name is SettingName => isSchemaSetting(name) && !resourceBound.has(name),
      );
      for (const name of compared) {
        const schema = SettingsSchema.shape[name];
        expect({ name, value: schema.parse(settings[name]) }).toEqual({
          name,
          value: schema.parse(undefined),
        });
      }
      expect(compared.length).toBeGreaterThanOrEqual(8);
    },
  );

  it("azd's main.parameters.json names real parameters, with the template's defaults", () => {
    const file = JSON.parse(
      readFileSync(path.join(REPO, 'infra/main.parameters.json'), 'utf8'),
    ) as {
      parameters: Record<string, { value: unknown }>;
    };
    const parameters = template().parameters;
    const settings = appSettings(deployments.defaults);
    for (const [name, { value }] of Object.entries(file.parameters)) {
      const declared = parameters[name];
      expect({ name, declared: declared !== undefined }).toEqual({ name, declared: true });
      // azd substitutes ${NAME} or ${NAME=default} from the azd environment.
      const match = /^\$\{([A-Z_]+)(?:=(.*))?\}$/.exec(String(value));
      expect({ name, substituted: match !== null }).toEqual({ name, substituted: true });
      const [, variable = '', fallback] = match ?? [];
      if (fallback === undefined || declared?.defaultValue === undefined) continue;
      const typed =
        declared.type === 'int'
          ? Number(fallback)
          : declared.type === 'bool'
            ? fallback === 'true'
            : fallback;
      expect({ name, default: typed }).toEqual({ name, default: declared.defaultValue });
      // An azd variable named after an app setting feeds exactly that setting.
      if (isSchemaSetting(variable) && variable in settings) {
        expect({ variable, setting: settings[variable] }).toEqual({ variable, setting: fallback });
      }
    }
  });
});

describe('Easy Auth (authsettingsV2)', () => {
  it.each(SETS)('%s: is deployed switched off, with no provider and no secret setting', (set) => {
    // Deployed off rather than left out: ARM's incremental mode would keep an earlier "on".
    expect(authSettings(deployments[set])).toEqual({ platform: { enabled: false } });
    expect(appSettings(deployments[set])).not.toHaveProperty(
      'MICROSOFT_PROVIDER_AUTHENTICATION_SECRET',
    );
  });

  it('easyauth mode is refused on Flex Consumption, pointing to jwt mode with Entra ID', () => {
    const said = report().refused['easy-auth'] ?? '';
    expect(said).toContain(
      'authMode easyauth: Flex Consumption is not documented to enforce App Service Authentication (Easy Auth)',
    );
    // The way out names this subscription's own tenant, as the Entra ID issuer form needs it.
    expect(said).toContain(
      `Use authMode jwt with Microsoft Entra ID instead: oidcIssuer the v2.0 issuer of tenant ${SNAPSHOT_SCOPE.tenantId}`,
    );
    expect(said).toContain('docs/platform-parity.md');
  });
});

describe('parameter sets the template refuses', () => {
  const refused = report().refused;

  it('each compiled with build-params, and the ARM engine refused each with its reason', () => {
    expect(Object.keys(refused).sort()).toEqual([
      'easy-auth',
      'jwt-without-audience',
      'key-with-oidc',
    ]);
    const buildParams = report().steps.filter((s) => s.name.startsWith('build-params refused/'));
    expect(buildParams.map((s) => [s.name, s.diagnostics])).toEqual(
      Object.keys(refused)
        .sort()
        .map((set) => [`build-params refused/${set}`, []]),
    );
  });

  it.each([
    ['jwt-without-audience', 'authMode jwt: oidcAudience must name the audience'],
    [
      'key-with-oidc',
      'oidcIssuer, oidcAudience and oidcJwksUri are only used when authMode is jwt',
    ],
  ])('%s: %s', (set, reason) => {
    expect(refused[set]).toContain(reason);
  });

  it('refuses for the reason the app would refuse the same settings at start-up', () => {
    const base = deployedEnvironment(deployments.defaults);
    expect(() => loadConfig({ ...base, AUTH_MODE: 'easyauth' })).toThrow(/WEBSITE_AUTH_ENABLED/);
    expect(() =>
      loadConfig({
        ...deployedEnvironment(deployments['jwt-entra']),
        OIDC_AUDIENCE: '',
      }),
    ).toThrow(/OIDC_AUDIENCE: required when AUTH_MODE is jwt/);
    expect(() => loadConfig({ ...base, OIDC_ISSUER: 'https://issuer.example.com/' })).toThrow(
      /only used when AUTH_MODE is jwt/,
    );
  });
});

describe('platform CORS (siteConfig.cors)', () => {
  it.each(SETS)(
    "%s: the site allows the parameter's origins, and the app parses what the platform writes from them",
    (set) => {
      const d = deployments[set];
      const cors = siteProperties(d).siteConfig.cors;
      // The platform writes CORS_ALLOWED_ORIGINS into the worker's environment itself, as a JSON
      // array taken from siteConfig.cors (azure-functions-host HostAssignmentContext.cs), and the
      // host parses it as JSON: an app setting of that name would collide with it.
      expect(appSettings(d)).not.toHaveProperty('CORS_ALLOWED_ORIGINS');
      const platformValue = JSON.stringify(cors.allowedOrigins);
      const parsed = loadConfig({
        ...deployedEnvironment(d),
        CORS_ALLOWED_ORIGINS: platformValue,
      }).corsAllowedOrigins;
      expect(parsed === '*' ? ['*'] : parsed).toEqual(cors.allowedOrigins);
    },
  );

  it('normalizes a loosely written list as the app does', () => {
    expect(siteProperties(deployments['jwt-entra']).siteConfig.cors.allowedOrigins).toEqual([
      'https://app.example.com',
      'https://admin.example.com:8443',
    ]);
    expect(siteProperties(deployments.defaults).siteConfig.cors.allowedOrigins).toEqual([]);
  });

  it('never allows credentialed requests: callers send a bearer token or a key, not cookies', () => {
    for (const set of SETS) {
      expect(siteProperties(deployments[set]).siteConfig.cors.supportCredentials).toBe(false);
    }
    expect(siteProperties(deployments['jwt-auth0']).siteConfig.cors).toEqual({
      allowedOrigins: ['*'],
      supportCredentials: false,
    });
    expect(
      loadConfig({ ...deployedEnvironment(deployments.defaults), CORS_ALLOWED_ORIGINS: '*' }),
    ).toHaveProperty('corsAllowedOrigins', '*');
  });
});

describe('runtime', () => {
  it.each(SETS)('%s: runs Node on the major these tests run on', (set) => {
    const runtime = siteProperties(deployments[set]).functionAppConfig.runtime;
    expect(runtime).toEqual({ name: 'node', version: process.versions.node.split('.')[0] });
  });

  it.each(['defaults', 'jwt-entra'] as const)(
    '%s: caps the heap at a quarter of the instance, as the benchmark does',
    (set) => {
      const memory = siteProperties(deployments[set]).functionAppConfig.scaleAndConcurrency
        .instanceMemoryMB;
      expect(memory).toBe(parameterValues(set).instanceMemoryMB);
      expect(appSettings(deployments[set]).NODE_OPTIONS).toBe(workerNodeOptions(memory));
    },
  );

  it('defaults to the instance size the benchmark copies', () => {
    expect(template().parameters.instanceMemoryMB?.defaultValue).toBe(DEFAULT_INSTANCE_MEMORY_MB);
    expect(siteProperties(deployments['jwt-entra']).functionAppConfig.scaleAndConcurrency).toEqual(
      expect.objectContaining({ instanceMemoryMB: 4096 }),
    );
  });
});

describe('role assignments of the managed identity', () => {
  /** Scope of an assignment, from the id the engine predicts for it. */
  const scopeOf = (assignment: Resource) =>
    /^\[extensionResourceId\('([^']+)', 'Microsoft\.Authorization\/roleAssignments', /.exec(
      assignment.id,
    )?.[1];

  it.each(SETS)('%s: each role on the one resource that needs it, for the app only', (set) => {
    const d = deployments[set];
    const app = site(d);
    const resourceId = (type: string) => only(d, type).id;
    const assignments = ofType(d, 'Microsoft.Authorization/roleAssignments').map((a) => {
      const properties = a.properties as {
        roleDefinitionId: string;
        principalId: string;
        principalType: string;
      };
      return {
        role: properties.roleDefinitionId,
        scope: scopeOf(a),
        principalId: properties.principalId,
        principalType: properties.principalType,
      };
    });
    const grant = (role: string, scopeType: string) => ({
      role: `/subscriptions/${SNAPSHOT_SCOPE.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${role}`,
      scope: resourceId(scopeType),
      principalId: `[reference('${app.id}', '${app.apiVersion}', 'full').identity.principalId]`,
      principalType: 'ServicePrincipal',
    });
    expect(assignments).toEqual(
      expect.arrayContaining([
        grant(ROLE.storageBlobDataOwner, 'Microsoft.Storage/storageAccounts'),
        grant(ROLE.storageTableDataContributor, 'Microsoft.Storage/storageAccounts'),
        grant(ROLE.contributor, 'Microsoft.Communication/communicationServices'),
        grant(ROLE.monitoringMetricsPublisher, 'Microsoft.Insights/components'),
      ]),
    );
    expect(assignments).toHaveLength(4);
    expect(site(d).identity).toEqual({ type: 'SystemAssigned' });
  });
});

describe('transport and keys', () => {
  it.each(SETS)('%s: storage refuses shared keys, public blobs and old TLS', (set) => {
    const storage = only(deployments[set], 'Microsoft.Storage/storageAccounts').properties;
    expect(storage).toEqual(
      expect.objectContaining({
        allowSharedKeyAccess: false,
        defaultToOAuthAuthentication: true,
        allowBlobPublicAccess: false,
        minimumTlsVersion: 'TLS1_2',
        supportsHttpsTrafficOnly: true,
      }),
    );
  });

  it.each(SETS)('%s: the site is HTTPS only, TLS 1.2 and up, without FTP or passwords', (set) => {
    const d = deployments[set];
    const properties = siteProperties(d);
    expect(properties.httpsOnly).toBe(true);
    expect(properties.siteConfig.minTlsVersion).toBe('1.2');
    expect(properties.siteConfig.ftpsState).toBe('Disabled');
    expect(properties.functionAppConfig.deployment.storage.authentication.type).toBe(
      'SystemAssignedIdentity',
    );
    const publishing = ofType(d, 'Microsoft.Web/sites/basicPublishingCredentialsPolicies');
    expect(publishing.map((p) => [p.name.split('/')[1], p.properties])).toEqual([
      ['ftp', { allow: false }],
      ['scm', { allow: false }],
    ]);
  });

  it('reads no key of ACS or Storage anywhere in the compiled template', () => {
    expect(templateText()).not.toMatch(/listKeys|listConnectionStrings|accountKey|accessKey/i);
    for (const set of SETS) {
      expect(Object.values(appSettings(deployments[set])).join('\n')).not.toMatch(
        /AccountKey=|accesskey=|SharedAccessSignature=/i,
      );
    }
  });
});
