import * as z from 'zod/mini';
import { ERROR_CATALOGUE, type ErrorCode } from '../domain/errors';
import { HealthSchema, ProblemSchema } from './problem';
import { TeamsTokenRequestSchema, TeamsTokenResponseSchema } from './teams';
import {
  IdentityTargetSchema,
  TokenRequestSchema,
  TokenResponseSchema,
  UserResponseSchema,
} from './token';

/** The schemas the document names, each once under components/schemas. */
function componentRegistry() {
  const registry = z.registry<{ id: string }>();
  registry.add(TokenRequestSchema, { id: 'TokenRequest' });
  registry.add(TokenResponseSchema, { id: 'TokenResponse' });
  registry.add(IdentityTargetSchema, { id: 'IdentityTarget' });
  registry.add(UserResponseSchema, { id: 'UserResponse' });
  registry.add(ProblemSchema, { id: 'Problem' });
  registry.add(HealthSchema, { id: 'Health' });
  registry.add(TeamsTokenRequestSchema, { id: 'TeamsTokenRequest' });
  registry.add(TeamsTokenResponseSchema, { id: 'TeamsTokenResponse' });
  return registry;
}

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });

/** RFC 9110 §15.5.6: a 405 names the methods the route does serve. */
const ALLOW_HEADER = {
  Allow: {
    description: 'The methods this route serves, comma-separated',
    schema: { type: 'string' },
  },
};

function problems(...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const { status } = ERROR_CATALOGUE[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      String(status),
      {
        description: list.map((c) => `\`${c}\`: ${ERROR_CATALOGUE[c].title}`).join('; '),
        ...(status === 405 ? { headers: ALLOW_HEADER } : {}),
        content: { 'application/problem+json': { schema: ref('Problem') } },
      },
    ]),
  );
}

const QUERY_DESCRIPTIONS: Record<string, string> = {
  scopes:
    'Comma-separated (`scopes=voip,chat`), exactly as named; the repeated form `scopes=voip&scopes=chat` is read the same way',
  communicationUserId: 'Key mode only',
};

/**
 * Query parameters that `src/http/requestInput.ts` reads into the fields of a body schema, which
 * then validates them: each parameter's schema is that field's generated JSON Schema, so the
 * query's constraints are the body's. Arrays use OpenAPI's `form` style without explode (one
 * comma-separated value).
 */
function queryParameters(component: unknown, only?: string[]) {
  const { properties } = component as { properties: Record<string, Record<string, unknown>> };
  return Object.entries(properties)
    .filter(([name]) => !only || only.includes(name))
    .map(([name, schema]) => ({
      name,
      in: 'query',
      required: false,
      ...(QUERY_DESCRIPTIONS[name] ? { description: QUERY_DESCRIPTIONS[name] } : {}),
      ...(schema.type === 'array' ? { style: 'form', explode: false } : {}),
      schema,
    }));
}

const json = (id: string, description: string) => ({
  description,
  content: { 'application/json': { schema: ref(id) } },
});
const noContent = { description: 'Done' };
const hostUnauthorized = {
  description:
    'Missing or wrong function key (answered by the Functions host, empty body), no Easy Auth sign-in (problem `unauthenticated`), or, in jwt mode, no bearer token (`unauthenticated`, `WWW-Authenticate: Bearer`) or one that fails validation (`invalid_token`, `WWW-Authenticate: Bearer error="invalid_token"`)',
  content: { 'application/problem+json': { schema: ref('Problem') } },
};
/** What every route that reads a JSON body can answer about the body itself. */
const BODY_PROBLEMS: ErrorCode[] = [
  'length_required',
  'invalid_json',
  'unsupported_content_type',
  'payload_too_large',
];
const UPSTREAM: ErrorCode[] = [
  'rate_limited',
  'upstream_throttled',
  'upstream_error',
  'upstream_unavailable',
  'upstream_timeout',
  'upstream_auth_failed',
];
const CALLER_SECURITY = [
  { functionKeyHeader: [] },
  { functionKeyQuery: [] },
  { easyAuth: [] },
  { bearerToken: [] },
];

/**
 * The OpenAPI 3.1 document, generated from the same zod schemas that validate requests, so
 * the published contract cannot drift from the code.
 */
