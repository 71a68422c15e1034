/**
 * The parts of a failure from an Azure SDK (`RestError`) or from Node's network stack that the
 * adapters read. Duck-typed on purpose: each SDK may bundle its own copy of the error class, so
 * `instanceof` would miss some of them.
 */
export interface RestErrorLike {
  name?: string;
  /** Node's network code (`ECONNRESET`) or the SDK's (`REQUEST_SEND_ERROR`). */
  code?: string;
  statusCode?: number;
  response?: { headers: { get(name: string): string | undefined } };
}

/** The failure's readable parts; an empty object for anything that is not an object. */
export function asRestError(err: unknown): RestErrorLike {
  return typeof err === 'object' && err !== null ? err : {};
}

/** The HTTP status the service answered with, if the failure carries one. */
export function statusOf(err: unknown): number | undefined {
  const { statusCode } = asRestError(err);
  return typeof statusCode === 'number' ? statusCode : undefined;
}

/**
 * What actually failed when a client could not be built: the SDKs and our own connect step wrap
 * the original failure (a credential, a module load) as `cause`.
 */
export function underlyingFailure(err: unknown): unknown {
  return err instanceof Error && err.cause !== undefined ? err.cause : err;
}

/** A short, secret-free description of a dependency's failure (ACS or storage), for logs. */
export function describeFailure(err: unknown): string {
  const rest = asRestError(err);
  return [rest.name, rest.code, rest.statusCode].filter((v) => v !== undefined).join(' ');
}
