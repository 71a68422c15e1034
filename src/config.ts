import * as z from 'zod/mini';
import { AcsScopeSchema } from './contracts/token';
import {
  ACS_MAX_EXPIRY_MINUTES,
  ACS_MIN_EXPIRY_MINUTES,
  ACS_SCOPES,
  type AcsScope,
} from './domain/scopes';
import type { RoleRule } from './domain/tokenPolicy';
import { isHttpsOrLoopback } from './loopback';

/** Where the ACS resource is and how we authenticate to it. */
export type AcsConnection =
  | { kind: 'connectionString'; endpoint: URL; connectionString: string }
  | { kind: 'managedIdentity'; endpoint: URL };

/** Where the principal → ACS identity map lives (Azure Table Storage or Cosmos DB Table API). */
export type TableConnection =
  | { kind: 'connectionString'; connectionString: string; table: string }
  | { kind: 'managedIdentity'; endpoint: URL; table: string };

export type AuthMode = 'key' | 'easyauth' | 'jwt';

/**
 * How the app signs in to Entra ID when ACS_ENDPOINT or IDENTITY_MAP_ENDPOINT is used. By default
 * the platform's managed identity and nothing else (the system-assigned one, or the user-assigned
 * one AZURE_CLIENT_ID names); AZURE_TOKEN_CREDENTIALS instead picks a DefaultAzureCredential chain
 * restricted as @azure/identity reads that variable (see docs/design.md, "Credential").
 */
export type AzureCredentialChoice =
  { kind: 'managedIdentity'; clientId: string | undefined } | { kind: 'chain'; selection: string };

/** The values @azure/identity 4.13 takes in AZURE_TOKEN_CREDENTIALS (defaultAzureCredential.js). */
export const AZURE_TOKEN_CREDENTIAL_CHOICES = [
  'prod',
  'dev',
  'EnvironmentCredential',
  'WorkloadIdentityCredential',
  'ManagedIdentityCredential',
  'VisualStudioCodeCredential',
  'AzureCliCredential',
  'AzurePowerShellCredential',
  'AzureDeveloperCliCredential',
] as const;

/** Asymmetric JWS algorithms a bearer token may use; `none` and HMAC are never among them. */
export const OIDC_ALGORITHM_CHOICES = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;
export type OidcAlgorithm = (typeof OIDC_ALGORITHM_CHOICES)[number];

/** How bearer tokens are validated in jwt mode. */
export interface OidcSettings {
  /** Compared exactly with each token's `iss`, and the base of discovery. */
  issuer: string;
  audiences: string[];
  /** When unset, the `jwks_uri` of the issuer's discovery document. */
  jwksUri: URL | undefined;
  algorithms: OidcAlgorithm[];
  rolesClaim: string;
  clockSkewSeconds: number;
}

/** Exact origins allowed to call from a browser; `'*'` means any origin, without credentials. */
export type AllowedOrigins = string[] | '*';

export interface Config {
  authMode: AuthMode;
  corsAllowedOrigins: AllowedOrigins;
  rateLimits: {
    principal: { perMinute: number; burst: number };
    key: { perMinute: number; burst: number };
  };
  /** Present in easyauth and jwt modes, where each principal keeps one ACS identity. */
  identityMap: TableConnection | undefined;
  /** Present in jwt mode. */
  oidc: OidcSettings | undefined;
  /**
   * easyauth mode with EASY_AUTH_TOKEN_ISSUER set: each principal must come with a token Entra ID
   * signed for it (src/http/easyAuthProof.ts), not only the platform's headers.
   */
  easyAuthProof: OidcSettings | undefined;
  /** AES-256 key for the token cache; undefined turns the cache off. */
  tokenCacheKey: Buffer | undefined;
  /** Changing it retires every cached token at once (TOKEN_CACHE_EPOCH); '' when unset. */
  tokenCacheEpoch: string;
  /**
   * Seconds a token remembered in this process answers without reading the identity map (0: no
   * in-process layer); bounds how late a revoke or delete on another instance is seen here.
   */
  tokenCacheLocalSeconds: number;
  /** Role → rule; undefined means ALLOWED_SCOPES apply to every caller. */
  rolePolicy: Record<string, RoleRule> | undefined;
  acs: AcsConnection;
  /** Used only by the clients that sign in with Entra ID (ACS_ENDPOINT, IDENTITY_MAP_ENDPOINT). */
  azureCredential: AzureCredentialChoice;
  allowedScopes: AcsScope[];
  defaultScopes: AcsScope[];
  defaultExpiryMinutes: number;
  maxExpiryMinutes: number;
  acsTimeoutMs: number;
  /** Calls of one ACS operation class this instance has in flight at once (ACS_MAX_CONCURRENCY). */
  acsMaxConcurrency: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

class SettingProblem extends Error {}

// App settings arrive as strings; an empty one means "not set" (Azure keeps deleted values as "").
const optionalSetting = z.pipe(
  z.optional(z.string()),
  z.transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim())),
);

