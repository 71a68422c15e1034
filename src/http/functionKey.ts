import type { HttpRequest } from '@azure/functions';

/**
 * A string folded as .NET's `StringComparer.OrdinalIgnoreCase` compares it: each character
 * mapped to its upper case on its own; one whose upper case is longer (`ß`) stays. The Functions
 * host compares a key it has accepted this way (its authorization cache, azure-functions-host
 * src/WebJobs.Script.WebHost/Security/KeyManagement/SecretManager.cs, `_authorizationCache`), so
 * after `KEY` was accepted, `key`, `kEy`… are accepted too; ASP.NET Core compares query names
 * this way as well.
 */
export function ordinalIgnoreCase(value: string): string {
  let folded = '';
  for (const char of value) {
    const upper = char.toUpperCase();
    folded += [...upper].length === 1 ? upper : char;
  }
  return folded;
}

/** The host's names for the key (azure-functions-host `AuthenticationLevelHandler`). */
const KEY_HEADER = 'x-functions-key';
const KEY_QUERY = 'CODE';

/** Whether a query parameter is the host's `code`, whose name it compares case-insensitively. */
export function isKeyParameter(name: string): boolean {
  return ordinalIgnoreCase(name) === KEY_QUERY;
}

/**
 * The function key the host authenticated this request with, exactly. The host reads the
 * `x-functions-key` header if there is one, else the `code` query parameter (its name compared
 * case-insensitively, as ASP.NET Core's query collection is), and of either only the first value
 * (`AuthenticationLevelHandler.GetAuthorizationKeyInfoAsync`: `values.First()`). The app sees the
 * request as the host forwards it: repeated headers joined with `,` (`StringValues.ToString()`
 * in `GrpcMessageConversionExtensions.ToRpcHttp`), so the text before the first comma is the
 * first value. A generated key never holds a comma (`SecretGenerator`: URL-safe base64), and for
 * a hand-set key holding one the prefix is still a fixed function of the authenticated value: a
 * caller cannot change it by appending values. The query is read from the raw URL, which keeps
 * every value apart.
 */
export function authenticatedKey(request: HttpRequest): string {
  const header = request.headers.get(KEY_HEADER);
  if (header !== null) return header.split(',', 1)[0] ?? '';
  for (const [name, value] of new URL(request.url).searchParams) {
    if (isKeyParameter(name)) return value;
  }
  return '';
}
