/**
 * The Easy Auth stand-in's token store: for a signed-in session, an ID token from the local
 * issuer (`POST <issuer>/dev/token`, dev/issuer/), shaped as Entra ID's for that user: `sub` and
 * `oid` are the user, `aud` the app registration (the first of EASY_AUTH_AUDIENCES), `roles` the
 * session's roles. App Service keeps the provider's tokens and forwards the ID token in
 * `X-MS-TOKEN-AAD-ID-TOKEN` (learn.microsoft.com/azure/app-service/configure-authentication-oauth-tokens).
 * Local use only: the dev issuer signs whatever it is asked.
 */
export function idTokensFrom(
  issuer: string,
  audience: string,
): (user: string, roles: string[]) => Promise<string> {
  return async (user, roles) => {
    const response = await fetch(`${issuer.replace(/\/$/, '')}/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sub: user, oid: user, aud: audience, roles }),
      signal: AbortSignal.timeout(5000),
    });
    const body = (await response.json()) as { access_token?: unknown };
    if (!response.ok || typeof body.access_token !== 'string') {
      throw new Error(`the local issuer answered ${response.status} for an ID token`);
    }
    return body.access_token;
  };
}