/**
 * One setting: its trimmed text (undefined when unset) turned into its value by `read`, which
 * calls `fail` with a message naming what is allowed. Messages never include the value: it may
 * be a secret.
 */
function setting<T>(read: (value: string | undefined, fail: (message: string) => never) => T) {
  const fail = (message: string): never => {
    throw new SettingProblem(message);
  };
  return z.pipe(
    optionalSetting,
    z.transform((value: string | undefined, ctx) => {
      try {
        return read(value, fail);
      } catch (err) {
        if (!(err instanceof SettingProblem)) throw err;
        ctx.issues.push({ code: 'custom', message: err.message, input: undefined });
        return z.NEVER;
      }
    }),
  );
}

function parseEndpoint(value: string, fail: (message: string) => never): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail('is not a URL');
  }
  if (!isHttpsOrLoopback(url)) {
    fail('must be https:// (http:// is accepted only for localhost emulators)');
  }
  return url;
}

function parseConnectionString(value: string): Map<string, string> {
  const parts = new Map<string, string>();
  for (const segment of value.split(';')) {
    const at = segment.indexOf('=');
    if (at > 0) parts.set(segment.slice(0, at).trim().toLowerCase(), segment.slice(at + 1).trim());
  }
  return parts;
}

function checkAcsConnectionString(value: string, fail: (message: string) => never): string {
  const parts = parseConnectionString(value);
  const endpoint = parts.get('endpoint');
  const key = parts.get('accesskey');
  if (!endpoint || !key) fail('must look like endpoint=https://…;accesskey=…');
  parseEndpoint(endpoint ?? '', (message) => fail(`endpoint ${message}`));
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key ?? '') || Buffer.from(key ?? '', 'base64').length < 16) {
    fail('accesskey must be base64');
  }
  return value;
}

function checkStorageConnectionString(value: string, fail: (message: string) => never): string {
  const parts = parseConnectionString(value);
  const named =
    parts.has('accountname') && (parts.has('accountkey') || parts.has('sharedaccesssignature'));
  if (!named && value.toLowerCase() !== 'usedevelopmentstorage=true') {
    fail(
      'must be a storage connection string (AccountName=…;AccountKey=… or UseDevelopmentStorage=true)',
    );
  }
  return value;
}

/** A comma-separated setting: its entries trimmed, empty ones dropped, each kept once. */
function commaList(value: string): string[] {
  return [
    ...new Set(
      value
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    ),
  ];
}

/**
 * A comma-separated list of names from `choices` (`defaultValue` when unset); at least one, and
 * any other name is refused and listed after `label` (cut to `clip` characters each).
 */
function choiceList<T extends string>(
  choices: readonly T[],
  defaultValue: string,
  { rule, label, clip }: { rule: string; label: string; clip?: number },
) {
  return setting((value, fail): T[] => {
    const names = commaList(value ?? defaultValue);
    const others = names.filter((n) => !(choices as readonly string[]).includes(n));
    if (names.length === 0 || others.length > 0) {
      fail(
        `must be a comma-separated list of ${choices.join(', ')}${rule}${
          others.length ? ` (${label}: ${others.map((n) => n.slice(0, clip)).join(', ')})` : ''
        }`,
      );
    }
    return names as T[];
  });
}

