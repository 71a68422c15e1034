import { createHmac } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerVerifier, type BearerOptions, type Claim } from './bearer';
import { same } from './keys';
import type { PlatformLayer } from './server';

/** App Service's own session cookie name, so client code behaves the same locally. */
export const SESSION_COOKIE = 'AppServiceAuthSession';
const SESSION_SECONDS = 8 * 60 * 60;
const NAME_ID_CLAIM = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier';
const ROLE_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
// With the `u` flag `\p{Cs}` matches only a surrogate that is not half of a pair.
const LONE_SURROGATE = /\p{Cs}/u;
const LONE_SURROGATE_ALL = /\p{Cs}/gu;

/**
 * A dev sign-in's user id or name: any 1-128 characters, whitespace, control characters and
 * scripts outside Latin-1 included, as identity providers allow them (a `sub` is any string,
 * OpenID Connect Core §2; display names are free text), so such principals can be tried locally.
 */
function usableText(value: string | null): value is string {
  return (
    value !== null &&
    !LONE_SURROGATE.test(value) &&
    [...value].length >= 1 &&
    [...value].length <= 128
  );
}

interface Session {
  user: string;
  /** The display name, when the sign-in gave one other than the id. */
  name?: string;
  roles: string[];
  exp: number;
}

function sign(payload: string, secret: string): string {
  return createHmac('sha256', secret).update(payload).digest('base64url');
}

function readCookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

function sessionFrom(req: IncomingMessage, secret: string): Session | undefined {
  const cookie = readCookie(req, SESSION_COOKIE);
  // Exactly `payload.signature`: anything appended is a tampered cookie, not a longer one.
  const [payload, signature, ...rest] = cookie?.split('.') ?? [];
  if (!payload || !signature || rest.length > 0 || !same(signature, sign(payload, secret))) {
    return undefined;
  }
  try {
    const session = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Session;
    return session.exp > Date.now() / 1000 ? session : undefined;
  } catch {
    return undefined;
  }
}

/** Claims in the shape App Service puts in `X-MS-CLIENT-PRINCIPAL`. */
function claimsOf(session: Session) {
  return [
    { typ: NAME_ID_CLAIM, val: session.user },
    { typ: 'name', val: session.name ?? session.user },
    ...session.roles.map((val) => ({ typ: 'roles', val })),
  ];
}

function send(
  res: ServerResponse,
  status: number,
  body?: unknown,
  headers: Record<string, string | string[]> = {},
) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    'cache-control': 'no-store',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** Only same-site paths: an open redirect on a login endpoint is a phishing tool. */
function localRedirect(url: URL, param: string): string | undefined {
  const target = url.searchParams.get(param);
  return target && target.startsWith('/') && !target.startsWith('//') ? target : undefined;
}

/** The identity provider name App Service gives Microsoft Entra ID callers. */
const ENTRA_PROVIDER = 'aad';

/**
 * A claim value as the `-ID` and `-NAME` headers carry it. A header value can hold only visible
 * ASCII, spaces and tabs on the wire, and the Node worker builds its `Request` from the host's
 * headers, which throws on anything outside Latin-1 ("Cannot convert argument to a ByteString")
 * or on CR, LF and NUL, failing the invocation with a 500 before the app runs
 * (azure-functions-nodejs-library src/http/HttpRequest.ts; nodejs-worker
 * src/eventHandlers/InvocationHandler.ts builds the arguments before any hook). How App Service
 * encodes such values is not documented; on Azure, non-ASCII header text has been seen to reach
 * the app percent-encoded as UTF-8 (azure-functions-host#9718). So here every character outside
 * visible ASCII, space and tab is percent-encoded as UTF-8, and leading or trailing whitespace is
 * left for the receiving HTTP stack to trim, as every one does. The claims in
 * `X-MS-CLIENT-PRINCIPAL` keep the exact values (base64 of UTF-8 JSON, the docs' decoding sample).
 */
function headerForm(value: string): string {
  return value
    .replace(LONE_SURROGATE_ALL, '\uFFFD')
    .replace(/[^\t\x20-\x7e]/gu, (c: string) => encodeURIComponent(c));
}

/**
 * The principal headers App Service injects (learn.microsoft.com/azure/app-service/
 * configure-authentication-user-identities): the claims as base64 JSON, the caller's id, its
 * provider, and a name only when the caller has one (app-only callers have none).
 */
function setPrincipal(
  headers: Record<string, string>,
  principal: { provider: string; id: string; name: string | undefined; claims: Claim[] },
): void {
  const data = {
    auth_typ: principal.provider,
    claims: principal.claims,
    name_typ: 'name',
    role_typ: 'roles',
  };
  headers['x-ms-client-principal'] = Buffer.from(JSON.stringify(data)).toString('base64');
  headers['x-ms-client-principal-id'] = headerForm(principal.id);
  headers['x-ms-client-principal-idp'] = principal.provider;
  if (principal.name !== undefined) {
    headers['x-ms-client-principal-name'] = headerForm(principal.name);
  }
}

function bearerToken(req: IncomingMessage): string | undefined {
  const match = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(req.headers.authorization ?? '');
  return match?.[1];
}