export function buildOpenApiDocument(version: string): Record<string, unknown> {
  const { schemas } = z.toJSONSchema(componentRegistry(), {
    target: 'draft-2020-12',
    uri: (id) => `#/components/schemas/${id}`,
  });
  const components = Object.fromEntries(
    Object.entries(schemas).map(([id, schema]) => {
      // The document is the schemas' home; their own $schema and $id would only confuse tools.
      const { $schema: _schema, $id: _id, ...rest } = schema as Record<string, unknown>;
      return [id, rest];
    }),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'acs-token-service',
      version,
      description:
        "Issues Azure Communication Services user access tokens to authenticated callers: a backend holding a function key, a user signed in with App Service Authentication (Easy Auth), or a caller with a bearer token from an OpenID Connect provider (AUTH_MODE=jwt); and exchanges Teams users' Entra ID tokens for ACS tokens.",
    },
    servers: [{ url: '/api' }],
    paths: {
      '/token': {
        post: {
          operationId: 'issueToken',
          summary: 'Get an ACS token',
          description:
            'Signed-in users get a token for their own ACS identity (created on first use). Key holders get a new identity, or a fresh token for `communicationUserId`.',
          security: CALLER_SECURITY,
          requestBody: {
            required: false,
            content: { 'application/json': { schema: ref('TokenRequest') } },
          },
          responses: {
            '200': json('TokenResponse', 'A token'),
            '401': hostUnauthorized,
            ...problems(
              'invalid_request',
              ...BODY_PROBLEMS,
              'scope_not_allowed',
              'expiry_not_allowed',
              'forbidden',
              'identity_not_found',
              'method_not_allowed',
              ...UPSTREAM,
              'storage_unavailable',
            ),
          },
        },
        get: {
          operationId: 'issueTokenFromQuery',
          summary: 'Get an ACS token (address-bar form)',
          security: CALLER_SECURITY,
          parameters: queryParameters(components.TokenRequest),
          responses: {
            '200': json('TokenResponse', 'A token'),
            '401': hostUnauthorized,
            ...problems(
              'invalid_request',
              'scope_not_allowed',
              'expiry_not_allowed',
              'forbidden',
              'identity_not_found',
              ...UPSTREAM,
              'storage_unavailable',
            ),
          },
        },
      },
      '/token/teams': {
        post: {
          operationId: 'exchangeTeamsToken',
          summary: "Exchange a Teams user's Entra ID token for an ACS token (getTokenForTeamsUser)",
          description:
            'The ACS token expires with the Entra ID token (at most 24 hours). ACS checks the Entra token: audience https://auth.msft.communication.azure.com, the Teams.ManageCalls and Teams.ManageChats delegated scopes, appid = appId and oid = userId, not expired.',
          security: CALLER_SECURITY,
          requestBody: {
            required: true,
            content: { 'application/json': { schema: ref('TeamsTokenRequest') } },
          },
          responses: {
            '200': json('TeamsTokenResponse', 'An ACS token of the Teams user'),
            '401': {
              ...hostUnauthorized,
              description: `${hostUnauthorized.description}; or \`teams_token_rejected\`: ${ERROR_CATALOGUE.teams_token_rejected.title} (expired, another audience, missing Teams scopes)`,
            },
            ...problems(
              'invalid_request',
              ...BODY_PROBLEMS,
              'teams_token_mismatch',
              'method_not_allowed',
              ...UPSTREAM,
            ),
          },
        },
      },
      '/token/revoke': {
        post: {
          operationId: 'revokeTokens',
          summary: "Revoke every token of the caller's identity (ACS may take up to 15 minutes)",
          security: CALLER_SECURITY,
          parameters: queryParameters(components.IdentityTarget),
          requestBody: {
            required: false,
            content: { 'application/json': { schema: ref('IdentityTarget') } },
          },
          responses: {
            '204': noContent,
            '401': hostUnauthorized,
            ...problems(
              'invalid_request',
              ...BODY_PROBLEMS,
              'forbidden',
              'identity_not_found',
              'method_not_allowed',
              ...UPSTREAM,
              'storage_unavailable',
            ),
          },
        },
      },
      '/user': {
        get: {
          operationId: 'getUser',
          summary: "The signed-in caller's ACS identity",
          security: CALLER_SECURITY,
          responses: {
            '200': json('UserResponse', 'The identity'),
            '401': hostUnauthorized,
            ...problems('not_found', 'rate_limited', 'storage_unavailable'),
          },
        },
        delete: {
          operationId: 'deleteUser',
          summary:
            "Delete the caller's ACS identity (revoking its tokens) and its mapping; idempotent",
          security: CALLER_SECURITY,
          parameters: queryParameters(components.IdentityTarget),
          responses: {
            '204': noContent,
            '401': hostUnauthorized,
            ...problems(
              'invalid_request',
              ...BODY_PROBLEMS,
              'forbidden',
              ...UPSTREAM,
              'storage_unavailable',
            ),
          },
        },
      },
      '/health': {
        get: {
          operationId: 'health',
          summary: 'Ready or not, and whether ACS is reachable',
          security: [],
          responses: {
            '200': json('Health', 'Ready: a token request can succeed'),
            '503': json(
              'Health',
              'Not ready: ACS unreachable, or a client it needs cannot be built',
            ),
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openApiDocument',
          summary: 'This document',
          security: [],
          responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': {} } } },
        },
      },
    },
    components: {
      schemas: components,
      securitySchemes: {
        functionKeyHeader: {
          type: 'apiKey',
          in: 'header',
          name: 'x-functions-key',
          description: 'Function key (AUTH_MODE=key)',
        },
        functionKeyQuery: {
          type: 'apiKey',
          in: 'query',
          name: 'code',
          description: 'Function key in the query string (AUTH_MODE=key)',
        },
        easyAuth: {
          type: 'apiKey',
          in: 'cookie',
          name: 'AppServiceAuthSession',
          description:
            'App Service Authentication session (AUTH_MODE=easyauth); sign in at /.auth/login/<provider>',
        },
        bearerToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'Access token from the OpenID Connect provider in OIDC_ISSUER, for an audience in OIDC_AUDIENCE (AUTH_MODE=jwt); never in the query string',
        },
      },
    },
  };
}