const scopeList = (defaultValue: string) =>
  choiceList(ACS_SCOPES, defaultValue, { rule: '', label: 'unknown' });

function integerSetting(defaultValue: number, min: number, max: number) {
  return setting((value, fail) => {
    if (value === undefined) return defaultValue;
    const n = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      fail(`must be a whole number from ${min} to ${max}`);
    }
    return n;
  });
}

const expiry = (d: number) => integerSetting(d, ACS_MIN_EXPIRY_MINUTES, ACS_MAX_EXPIRY_MINUTES);

const scopeArray = z
  .array(AcsScopeSchema, { error: 'must be an array of scope names' })
  .check(z.minLength(1, { error: 'must name at least one scope' }));

const RoleRuleSchema = z.strictObject({
  scopes: scopeArray,
  defaultScopes: z.optional(scopeArray),
  maxExpiryMinutes: z.optional(
    z
      .int({ error: 'must be a whole number' })
      .check(
        z.gte(ACS_MIN_EXPIRY_MINUTES, { error: 'must be from 60 to 1440' }),
        z.lte(ACS_MAX_EXPIRY_MINUTES, { error: 'must be from 60 to 1440' }),
      ),
  ),
});

const TokenPolicySchema = z.strictObject({
  roles: z.record(z.string().check(z.minLength(1)), RoleRuleSchema),
});

// TOKEN_POLICY is JSON: {"roles":{"guest":{"scopes":["voip.join"],"maxExpiryMinutes":60}}}
const tokenPolicy = setting((value, fail) => {
  if (value === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    return fail('must be JSON');
  }
  const parsed = TokenPolicySchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const detail =
      first?.code === 'unrecognized_keys' ? `unknown ${first.keys.join(', ')}` : first?.message;
    fail(`${first?.path.join('.') || '(root)'}: ${detail ?? 'invalid'}`);
  }
  return parsed.data?.roles;
});

/**
 * The platform's CORS origins. Azure itself writes `CORS_ALLOWED_ORIGINS` into the environment
 * as a JSON array from the site's `siteConfig.cors` (azure-functions-host
 * src/WebJobs.Script.WebHost/Models/HostAssignmentContext.cs, read back by
 * Configuration/HostCorsOptionsSetup.cs), so that form must parse; a comma-separated list (the
 * form of Core Tools' `Host.CORS` and of the azd parameter) is accepted too. `*` alone, or as an
 * entry, allows any origin.
 */
function originEntries(value: string, fail: (message: string) => never): string[] {
  if (!value.startsWith('[')) return value.split(',');
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return fail('is neither a JSON array of origins nor a comma-separated list');
  }
  if (!Array.isArray(parsed) || !parsed.every((e) => typeof e === 'string')) {
    return fail('must be a JSON array of strings');
  }
  return parsed;
}

const originList = setting((value, fail): AllowedOrigins => {
  if (value === undefined) return [];
  const entries = originEntries(value, fail)
    .map((s) => s.trim())
    .filter(Boolean);
  if (entries.includes('*')) return '*';
  const origins: string[] = [];
  for (const entry of entries) {
    let url: URL | undefined;
    try {
      url = new URL(entry);
    } catch {
      url = undefined;
    }
    // An origin is scheme://host[:port] and nothing else (any case: the host compares it
    // normalised to lower case, as here); a path is a mistake.
    if (!url || url.origin === 'null' || url.origin !== entry.replace(/\/$/, '').toLowerCase()) {
      fail(`"${entry.slice(0, 100)}" is not an origin like https://app.example.com`);
    }
    origins.push(url?.origin ?? '');
  }
  return origins;
});

