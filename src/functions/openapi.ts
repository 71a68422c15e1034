import { app } from '@azure/functions';
import { buildOpenApiDocument } from '../contracts/openapi';
import { endpoint } from '../http/endpoint';
import { json } from '../http/respond';

const VERSION = process.env.npm_package_version ?? '0.1.0';
let document: Record<string, unknown> | undefined;

/** `GET /api/openapi.json` (anonymous): the contract, built once on first request. */
export const openApiHandler = endpoint(['GET'], () => {
  document ??= buildOpenApiDocument(VERSION);
  return Promise.resolve(json(200, document));
});

app.http('openapi', {
  route: 'openapi.json',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: openApiHandler,
});