export interface EasyAuthOptions {
  enabled: boolean;
  secret: string;
  /** Bearer tokens the stand-in accepts, as Easy Auth's Entra ID provider would. */
  bearer?: BearerOptions;
  /**
   * The token store (App Service `login.tokenStore.enabled`): signed-in sessions are Entra ID
   * principals, and each request carries their ID token in `X-MS-TOKEN-AAD-ID-TOKEN`
   * (learn.microsoft.com/azure/app-service/configure-authentication-oauth-tokens, "Retrieve
   * tokens in app code"). Given the user and roles, returns an ID token from the issuer.
   */
  tokenStore?: (user: string, roles: string[]) => Promise<string>;
  /**
   * false models a platform that reports Easy Auth on (`WEBSITE_AUTH_ENABLED`) but does not run
   * it, the case docs/platform-parity.md cannot rule out on Flex Consumption: headers a client
   * sends reach the app untouched and no principal is injected. Default true.
   */
  enforced?: boolean;
}

/** The token-store header App Service injects with an Entra ID principal's ID token. */
const ID_TOKEN_HEADER = 'x-ms-token-aad-id-token';

/**
 * Plays App Service Authentication's part for the local host. It always strips client-sent
 * `X-MS-CLIENT-PRINCIPAL*` headers (as the platform does), and when enabled it offers a dev
 * sign-in (`/.auth/login/dev?user=…&roles=…`), `/.auth/me` and `/.auth/logout`, injects the
 * principal headers for signed-in requests, and for `Authorization: Bearer` tokens from the
 * configured issuer (bearer.ts), as the platform does for mobile and daemon clients. A token
 * that fails any check leaves the request without a principal. Local use only.
 */
export function easyAuthStandIn(options: EasyAuthOptions): PlatformLayer {
  const { enabled, secret, tokenStore } = options;
  const enforced = options.enforced ?? true;
  const verifyBearer = options.bearer ? bearerVerifier(options.bearer) : undefined;
  // One ID token per session and user, re-issued when it runs out (App Service would need a
  // /.auth/refresh; the stand-in spares local clients that step).
  const idTokens = new Map<string, { token: string; exp: number }>();
  const idTokenFor = async (session: Session): Promise<string | undefined> => {
    if (!tokenStore) return undefined;
    const key = `${session.user}\n${session.roles.join(',')}\n${session.exp}`;
    const held = idTokens.get(key);
    if (held && held.exp > Date.now() / 1000 + 60) return held.token;
    const token = await tokenStore(session.user, session.roles);
    const exp = Number(
      (
        JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
          exp?: unknown;
        }
      ).exp,
    );
    if (idTokens.size > 1000) idTokens.clear();
    idTokens.set(key, { token, exp: Number.isFinite(exp) ? exp : 0 });
    return token;
  };
  return {
    handle(req, res, url) {
      if (!enabled || !url.pathname.toLowerCase().startsWith('/.auth/')) return false;
      const path = url.pathname.toLowerCase();
      if (path === '/.auth/login/dev') {
        const user = url.searchParams.get('user');
        const name = url.searchParams.get('name');
        const roles = (url.searchParams.get('roles') ?? '')
          .split(',')
          .map((r) => r.trim())
          .filter(Boolean);
        if (
          !usableText(user) ||
          (name !== null && !usableText(name)) ||
          !roles.every((r) => ROLE_PATTERN.test(r))
        ) {
          send(res, 400, {
            error:
              'user (and name, if given) must be 1-128 characters; roles a comma-separated list of A-Z a-z 0-9 . _ -',
          });
          return true;
        }
        const payload = Buffer.from(
          JSON.stringify({
            user,
            ...(name === null ? {} : { name }),
            roles,
            exp: Math.floor(Date.now() / 1000) + SESSION_SECONDS,
          } satisfies Session),
        ).toString('base64url');
        const cookie = `${SESSION_COOKIE}=${payload}.${sign(payload, secret)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${SESSION_SECONDS}`;
        const redirect = localRedirect(url, 'post_login_redirect_uri');
        if (redirect) send(res, 302, undefined, { 'set-cookie': cookie, location: redirect });
        else send(res, 200, { user, roles }, { 'set-cookie': cookie });
        return true;
      }
      if (path === '/.auth/me') {
        const session = sessionFrom(req, secret);
        if (!session) send(res, 401);
        else
          send(res, 200, [
            { provider_name: 'dev', user_id: session.user, user_claims: claimsOf(session) },
          ]);
        return true;
      }
      if (path === '/.auth/logout') {
        send(res, 302, undefined, {
          'set-cookie': `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`,
          location: localRedirect(url, 'post_logout_redirect_uri') ?? '/',
        });
        return true;
      }
      send(res, 404);
      return true;
    },
    async headersFor(req, headers) {
      if (!enforced) return;
      for (const name of Object.keys(headers)) {
        if (name.toLowerCase().startsWith('x-ms-client-principal')) delete headers[name];
      }
      if (!enabled) return;
      const session = sessionFrom(req, secret);
      if (session) {
        const idToken = await idTokenFor(session);
        setPrincipal(headers, {
          // With the token store the session stands for an Entra ID sign-in, whose id is the
          // token's oid.
          provider: idToken ? ENTRA_PROVIDER : 'dev',
          id: session.user,
          name: session.name ?? session.user,
          claims: claimsOf(session),
        });
        if (idToken) headers[ID_TOKEN_HEADER] = idToken;
        return;
      }
      const token = bearerToken(req);
      const principal = token && verifyBearer ? await verifyBearer(token) : undefined;
      if (principal) setPrincipal(headers, { provider: ENTRA_PROVIDER, ...principal });
    },
  };
}