/** The settings the service reads; every one is documented in docs/configuration.md. */
export const SettingsSchema = z.object({
  ACS_CONNECTION_STRING: setting((v, fail) =>
    v === undefined ? undefined : checkAcsConnectionString(v, fail),
  ),
  ACS_ENDPOINT: setting((v, fail) => (v === undefined ? undefined : parseEndpoint(v, fail))),
  ALLOWED_SCOPES: scopeList(ACS_SCOPES.join(',')),
  DEFAULT_SCOPES: scopeList('voip'),
  DEFAULT_TOKEN_EXPIRY_MINUTES: expiry(60),
  MAX_TOKEN_EXPIRY_MINUTES: expiry(ACS_MAX_EXPIRY_MINUTES),
  ACS_TIMEOUT_MS: integerSetting(10_000, 100, 120_000),
  // Bounds the 429s an instance collects when ACS's window fills: only calls in flight get them.
  ACS_MAX_CONCURRENCY: integerSetting(32, 1, 10_000),
  AUTH_MODE: setting((v, fail): AuthMode => {
    if (v === undefined) return 'key';
    return v === 'key' || v === 'easyauth' || v === 'jwt'
      ? v
      : fail('must be key, easyauth or jwt');
  }),
  // Set by App Service when Authentication (Easy Auth) is on; the only reason to trust its headers.
  WEBSITE_AUTH_ENABLED: setting((v) => v?.toLowerCase() === 'true'),
  IDENTITY_MAP_CONNECTION: setting((v, fail) =>
    v === undefined ? undefined : checkStorageConnectionString(v, fail),
  ),
  IDENTITY_MAP_ENDPOINT: setting((v, fail) =>
    v === undefined ? undefined : parseEndpoint(v, fail),
  ),
  IDENTITY_MAP_TABLE: setting((v, fail) => {
    if (v === undefined) return 'acsidentities';
    return /^[A-Za-z][A-Za-z0-9]{2,62}$/.test(v)
      ? v
      : fail('must be 3-63 letters or digits, starting with a letter');
  }),
  TOKEN_POLICY: tokenPolicy,
  CORS_ALLOWED_ORIGINS: originList,
  // Per signed-in principal: generous for page reloads, far below what ACS would throttle.
  RATE_LIMIT_PER_MINUTE: integerSetting(30, 0, 100_000),
  RATE_LIMIT_BURST: integerSetting(60, 1, 100_000),
  // Per function key: one key usually serves a whole backend.
  RATE_LIMIT_KEY_PER_MINUTE: integerSetting(1200, 0, 1_000_000),
  RATE_LIMIT_KEY_BURST: integerSetting(300, 1, 1_000_000),
  TOKEN_CACHE_KEY: setting((v, fail) => {
    if (v === undefined) return undefined;
    const key = /^[A-Za-z0-9+/]+={0,2}$/.test(v) ? Buffer.from(v, 'base64') : Buffer.alloc(0);
    return key.length === 32
      ? key
      : fail('must be 32 random bytes, base64 (openssl rand -base64 32)');
  }),
  // jwt mode: bearer tokens from an OpenID Connect provider, validated in the app.
  OIDC_ISSUER: setting((v, fail) => {
    if (v === undefined) return undefined;
    parseEndpoint(v, fail);
    return v; // kept as written: a token's iss must equal it exactly, trailing slash and all
  }),
  OIDC_AUDIENCE: setting((v) => (v === undefined ? undefined : commaList(v))),
  OIDC_JWKS_URI: setting((v, fail) => (v === undefined ? undefined : parseEndpoint(v, fail))),
  OIDC_ALGORITHMS: choiceList(OIDC_ALGORITHM_CHOICES, 'RS256', {
    rule: '; none and HMAC (HS*) are never accepted',
    label: 'refused',
    clip: 20,
  }),
  OIDC_ROLES_CLAIM: setting((v, fail) => {
    if (v === undefined) return 'roles';
    return v.length <= 256 ? v : fail('must be a claim name of at most 256 characters');
  }),
  OIDC_CLOCK_SKEW_SECONDS: integerSetting(60, 0, 300),
  // easyauth mode, defence in depth: the Entra ID issuer whose token must name the principal.
  EASY_AUTH_TOKEN_ISSUER: setting((v, fail) => {
    if (v === undefined) return undefined;
    parseEndpoint(v, fail);
    return v; // kept as written: compared exactly with the token's iss
  }),
  EASY_AUTH_TOKEN_AUDIENCE: setting((v) => (v === undefined ? undefined : commaList(v))),
  // Bump after a key rotation the app cannot see in its own settings (managed identity).
  TOKEN_CACHE_EPOCH: setting((v, fail) => {
    if (v === undefined) return '';
    return /^[A-Za-z0-9._:-]{1,64}$/.test(v)
      ? v
      : fail('must be 1-64 letters, digits or . _ : - (for example 2026-12-02)');
  }),
  // A user-assigned identity's client id; read by ManagedIdentityCredential (and by the
  // DefaultAzureCredential chain when AZURE_TOKEN_CREDENTIALS is set).
  AZURE_CLIENT_ID: setting((v, fail) => {
    if (v === undefined) return undefined;
    return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v)
      ? v
      : fail('must be the client id (a GUID) of a user-assigned managed identity');
  }),
  AZURE_TOKEN_CREDENTIALS: setting((v, fail) => {
    if (v === undefined) return undefined;
    const known = AZURE_TOKEN_CREDENTIAL_CHOICES.find((c) => c.toLowerCase() === v.toLowerCase());
    return known ?? fail(`must be one of ${AZURE_TOKEN_CREDENTIAL_CHOICES.join(', ')}`);
  }),
  // Well under the up to 15 minutes ACS itself may take to enforce a revocation.
  TOKEN_CACHE_LOCAL_SECONDS: integerSetting(30, 0, 300),
});

