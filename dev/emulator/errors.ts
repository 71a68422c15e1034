/**
 * An error the emulator answers with, in the ACS shape `{"error":{"code","message"}}`.
 * Thrown anywhere inside request handling and turned into a response once, in the server.
 */
export class AcsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'AcsError';
  }

  toBody(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

export const badRequest = (message: string): AcsError =>
  new AcsError(400, 'ValidationError', message);

/**
 * A ValidationError that names the request field it is about in `target`, as ACS answers, e.g.
 * `{"code":"ValidationError","message":"Invalid scopes - Scopes field is required.","target":"scopes"}`
 * (azure-sdk-for-js sdk/communication/communication-identity/recordings/node/
 * communicationidentityclient_playbacklive_error_cases_/recording_throws_an_error_when_attempting_to_issue_a_token_without_any_scopes.json).
 */
export class FieldAcsError extends AcsError {
  constructor(
    message: string,
    readonly target: string,
  ) {
    super(400, 'ValidationError', message);
  }

  override toBody(): { error: { code: string; message: string; target: string } } {
    return { error: { code: this.code, message: this.message, target: this.target } };
  }
}

export const invalidJson = (): AcsError =>
  new AcsError(400, 'InvalidRequestBody', 'The request body is not valid JSON.');

export const unsupportedApiVersion = (got: string | null): AcsError =>
  new AcsError(
    400,
    'UnsupportedApiVersion',
    got === null
      ? "The query parameter 'api-version' is required; use 2023-10-01."
      : `The api-version '${got}' is not supported; use 2023-10-01.`,
  );

export const denied = (reason: string): AcsError =>
  new AcsError(401, 'Denied', `Denied by the resource provider: ${reason}`);

export const forbidden = (): AcsError =>
  new AcsError(403, 'Forbidden', 'The admin surface only answers loopback clients.');

export const identityNotFound = (id: string): AcsError =>
  new AcsError(404, 'IdentityNotFound', `Identity '${id}' was not found.`);

/**
 * What ACS answers on issue, revoke and delete for an identity of another resource, as recorded
 * in the ACS SDK's own test sessions (Azure/azure-sdk-for-js,
 * sdk/communication/communication-identity/recordings/node/
 * communicationidentityclient_playbacklive_error_cases_/recording_throws_an_error_when_attempting_to_
 * {issue_a_token_for_an_invalid_user,revoke_a_token_from_an_invalid_user,delete_an_invalid_user}.js;
 * the id is `8:acs:00000000-..._00000000-...` in test/public/communicationIdentityClient.spec.ts).
 */
export const identityNotOwned = (): AcsError =>
  new AcsError(401, 'IdentityNotOwned', "Provided identity doesn't belong to the resource.");

export const pathNotFound = (path: string): AcsError =>
  new AcsError(404, 'NotFound', `No resource at '${path}'.`);

export const methodNotAllowed = (method: string, allowed: readonly string[]): AcsError =>
  new AcsError(405, 'MethodNotAllowed', `Method ${method} is not allowed here.`, {
    allow: allowed.join(', '),
  });

export const payloadTooLarge = (limit: number): AcsError =>
  new AcsError(413, 'PayloadTooLarge', `The request body exceeds ${limit} bytes.`);

export const injectedFault = (status: number, retryAfterSeconds: number): AcsError => {
  // Only throttling and unavailability carry Retry-After in ACS; a client that honours
  // it on other statuses would be reading behaviour the real service does not have.
  const headers: Record<string, string> =
    status === 429 || status === 503 ? { 'retry-after': String(retryAfterSeconds) } : {};
  const code =
    status === 429 ? 'TooManyRequests' : status === 503 ? 'ServiceUnavailable' : 'InjectedFault';
  return new AcsError(
    status,
    code,
    `Fault injected by the ACS emulator (status ${status}).`,
    headers,
  );
};
