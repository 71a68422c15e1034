import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HttpRequest, type HttpMethod } from '@azure/functions';
import { loadConfig } from '../../src/config';
import { buildOpenApiDocument } from '../../src/contracts/openapi';
import { ALL_METHODS } from '../../src/http/endpoint';
import { buildServices } from '../../src/runtime';
import { SERVICE_VERSION } from '../../src/version';
import { buildApp } from '../support/registrar';

// What the app registers, built as the host builds it; nothing here calls ACS.
const unusedKey = Buffer.alloc(32).toString('base64');
const registered = buildApp(
  buildServices(
    loadConfig({
      ACS_CONNECTION_STRING: `endpoint=https://unused.communication.azure.com/;accesskey=${unusedKey}`,
    }),
  ),
).functions.map(({ name, options }) => ({
  name,
  route: options.route ?? name,
  methods: options.methods ?? (['GET', 'POST'] as HttpMethod[]),
}));

const document = buildOpenApiDocument('test');
const paths = document.paths as Record<string, Record<string, unknown>>;

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document by an independent validator', () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'oas-')), 'openapi.json');
    writeFileSync(file, JSON.stringify(document));
    const cli = require.resolve('@seriousme/openapi-schema-validator/bin/validate-api-cli.js');
    const run = spawnSync(process.execPath, [cli, file], { encoding: 'utf8' });
    expect(run.stdout.replace(/\s/g, '')).toContain('"valid":true');
    expect(document.openapi).toBe('3.1.0');
  });

  it('documents every route the app registers, with methods it serves', () => {
    // The app's own functions are all there; any other registration must be documented too.
    expect(registered.map((r) => r.name)).toEqual(
      expect.arrayContaining(['token', 'teamsToken', 'revoke', 'user', 'health', 'openapi']),
    );
    for (const { route, methods } of registered) {
      const documented = paths[`/${route}`];
      expect({ route, documented: documented !== undefined }).toEqual({ route, documented: true });
      for (const method of Object.keys(documented ?? {})) {
        expect(methods).toContain(method.toUpperCase());
      }
    }
    const routes = registered.map((r) => `/${r.route}`);
    for (const documentedPath of Object.keys(paths)) expect(routes).toContain(documentedPath);
  });

  it('registers every route for every method a handler can be given, so each gets its 405', () => {
    for (const { route, methods } of registered) {
      expect({ route, methods: [...methods].sort() }).toEqual({
        route,
        methods: [...ALL_METHODS].sort(),
      });
    }
  });

  it('leaves out TRACE and CONNECT because @azure/functions cannot build such a request', () => {
    // Registered, the host would route them and the worker fail before the handler (a 500).
    // Should a release lift this, this test fails: register them then.
    for (const method of ['TRACE', 'CONNECT'] as const) {
      expect(() => new HttpRequest({ method, url: 'http://localhost/api/token' })).toThrow(
        /unsupported/,
      );
      expect(ALL_METHODS).not.toContain(method);
    }
  });

  it('takes every query parameter from the body schema field that validates it', () => {
    const schemas = (document.components as { schemas: Record<string, Record<string, unknown>> })
      .schemas;
    const fields = (id: string) =>
      (schemas[id] as { properties: Record<string, unknown> }).properties;
    const parametersOf = (path: string, method: string) =>
      (
        (paths[path]?.[method] as { parameters?: { name: string; schema: unknown }[] })
          .parameters ?? []
      ).map((p) => [p.name, p.schema]);
    expect(Object.fromEntries(parametersOf('/token', 'get'))).toEqual(fields('TokenRequest'));
    for (const [path, method] of [
      ['/user', 'delete'],
      ['/token/revoke', 'post'],
    ] as const) {
      expect(Object.fromEntries(parametersOf(path, method))).toEqual(fields('IdentityTarget'));
    }
    expect(fields('TokenRequest').scopes).toMatchObject({ minItems: 1, uniqueItems: true });
  });

  it('derives request bodies from the validating schemas', () => {
    const schemas = (document.components as { schemas: Record<string, Record<string, unknown>> })
      .schemas;
    expect(schemas.TokenRequest).toMatchObject({
      type: 'object',
      additionalProperties: false,
      properties: {
        scopes: {
          type: 'array',
          minItems: 1,
          items: { enum: ['chat', 'voip', 'chat.join', 'chat.join.limited', 'voip.join'] },
        },
        expiresInMinutes: { type: 'integer', minimum: 60, maximum: 1440 },
      },
    });
    expect(schemas.Problem?.required).toEqual(
      expect.arrayContaining(['type', 'title', 'status', 'detail', 'code']),
    );
  });

  it('documents the body problems of every operation that reads a JSON body', () => {
    type Responses = Record<string, { description?: string }>;
    const bodyReaders = [
      ['/token', 'post'],
      ['/token/revoke', 'post'],
      ['/token/teams', 'post'],
      ['/user', 'delete'],
    ] as const;
    for (const [route, method] of bodyReaders) {
      const responses = (paths[route]?.[method] as { responses: Responses }).responses;
      expect({
        operation: `${method} ${route}`,
        invalidJson: responses['400']?.description?.includes('`invalid_json`'),
        contentType: responses['400']?.description?.includes('`unsupported_content_type`'),
        tooLarge: responses['413']?.description?.includes('`payload_too_large`'),
      }).toEqual({
        operation: `${method} ${route}`,
        invalidJson: true,
        contentType: true,
        tooLarge: true,
      });
    }
  });

  it('names every security scheme, the bearer token of jwt mode included', () => {
    const schemes = (document.components as { securitySchemes: Record<string, unknown> })
      .securitySchemes;
    expect(Object.keys(schemes).sort()).toEqual([
      'bearerToken',
      'easyAuth',
      'functionKeyHeader',
      'functionKeyQuery',
    ]);
    expect(schemes.bearerToken).toMatchObject({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
    });
  });

  it('describes the Teams exchange with its validating schema and its refusals', () => {
    const schemas = (document.components as { schemas: Record<string, Record<string, unknown>> })
      .schemas;
    expect(schemas.TeamsTokenRequest).toMatchObject({
      type: 'object',
      additionalProperties: false,
      required: ['token', 'appId', 'userId'],
    });
    type Responses = Record<string, { description?: string }>;
    const responses = (paths['/token/teams']?.post as { responses: Responses }).responses;
    expect(responses['401']?.description).toContain('`teams_token_rejected`');
    expect(responses['400']?.description).toContain('`teams_token_mismatch`');
    expect(responses['429']?.description).toContain('`upstream_throttled`');
  });
});

describe('SERVICE_VERSION', () => {
  it("is package.json's version", () => {
    const pkg = JSON.parse(
      readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'),
    ) as { version: string };
    expect(SERVICE_VERSION).toBe(pkg.version);
  });
});