type Settings = z.output<typeof SettingsSchema>;

/** Parses the environment once, at start-up; throws a `ConfigError` naming each bad setting. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = SettingsSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.join('.') || 'settings'}: ${i.message}`),
    );
  }
  const s = parsed.data;
  const problems: string[] = [];
  const acs = acsConnectionOf(s, problems);
  problems.push(...tokenDefaultsProblems(s));
  const identityMap = identityMapOf(s, problems);
  problems.push(...MODE_RULES[s.AUTH_MODE](s, identityMap));
  const rolePolicy = rolePolicyOf(s, problems);
  if (problems.length > 0 || !acs) throw new ConfigError(problems);
  return {
    authMode: s.AUTH_MODE,
    corsAllowedOrigins: s.CORS_ALLOWED_ORIGINS,
    tokenCacheKey: s.TOKEN_CACHE_KEY,
    tokenCacheEpoch: s.TOKEN_CACHE_EPOCH,
    tokenCacheLocalSeconds: s.TOKEN_CACHE_LOCAL_SECONDS,
    rateLimits: {
      principal: { perMinute: s.RATE_LIMIT_PER_MINUTE, burst: s.RATE_LIMIT_BURST },
      key: { perMinute: s.RATE_LIMIT_KEY_PER_MINUTE, burst: s.RATE_LIMIT_KEY_BURST },
    },
    identityMap: s.AUTH_MODE === 'key' ? undefined : identityMap,
    oidc: oidcOf(s),
    easyAuthProof: easyAuthProofOf(s),
    rolePolicy,
    acs,
    azureCredential: s.AZURE_TOKEN_CREDENTIALS
      ? { kind: 'chain', selection: s.AZURE_TOKEN_CREDENTIALS }
      : { kind: 'managedIdentity', clientId: s.AZURE_CLIENT_ID },
    allowedScopes: s.ALLOWED_SCOPES,
    defaultScopes: s.DEFAULT_SCOPES,
    defaultExpiryMinutes: s.DEFAULT_TOKEN_EXPIRY_MINUTES,
    maxExpiryMinutes: s.MAX_TOKEN_EXPIRY_MINUTES,
    acsTimeoutMs: s.ACS_TIMEOUT_MS,
    acsMaxConcurrency: s.ACS_MAX_CONCURRENCY,
  };
}

function acsConnectionOf(s: Settings, problems: string[]): AcsConnection | undefined {
  if (s.ACS_CONNECTION_STRING && s.ACS_ENDPOINT) {
    problems.push('ACS_CONNECTION_STRING and ACS_ENDPOINT: set one, not both');
    return undefined;
  }
  if (s.ACS_CONNECTION_STRING) {
    const endpoint = parseConnectionString(s.ACS_CONNECTION_STRING).get('endpoint') ?? '';
    return {
      kind: 'connectionString',
      endpoint: new URL(endpoint),
      connectionString: s.ACS_CONNECTION_STRING,
    };
  }
  if (s.ACS_ENDPOINT) return { kind: 'managedIdentity', endpoint: s.ACS_ENDPOINT };
  problems.push(
    'ACS_CONNECTION_STRING or ACS_ENDPOINT: one is required (ACS_ENDPOINT uses managed identity)',
  );
  return undefined;
}

function tokenDefaultsProblems(s: Settings): string[] {
  const problems: string[] = [];
  const notAllowed = s.DEFAULT_SCOPES.filter((scope) => !s.ALLOWED_SCOPES.includes(scope));
  if (notAllowed.length > 0) {
    problems.push(`DEFAULT_SCOPES: ${notAllowed.join(', ')} not in ALLOWED_SCOPES`);
  }
  if (s.DEFAULT_TOKEN_EXPIRY_MINUTES > s.MAX_TOKEN_EXPIRY_MINUTES) {
    problems.push('DEFAULT_TOKEN_EXPIRY_MINUTES: must not exceed MAX_TOKEN_EXPIRY_MINUTES');
  }
  return problems;
}

function identityMapOf(s: Settings, problems: string[]): TableConnection | undefined {
  if (s.IDENTITY_MAP_CONNECTION && s.IDENTITY_MAP_ENDPOINT) {
    problems.push('IDENTITY_MAP_CONNECTION and IDENTITY_MAP_ENDPOINT: set one, not both');
    return undefined;
  }
  if (s.IDENTITY_MAP_CONNECTION) {
    return {
      kind: 'connectionString',
      connectionString: s.IDENTITY_MAP_CONNECTION,
      table: s.IDENTITY_MAP_TABLE,
    };
  }
  if (s.IDENTITY_MAP_ENDPOINT) {
    return {
      kind: 'managedIdentity',
      endpoint: s.IDENTITY_MAP_ENDPOINT,
      table: s.IDENTITY_MAP_TABLE,
    };
  }
  return undefined;
}

/** What each auth mode requires of the other settings, and what it refuses. */
const MODE_RULES: Record<
  AuthMode,
  (s: Settings, identityMap: TableConnection | undefined) => string[]
