import * as z from 'zod/mini';
import { ERROR_CATALOGUE, type ErrorCode } from '../domain/errors';
import { ACS_SCOPES } from '../domain/scopes';
import { HealthSchema, ProblemSchema } from './problem';
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
  return registry;
}

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });

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
        content: { 'application/problem+json': { schema: ref('Problem') } },
      },
    ]),
  );
}

const json = (id: string, description: string) => ({
  description,
  content: { 'application/json': { schema: ref(id) } },
});
const noContent = { description: 'Done' };
const hostUnauthorized = {
  description:
    'Missing or wrong function key (answered by the Functions host, empty body), or no Easy Auth sign-in (problem `unauthenticated`)',
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
const CALLER_SECURITY = [{ functionKeyHeader: [] }, { functionKeyQuery: [] }, { easyAuth: [] }];

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
        'Issues Azure Communication Services user access tokens to authenticated callers: a backend holding a function key, or a user signed in with App Service Authentication (Easy Auth).',
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
          parameters: [
            {
              name: 'scopes',
              in: 'query',
              required: false,
              description: `Comma-separated: ${ACS_SCOPES.join(', ')}`,
              schema: { type: 'string' },
            },
            {
              name: 'expiresInMinutes',
              in: 'query',
              required: false,
              schema: { type: 'integer', minimum: 60, maximum: 1440 },
            },
            {
              name: 'communicationUserId',
              in: 'query',
              required: false,
              schema: { type: 'string' },
            },
          ],
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
      '/token/revoke': {
        post: {
          operationId: 'revokeTokens',
          summary: "Revoke every token of the caller's identity (ACS may take up to 15 minutes)",
          security: CALLER_SECURITY,
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
          parameters: [
            {
              name: 'communicationUserId',
              in: 'query',
              required: false,
              description: 'Key mode only',
              schema: { type: 'string' },
            },
          ],
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
      },
    },
  };
}
