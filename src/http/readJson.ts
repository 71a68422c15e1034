import type { HttpRequest } from '@azure/functions';
import { AppError } from '../domain/errors';

/** No legitimate token request comes near this; larger bodies are refused before parsing. */
const MAX_BODY_BYTES = 16 * 1024;

function tooLarge(): AppError {
  return new AppError('payload_too_large', `The body may be at most ${MAX_BODY_BYTES} bytes.`);
}

/**
 * The Functions host hands a body to the app only when `Content-Length > 0`
 * (azure-functions-host GrpcMessageConversionExtensions.ToRpcHttp;
 * azure-functions-nodejs-library#171): a chunked body arrives empty. Reading that as "no body"
 * would apply the defaults, or in key mode create a new identity where a token for a named one
 * was asked for, so a request whose headers declare a body we did not get is refused instead.
 */
function declaresBody(request: HttpRequest): boolean {
  const declared = request.headers.get('content-length');
  return request.headers.has('transfer-encoding') || Number(declared ?? '0') > 0;
}

/**
 * Reads a JSON request body. A request without one (no body, `Content-Length: 0`) reads as `{}`
 * so `POST` with no body takes the defaults; a body must be `application/json`, sent with a
 * Content-Length, at most 16 KiB and valid JSON.
 */
export async function readJsonBody(request: HttpRequest): Promise<unknown> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  // Bytes, not text(): UTF-8 decoding drops a leading BOM, and a body of only a BOM did arrive.
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.byteLength > MAX_BODY_BYTES) throw tooLarge();
  if (bytes.byteLength === 0 && declaresBody(request)) {
    throw new AppError(
      'length_required',
      'The body was sent without a Content-Length (for instance chunked), and Azure Functions does not pass such a body on. Send it with a Content-Length header.',
    );
  }
  const text = new TextDecoder().decode(bytes);
  if (text.trim() === '') return {};
  const contentType = request.headers.get('content-type') ?? '';
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (mediaType !== 'application/json') {
    throw new AppError(
      'unsupported_content_type',
      `Send the body as Content-Type: application/json (got ${mediaType ? JSON.stringify(mediaType.slice(0, 80)) : 'none'}).`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AppError('invalid_json', 'The body is not valid JSON.');
  }
}