> = {
  key: (s) => [
    ...(s.TOKEN_POLICY
      ? [
          'TOKEN_POLICY: roles come from Easy Auth or bearer tokens; it needs AUTH_MODE=easyauth or jwt',
        ]
      : []),
    ...strayOidcSettings(s),
    ...strayEasyAuthProofSettings(s),
  ],
  easyauth: (s, identityMap) => [
    ...(s.WEBSITE_AUTH_ENABLED
      ? []
      : [
          'AUTH_MODE: easyauth needs App Service Authentication switched on (WEBSITE_AUTH_ENABLED is not true)',
        ]),
    ...(identityMap ? [] : [identityMapRequired('easyauth')]),
    ...strayOidcSettings(s),
    ...(s.EASY_AUTH_TOKEN_ISSUER && !s.EASY_AUTH_TOKEN_AUDIENCE?.length
      ? [
          "EASY_AUTH_TOKEN_AUDIENCE: required with EASY_AUTH_TOKEN_ISSUER (the Entra app registration's client ID)",
        ]
      : []),
    ...(!s.EASY_AUTH_TOKEN_ISSUER && s.EASY_AUTH_TOKEN_AUDIENCE
      ? ['EASY_AUTH_TOKEN_AUDIENCE: only used with EASY_AUTH_TOKEN_ISSUER']
      : []),
  ],
  jwt: (s, identityMap) => [
    ...(s.OIDC_ISSUER ? [] : ['OIDC_ISSUER: required when AUTH_MODE is jwt']),
    ...(s.OIDC_AUDIENCE?.length
      ? []
      : ['OIDC_AUDIENCE: required when AUTH_MODE is jwt (one or more, comma-separated)']),
    ...(identityMap ? [] : [identityMapRequired('jwt')]),
    ...strayEasyAuthProofSettings(s),
  ],
};

