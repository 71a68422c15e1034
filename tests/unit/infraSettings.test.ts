import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_INSTANCE_MEMORY_MB, workerNodeOptions } from '../../bench/lib/deployment';
import { SettingsSchema } from '../../src/config';
import { objectEntries, paramDefault } from '../support/bicep';

/*
 * Holds infra/ (Bicep, for `azd up`) to the settings the app reads (SettingsSchema in
 * src/config.ts): a setting added to the schema but not to the Function App, or the other way
 * round, fails here rather than at start-up in Azure.
 *
 * Where the settings are found: modules/function-app.bicep writes every app setting through one
 * `Microsoft.Web/sites/config` resource named 'appsettings', whose properties are
 * `union(appSettings, platformSettings, easyAuthSettings)`. `appSettings` is a module parameter
 * that main.bicep fills from its own `var appSettings`; the other two are vars of the module. The
 * setting names are the top-level keys of the object literals those vars are built from (read
 * by tests/support/bicep.ts). The first block below pins that wiring, so a setting written any
 * other way fails the test instead of slipping past it.
 */

const INFRA = path.resolve(__dirname, '../../infra');

function infraFiles(dir = INFRA): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? infraFiles(full) : [full];
  });
}

const read = (relative: string) => readFileSync(path.join(INFRA, relative), 'utf8');
const mainBicep = read('main.bicep');
const functionAppBicep = read('modules/function-app.bicep');
const storageBicep = read('modules/storage.bicep');
const bicepFiles = infraFiles().filter((file) => file.endsWith('.bicep'));

/** Schema settings infra/ deliberately does not give the Function App, and why. */
const NOT_IN_INFRA: Record<string, string> = {
  WEBSITE_AUTH_ENABLED:
    'set by App Service itself when Easy Auth (authsettingsV2) is on; an app setting would fake it',
  ACS_CONNECTION_STRING:
    'key-based alternative to ACS_ENDPOINT; in Azure the app reaches ACS with its managed identity',
  IDENTITY_MAP_CONNECTION:
    'key-based alternative to IDENTITY_MAP_ENDPOINT; the storage account refuses shared keys',
  TOKEN_CACHE_LOCAL_SECONDS:
    'its default (30 s) is the deployed staleness bound; an app setting changes it without a redeploy',
};

/**
 * Settings the Functions host, the platform or Easy Auth read, not the app; they are not in the
 * schema and are ignored in the comparison.
 */
const PLATFORM_SETTING =
  /^(FUNCTIONS_|AzureWebJobs|APPLICATIONINSIGHTS_|WEBSITE_|MICROSOFT_PROVIDER_AUTHENTICATION_SECRET$|NODE_OPTIONS$)/;

const schemaKeys = Object.keys(SettingsSchema.shape).sort();
type SettingName = keyof typeof SettingsSchema.shape;
const isSchemaKey = (name: string): name is SettingName => schemaKeys.includes(name);

const appEntries = objectEntries(mainBicep, 'appSettings');
const bicepSettingNames = [
  ...appEntries.map((entry) => entry.key),
  ...objectEntries(functionAppBicep, 'platformSettings').map((entry) => entry.key),
  ...objectEntries(functionAppBicep, 'easyAuthSettings').map((entry) => entry.key),
].sort();

