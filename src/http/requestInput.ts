import type { HttpRequest } from '@azure/functions';
import { AppError } from '../domain/errors';
import { isKeyParameter } from './functionKey';
import { readJsonBody } from './readJson';

const QUERY_FIELDS = new Set(['scopes', 'expiresInMinutes', 'communicationUserId']);
/** RFC 8259 §6. */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * `GET /api/token?scopes=voip,chat&expiresInMinutes=60` is the address-bar form of the POST body.
 * Values are shaped like the JSON body so one schema validates both.
 */
export function tokenRequestFromQuery(query: URLSearchParams): Record<string, unknown> {
  const input = identityTargetFromQuery(query, QUERY_FIELDS);
  if (query.has('scopes')) {
    // OpenAPI's form style, as the document declares it: names exactly as sent, no blank one
    // skipped, so `scopes=voip,` is refused as the document says (issue #19). A repeated key
    // (`scopes=voip&scopes=chat`, the exploded form) adds to the list.
    input.scopes = query.getAll('scopes').flatMap((v) => v.split(','));
  }
  const expiry = query.getAll('expiresInMinutes');
  if (expiry.length > 1) {
    throw new AppError('invalid_request', 'expiresInMinutes is given more than once.', {
      errors: [{ field: 'expiresInMinutes', message: 'is given more than once' }],
    });
  }
  if (expiry[0] !== undefined) {
    // A number as JSON writes one is that number (the document's integer); anything else stays
    // text, which the schema names.
    input.expiresInMinutes = JSON_NUMBER.test(expiry[0]) ? Number(expiry[0]) : expiry[0];
  }
  return input;
}

function identityTargetFromQuery(
  query: URLSearchParams,
  known: ReadonlySet<string>,
): Record<string, unknown> {
  // `code`, in any case, carries the function key when it is sent in the query string.
  const unknown = [...new Set(query.keys())].filter((k) => !known.has(k) && !isKeyParameter(k));
  if (unknown.length > 0) {
    throw new AppError('invalid_request', `Unknown query parameter ${unknown.join(', ')}.`, {
      errors: unknown.map((field) => ({ field, message: 'is not a known parameter' })),
    });
  }
  const ids = query.getAll('communicationUserId');
  if (ids.length > 1) {
    throw new AppError('invalid_request', 'communicationUserId is given more than once.', {
      errors: [{ field: 'communicationUserId', message: 'is given more than once' }],
    });
  }
  return ids[0] === undefined ? {} : { communicationUserId: ids[0] };
}

/**
 * The query string as the client sent it. The Functions host joins repeated keys into one
 * comma-separated value before `request.query` is built (azure-functions-host
 * GrpcMessageConversionExtensions.ToRpcHttp, StringValues.ToString()), so `?expiresInMinutes=60
 * &expiresInMinutes=90` would read as "60,90"; the URL keeps every value, so a repeated key gets
 * the same clear message everywhere.
 */
function queryOf(request: HttpRequest): URLSearchParams {
  return new URL(request.url).searchParams;
}

/** The raw (unvalidated) token request, from the body for POST and the query for GET. */
export async function readTokenInput(request: HttpRequest): Promise<unknown> {
  return request.method === 'GET' ? tokenRequestFromQuery(queryOf(request)) : readJsonBody(request);
}

const TARGET_QUERY_FIELDS = new Set(['communicationUserId']);

/**
 * Which identity a key holder acts on (`DELETE /api/user`, `POST /api/token/revoke`): the
 * `communicationUserId` query parameter when given, else a JSON body.
 */
export async function readIdentityTarget(request: HttpRequest): Promise<unknown> {
  const fromQuery = identityTargetFromQuery(queryOf(request), TARGET_QUERY_FIELDS);
  return fromQuery.communicationUserId !== undefined ? fromQuery : readJsonBody(request);
}