function strayEasyAuthProofSettings(s: Settings): string[] {
  const stray = (['EASY_AUTH_TOKEN_ISSUER', 'EASY_AUTH_TOKEN_AUDIENCE'] as const).filter(
    (name) => s[name] !== undefined,
  );
  return stray.length > 0 ? [`${stray.join(', ')}: only used when AUTH_MODE is easyauth`] : [];
}

function identityMapRequired(mode: AuthMode): string {
  return `IDENTITY_MAP_CONNECTION or IDENTITY_MAP_ENDPOINT: required when AUTH_MODE is ${mode}`;
}

function strayOidcSettings(s: Settings): string[] {
  const stray = (['OIDC_ISSUER', 'OIDC_AUDIENCE', 'OIDC_JWKS_URI'] as const).filter(
    (name) => s[name] !== undefined,
  );
  return stray.length > 0 ? [`${stray.join(', ')}: only used when AUTH_MODE is jwt`] : [];
}

/** TOKEN_POLICY with its defaults filled in, each role checked against the global settings. */
function rolePolicyOf(s: Settings, problems: string[]): Record<string, RoleRule> | undefined {
  if (!s.TOKEN_POLICY) return undefined;
  const rolePolicy = Object.fromEntries(
    Object.entries(s.TOKEN_POLICY).map(([role, rule]): [string, RoleRule] => [
      role,
      {
        scopes: rule.scopes,
        defaultScopes: rule.defaultScopes ?? rule.scopes,
        maxExpiryMinutes: rule.maxExpiryMinutes ?? s.MAX_TOKEN_EXPIRY_MINUTES,
      },
    ]),
  );
  for (const [role, rule] of Object.entries(rolePolicy)) {
    const outside = [...rule.scopes, ...rule.defaultScopes].filter(
      (x) => !s.ALLOWED_SCOPES.includes(x),
    );
    if (outside.length > 0) {
      problems.push(
        `TOKEN_POLICY: role ${role} names ${[...new Set(outside)].join(', ')}, not in ALLOWED_SCOPES`,
      );
    }
    if (rule.defaultScopes.some((x) => !rule.scopes.includes(x))) {
      problems.push(`TOKEN_POLICY: role ${role} has defaultScopes outside its scopes`);
    }
    if (rule.maxExpiryMinutes > s.MAX_TOKEN_EXPIRY_MINUTES) {
      problems.push(`TOKEN_POLICY: role ${role} maxExpiryMinutes exceeds MAX_TOKEN_EXPIRY_MINUTES`);
    }
  }
  return rolePolicy;
}

function oidcOf(s: Settings): OidcSettings | undefined {
  if (s.AUTH_MODE !== 'jwt' || !s.OIDC_ISSUER || !s.OIDC_AUDIENCE) return undefined;
  return {
    issuer: s.OIDC_ISSUER,
    audiences: s.OIDC_AUDIENCE,
    jwksUri: s.OIDC_JWKS_URI,
    algorithms: s.OIDC_ALGORITHMS,
    rolesClaim: s.OIDC_ROLES_CLAIM,
    clockSkewSeconds: s.OIDC_CLOCK_SKEW_SECONDS,
  };
}

function easyAuthProofOf(s: Settings): OidcSettings | undefined {
  if (
    s.AUTH_MODE !== 'easyauth' ||
    !s.EASY_AUTH_TOKEN_ISSUER ||
    !s.EASY_AUTH_TOKEN_AUDIENCE?.length
  )
    return undefined;
  return {
    issuer: s.EASY_AUTH_TOKEN_ISSUER,
    audiences: s.EASY_AUTH_TOKEN_AUDIENCE,
    jwksUri: undefined,
    // Entra ID signs ID and access tokens with RS256.
    algorithms: ['RS256'],
    rolesClaim: 'roles',
    clockSkewSeconds: 60,
  };
}
