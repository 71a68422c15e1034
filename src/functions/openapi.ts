import { buildOpenApiDocument } from '../contracts/openapi';
import { json } from '../http/respond';
import { SERVICE_VERSION } from '../version';
import { anonymousRoute } from './route';

/** `GET /api/openapi.json` (anonymous): the contract, built once on first request. */
export const openapi = anonymousRoute(
  { name: 'openapi', route: 'openapi.json', methods: ['GET'] },
  () => {
    let document: Record<string, unknown> | undefined;
    return () => {
      document ??= buildOpenApiDocument(SERVICE_VERSION);
      return Promise.resolve(json(200, document));
    };
  },
);
