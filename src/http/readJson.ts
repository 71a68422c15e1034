import type { HttpRequest } from '@azure/functions';
import { AppError } from '../domain/errors';

/** No legitimate token request comes near this; larger bodies are refused before parsing. */
export const MAX_BODY_BYTES = 16 * 1024;

function tooLarge(): AppError {
  return new AppError('payload_too_large', `The body may be at most ${MAX_BODY_BYTES} bytes.`);
}

/**
 * Reads a JSON request body. An empty body reads as `{}` so `POST` with no body takes the
 * defaults; anything else must be `application/json`, at most 16 KiB and valid JSON.
 */
export async function readJsonBody(request: HttpRequest): Promise<unknown> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const text = await request.text();
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) throw tooLarge();
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
