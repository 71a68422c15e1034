import { app } from '@azure/functions';
import { buildOpenApiDocument } from '../contracts/openapi';
import { ALL_METHODS, endpoint } from '../http/endpoint';
import { json } from '../http/respond';
import { SERVICE_VERSION } from '../version';

let document: Record<string, unknown> | undefined;

/** `GET /api/openapi.json` (anonymous): the contract, built once on first request. */
const openApiHandler = endpoint(['GET'], () => {
  document ??= buildOpenApiDocument(SERVICE_VERSION);
  return Promise.resolve(json(200, document));
});

app.http('openapi', {
  route: 'openapi.json',
  methods: ALL_METHODS,
  authLevel: 'anonymous',
  handler: openApiHandler,
});
