import { AppError } from '../domain/errors';

/**
 * The claim types App Service takes `X-MS-CLIENT-PRINCIPAL-ID` from: Entra ID's object id, and
 * the subject (`sub`, mapped to the WS-* name identifier) of other providers.
 */
const ID_CLAIM_TYPES = new Set([
  'http://schemas.microsoft.com/identity/claims/objectidentifier',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier',
]);

// What every HTTP stack strips around a header value (RFC 9110 §5.5; fetch's "HTTP whitespace").
const SURROUNDING_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;
const NOT_HEADER_TEXT = /[^\t\x20-\x7e]/gu;
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * The header texts a claim value may arrive as in `X-MS-CLIENT-PRINCIPAL-ID`: as it is, or with
 * what the header cannot carry percent-encoded as UTF-8, and in both cases trimmed by the HTTP
 * stack. App Service does not document which; the app accepts either.
 */
function headerForms(value: string): string[] {
  const encoded = LONE_SURROGATE.test(value)
    ? value
    : value.replace(NOT_HEADER_TEXT, (c: string) => encodeURIComponent(c));
  return [value, encoded].map((v) => v.replace(SURROUNDING_WHITESPACE, ''));
}

function idClaimValues(principal: Record<string, unknown>): string[] {
  const { claims } = principal as { claims?: unknown };
  if (!Array.isArray(claims)) return [];
  return claims.flatMap((c: { typ?: unknown; val?: unknown } | null) =>
    typeof c?.typ === 'string' && ID_CLAIM_TYPES.has(c.typ) && typeof c.val === 'string'
      ? [c.val]
      : [],
  );
}

/**
 * A principal's id exactly as the platform keeps it. `X-MS-CLIENT-PRINCIPAL-ID` has lost what a
 * header cannot hold: surrounding whitespace is trimmed (so ` alice`, `alice` and `alice⇥` read
 * the same) and text outside ASCII is encoded (so `アリス` may read like somebody whose id is
 * `%E3%82%A2…`). The base64 `X-MS-CLIENT-PRINCIPAL` holds the claims as UTF-8 JSON, untouched
 * (learn.microsoft.com/azure/app-service/configure-authentication-user-identities, "Decode the
 * client principal header"), so the id is the id claim the header was made from. An id claim equal
 * to the header wins; with no id claim the header is all there is. Two different id claims that
 * both fit the header cannot be told apart, and the caller is refused rather than guessed at.
 */
export function exactPrincipalId(headerId: string, principal: Record<string, unknown>): string {
  const values = idClaimValues(principal);
  if (values.includes(headerId)) return headerId;
  const sources = new Set(values.filter((v) => headerForms(v).includes(headerId)));
  const [only, ...others] = sources;
  if (only === undefined) return headerId;
  if (others.length > 0) {
    throw new AppError(
      'forbidden',
      'Your sign-in names more than one id that reads the same; this service cannot tell them apart.',
    );
  }
  return only;
}
