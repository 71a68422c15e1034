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
  MICROSOFT_PROVIDER_AUTHENTICATION_SECRET: 'Easy Auth reads the Entra client secret from it',
};

/** SettingsSchema settings infra must never write, and why. */
const NEVER_IN_INFRA: Record<string, string> = {
  WEBSITE_AUTH_ENABLED: 'App Service sets it when authsettingsV2 is on; writing it would fake that',
  ACS_CONNECTION_STRING: 'key-based alternative to ACS_ENDPOINT; Azure uses the managed identity',
  IDENTITY_MAP_CONNECTION: 'key-based alternative to IDENTITY_MAP_ENDPOINT; shared keys are off',
};

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

const SETS = ['defaults', 'easy-auth', 'easy-auth-secret'] as const;
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
    ["[parameters('easyAuthClientSecret')]", 'stand-in secret'],
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

  it('easy-auth: the app starts in easyauth mode with the identity map table, by identity', () => {
    const d = deployments['easy-auth'];
    const config = loadConfig(deployedEnvironment(d));
    const storage = only(d, 'Microsoft.Storage/storageAccounts');
    expect(config.authMode).toBe('easyauth');
    expect(config.identityMap).toEqual({
      kind: 'managedIdentity',
      endpoint: new URL(`https://${storage.name}.table.core.windows.net/`),
      table: only(d, 'Microsoft.Storage/storageAccounts/tableServices/tables').name.split('/')[2],
    });
    expect(config.rolePolicy).toEqual({
      guest: { scopes: ['voip.join'], defaultScopes: ['voip.join'], maxExpiryMinutes: 60 },
    });
  });

  it('defaults: each setting the template writes means what the app assumes when it is unset', () => {
    const settings = appSettings(deployments.defaults);
    const resourceBound = new Set(['ACS_ENDPOINT', 'IDENTITY_MAP_ENDPOINT']);
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
    expect(compared.length).toBeGreaterThanOrEqual(10);
  });

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
  it('is configured when enableEasyAuth is set', () => {
    const auth = authSettings(deployments['easy-auth']);
    const values = parameterValues('easy-auth');
    expect(values.enableEasyAuth).toBe(true);
    expect(auth.platform.enabled).toBe(true);
    // The app answers anonymous token requests itself (401 problem+json); /api/health stays open.
    expect(auth.globalValidation).toEqual({
      requireAuthentication: false,
      unauthenticatedClientAction: 'AllowAnonymous',
    });
    const entra = auth.identityProviders?.azureActiveDirectory;
    expect(entra?.enabled).toBe(true);
    expect(entra?.validation.allowedAudiences).toEqual([
      values.easyAuthClientId,
      `api://${String(values.easyAuthClientId)}`,
    ]);
    expect(JSON.stringify(entra?.registration)).toContain(String(values.easyAuthClientId));
  });

  it('is switched off, with no provider, when enableEasyAuth is not set', () => {
    // Deployed off rather than left out: ARM's incremental mode would keep an earlier "on".
    expect(authSettings(deployments.defaults)).toEqual({ platform: { enabled: false } });
    expect(appSettings(deployments.defaults)).not.toHaveProperty(
      'MICROSOFT_PROVIDER_AUTHENTICATION_SECRET',
    );
  });

  it('names the client secret setting in the registration only when a secret is given', () => {
    for (const set of ['easy-auth', 'easy-auth-secret'] as const) {
      const d = deployments[set];
      // The secret is a secure parameter, so the engine leaves this choice as an expression.
      expect(
        JSON.stringify(authSettings(d).identityProviders?.azureActiveDirectory.registration),
      ).toContain(
        "if(and(true(), not(empty(parameters('easyAuthClientSecret')))), createObject('clientSecretSettingName', 'MICROSOFT_PROVIDER_AUTHENTICATION_SECRET'), createObject())",
      );
      expect(appSettings(d).MICROSOFT_PROVIDER_AUTHENTICATION_SECRET).toBe(
        "[parameters('easyAuthClientSecret')]",
      );
    }
  });

  it('keeps the secret value out of the predicted deployment and its outputs', () => {
    const secret = String(parameterValues('easy-auth-secret').easyAuthClientSecret);
    expect(secret.length).toBeGreaterThan(0);
    expect(template().parameters.easyAuthClientSecret?.type).toBe('securestring');
    expect(snapshotText('easy-auth-secret')).not.toContain(secret);
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
    expect(siteProperties(deployments['easy-auth']).siteConfig.cors.allowedOrigins).toEqual([
      'https://app.example.com',
      'https://admin.example.com:8443',
    ]);
    expect(siteProperties(deployments.defaults).siteConfig.cors.allowedOrigins).toEqual([]);
  });

  it('sends credentials (Easy Auth cookies) only with Easy Auth on and exact origins', () => {
    expect(siteProperties(deployments.defaults).siteConfig.cors.supportCredentials).toBe(false);
    expect(siteProperties(deployments['easy-auth']).siteConfig.cors.supportCredentials).toBe(true);
    // Browsers refuse credentials with a wildcard origin.
    expect(siteProperties(deployments['easy-auth-secret']).siteConfig.cors).toEqual({
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

  it.each(['defaults', 'easy-auth'] as const)(
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
    expect(siteProperties(deployments['easy-auth']).functionAppConfig.scaleAndConcurrency).toEqual(
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
