import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

const DOCUMENT_ID = 'https://acs-token-service.invalid/openapi.json';

/**
 * Checks real answers against the OpenAPI document: the JSON schema a path, method and status
 * promise for the media type that came back.
 */
export function responseValidator(document: Record<string, unknown>) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ ...document, $id: DOCUMENT_ID });
  const paths = document.paths as Record<
    string,
    Record<
      string,
      { responses: Record<string, { content?: Record<string, { schema?: unknown }> }> }
    >
  >;
  // Compiling costs milliseconds; the hostile-input suite checks thousands of answers.
  const compiled = new Map<string, ValidateFunction>();
  const validatorFor = (ref: string): ValidateFunction => {
    let validate = compiled.get(ref);
    if (!validate) {
      validate = ajv.compile({ $ref: `${DOCUMENT_ID}${ref}` });
      compiled.set(ref, validate);
    }
    return validate;
  };
  return (
    path: string,
    method: string,
    status: number,
    contentType: string | null,
    body: unknown,
  ): string[] => {
    const response = paths[path]?.[method.toLowerCase()]?.responses[String(status)];
    if (!response) return [`${method} ${path} does not document ${status}`];
    const mediaType = (contentType ?? '').split(';')[0]?.trim() ?? '';
    const media = response.content?.[mediaType];
    if (!response.content) return body === undefined ? [] : [`${status} documents no body`];
    if (!media)
      return [`${status} documents ${Object.keys(response.content).join(', ')}, got ${mediaType}`];
    if (!media.schema) return [];
    const validate = validatorFor(String((media.schema as { $ref: string }).$ref));
    return validate(body)
      ? []
      : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
  };
}