describe('infra app settings wiring', () => {
  it('writes app settings in exactly one appsettings resource, from the three known objects', () => {
    const appsettingsResources = bicepFiles.flatMap((file) =>
      (readFileSync(file, 'utf8').match(/name: 'appsettings'/g) ?? []).map(() => file),
    );
    expect(appsettingsResources).toEqual([path.join(INFRA, 'modules/function-app.bicep')]);
    expect(functionAppBicep).toContain(
      'properties: union(appSettings, platformSettings, easyAuthSettings)',
    );
    expect(mainBicep).toMatch(/^ {4}appSettings: appSettings$/m);
  });

  it('sets no siteConfig.appSettings array anywhere', () => {
    for (const file of bicepFiles) {
      expect({ file, inline: /appSettings:\s*\[/.test(readFileSync(file, 'utf8')) }).toEqual({
        file,
        inline: false,
      });
    }
  });

  it('lists each setting once', () => {
    expect(bicepSettingNames).toEqual([...new Set(bicepSettingNames)]);
  });
});

describe('infra app settings against SettingsSchema', () => {
  it('gives the Function App every schema setting except the listed exclusions', () => {
    const appOwn = bicepSettingNames.filter((name) => !PLATFORM_SETTING.test(name));
    const expected = schemaKeys.filter((key) => !(key in NOT_IN_INFRA));
    expect(appOwn).toEqual(expected);
  });

  it('explains every schema setting that infra leaves out', () => {
    const missing = schemaKeys.filter((key) => !bicepSettingNames.includes(key));
    expect(missing.map((key) => [key, (NOT_IN_INFRA[key] ?? '').length > 0])).toEqual(
      missing.map((key) => [key, true]),
    );
  });

  it('keeps the exclusion list honest: real schema settings, absent from infra', () => {
    const excluded = Object.keys(NOT_IN_INFRA).sort();
    expect(excluded.filter(isSchemaKey)).toEqual(excluded);
    expect(excluded.filter((key) => bicepSettingNames.includes(key))).toEqual([]);
  });

  it('uses the schema defaults as parameter defaults, in main.bicep and main.parameters.json', () => {
    const parameters = JSON.parse(read('main.parameters.json')) as {
      parameters: Record<string, { value: unknown }>;
    };
    const checked: string[] = [];
    for (const { key, value } of appEntries) {
      // Settings that are a parameter as is, or its string() for numbers.
      const param = /^(?:string\()?([A-Za-z_][A-Za-z0-9_]*)\)?$/.exec(value)?.[1];
      if (!param || !isSchemaKey(key)) continue;
      const setting = SettingsSchema.shape[key];
      const schemaDefault: unknown = setting.parse(undefined);
      const bicepDefault = paramDefault(mainBicep, param);
      expect({ key, value: setting.parse(String(bicepDefault)) }).toEqual({
        key,
        value: schemaDefault,
      });
      // azd substitutes ${NAME=default} from the environment, falling back to the default.
      const substituted = parameters.parameters[param]?.value;
      const envDefault = /^\$\{[A-Z_]+=(.*)\}$/.exec(String(substituted))?.[1];
      expect({ key, value: setting.parse(envDefault) }).toEqual({ key, value: schemaDefault });
      checked.push(key);
    }
    expect(checked.sort()).toEqual([
      'ACS_TIMEOUT_MS',
      'ALLOWED_SCOPES',
      'CORS_ALLOWED_ORIGINS',
      'DEFAULT_SCOPES',
      'DEFAULT_TOKEN_EXPIRY_MINUTES',
      'IDENTITY_MAP_TABLE',
      'MAX_TOKEN_EXPIRY_MINUTES',
      'RATE_LIMIT_BURST',
      'RATE_LIMIT_KEY_BURST',
      'RATE_LIMIT_KEY_PER_MINUTE',
      'RATE_LIMIT_PER_MINUTE',
      'TOKEN_CACHE_KEY',
    ]);
  });

  it('runs in key mode unless Easy Auth is switched on', () => {
    expect(appEntries.find((entry) => entry.key === 'AUTH_MODE')?.value).toBe(
      "enableEasyAuth ? 'easyauth' : 'key'",
    );
    expect(paramDefault(mainBicep, 'enableEasyAuth')).toBe(false);
    expect(SettingsSchema.shape.AUTH_MODE.parse(undefined)).toBe('key');
  });
});

describe('infra runtime settings the benchmark copies', () => {
  it('caps the heap as bench/lib/deployment.ts does, for the default instance size', () => {
    expect(paramDefault(mainBicep, 'instanceMemoryMB')).toBe(DEFAULT_INSTANCE_MEMORY_MB);
    const nodeOptions = objectEntries(functionAppBicep, 'platformSettings').find(
      (entry) => entry.key === 'NODE_OPTIONS',
    );
    expect(nodeOptions?.value).toBe("'--max-old-space-size=${instanceMemoryMB / 4}'");
    expect(workerNodeOptions(4096)).toBe('--max-old-space-size=1024');
    expect(workerNodeOptions()).toBe('--max-old-space-size=512');
  });
});

describe('infra secrets and transport', () => {
  it('mentions no storage or ACS key anywhere in infra/', () => {
    const keyLike = /accountkey|accesskey|listkeys|sharedaccesssignature|primarykey|secondarykey/i;
    const offenders = infraFiles()
      .filter((file) => /\.(bicep|json)$/.test(file))
      .flatMap((file) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .filter((line) => keyLike.test(line))
          .map((line) => `${path.relative(INFRA, file)}: ${line.trim()}`),
      );
    expect(offenders).toEqual([]);
  });

  it('turns shared-key access off on the storage account', () => {
    expect(storageBicep).toMatch(/^\s*allowSharedKeyAccess: false$/m);
  });

  it('serves HTTPS only, TLS 1.2 and up, without FTP', () => {
    expect(functionAppBicep).toMatch(/^\s*httpsOnly: true$/m);
    expect(functionAppBicep).toMatch(/^\s*minTlsVersion: '1\.2'$/m);
    expect(functionAppBicep).toMatch(/^\s*ftpsState: 'Disabled'$/m);
  });
});
