import {
  badRequest,
  identityNotFound,
  identityNotOwned,
  invalidJson,
  methodNotAllowed,
  FieldAcsError,
  pathNotFound,
  unsupportedApiVersion,
} from './errors';
import type { IdentityStore } from './store';
import type { ExchangedTeamsToken } from './teams';
import type { TokenSigner } from './tokens';
import type { AcsOperation } from './types';

export const API_VERSION = '2023-10-01';
export const KNOWN_SCOPES: readonly string[] = [
  'chat',
  'voip',
  'chat.join',
  'chat.join.limited',
  'voip.join',
];
const DEFAULT_EXPIRES_IN_MINUTES = 1440;

export type AcsRoute =
  | { kind: 'identities' }
  | { kind: 'identity'; id: string }
  | { kind: 'issueAccessToken'; id: string }
  | { kind: 'revokeAccessTokens'; id: string }
  | { kind: 'exchangeTeamsToken' };

/** A request body read once: parsed JSON, nothing at all, or bytes that are not JSON. */
export type RequestBody =
  { kind: 'json'; value: unknown } | { kind: 'empty' } | { kind: 'invalid' };

export interface AcsReply {
  status: number;
  body?: unknown;
}

export interface AcsContext {
  store: IdentityStore;
  signer: TokenSigner;
  nowMs: number;
  /** The Teams exchange's request, already checked by `TeamsTokenExchange` (dev/emulator/teams.ts). */
  exchanged?: ExchangedTeamsToken | undefined;
  /** Told the id of every token issued (the key rotation needs to know which key signed for it). */
  onIssued?: (jti: string) => void;
}

/**
 * Maps a raw (still percent-encoded) path and method to an ACS route, or throws 404/405.
 * The SDK percent-encodes the identity id (`8%3Aacs%3A...`), so the id segment is decoded
 * here, after splitting, where an encoded '/' cannot confuse the split.
 */
export function matchAcsRoute(method: string, pathname: string): AcsRoute {
  const segments = pathname.split('/').slice(1);
  const [first, second, third, ...rest] = segments;
  let route: AcsRoute | undefined;
  let allowed: string[] = [];
  if (first === 'identities' && rest.length === 0) {
    if (second === undefined) {
      route = { kind: 'identities' };
      allowed = ['POST'];
    } else if (second !== '') {
      const id = decodeSegment(second);
      if (id !== undefined && third === undefined) {
        route = { kind: 'identity', id };
        allowed = ['DELETE'];
      } else if (id !== undefined && third === ':issueAccessToken') {
        route = { kind: 'issueAccessToken', id };
        allowed = ['POST'];
      } else if (id !== undefined && third === ':revokeAccessTokens') {
        route = { kind: 'revokeAccessTokens', id };
        allowed = ['POST'];
      }
    }
  } else if (first === 'teamsUser' && second === ':exchangeAccessToken' && third === undefined) {
    route = { kind: 'exchangeTeamsToken' };
    allowed = ['POST'];
  }
  if (route === undefined) throw pathNotFound(pathname);
  if (!allowed.includes(method)) throw methodNotAllowed(method, allowed);
  return route;
}

/** `POST /identities` is two operations; the body says which. */
export function operationOf(route: AcsRoute, body: RequestBody): AcsOperation {
  switch (route.kind) {
    case 'identities': {
      const value = body.kind === 'json' ? body.value : undefined;
      const scopes = isObject(value) ? value.createTokenWithScopes : undefined;
      return scopes === undefined || scopes === null ? 'createUser' : 'createUserAndToken';
    }
    case 'identity':
      return 'deleteIdentity';
    case 'issueAccessToken':
      return 'issueAccessToken';
    case 'revokeAccessTokens':
      return 'revokeAccessTokens';
    case 'exchangeTeamsToken':
      return 'exchangeTeamsToken';
  }
}

/** Validates and performs one ACS operation; failures are thrown as AcsError. */
export function performOperation(
  route: AcsRoute,
  query: URLSearchParams,
  body: RequestBody,
  ctx: AcsContext,
): AcsReply {
  const versions = query.getAll('api-version');
  if (versions.length !== 1 || versions[0] !== API_VERSION) {
    throw unsupportedApiVersion(versions[0] ?? null);
  }
  const { store, signer, nowMs } = ctx;
  switch (route.kind) {
    case 'identities': {
      const request = objectBody(body, true);
      const scopes = request.createTokenWithScopes;
      if (scopes === undefined || scopes === null) {
        return { status: 201, body: { identity: { id: store.create(nowMs) } } };
      }
      const granted = parseScopes(scopes, 'createTokenWithScopes');
      const minutes = parseExpiresInMinutes(request.expiresInMinutes);
      const id = store.create(nowMs);
      const issued = signer.issue(id, granted, minutes, nowMs);
      store.recordIssued(id, issued.claims.jti, nowMs);
      ctx.onIssued?.(issued.claims.jti);
      return {
        status: 201,
        body: {
          identity: { id },
          accessToken: { token: issued.token, expiresOn: issued.expiresOn },
        },
      };
    }
    case 'issueAccessToken': {
      const request = objectBody(body, false);
      const granted = parseScopes(request.scopes, 'scopes');
      const minutes = parseExpiresInMinutes(request.expiresInMinutes);
      if (!store.owns(route.id)) throw identityNotOwned();
      if (!store.isLive(route.id)) throw identityNotFound(route.id);
      const issued = signer.issue(route.id, granted, minutes, nowMs);
      store.recordIssued(route.id, issued.claims.jti, nowMs);
      ctx.onIssued?.(issued.claims.jti);
      return { status: 200, body: { token: issued.token, expiresOn: issued.expiresOn } };
    }
    case 'revokeAccessTokens':
      if (!store.owns(route.id)) throw identityNotOwned();
      if (!store.revoke(route.id, nowMs)) throw identityNotFound(route.id);
      return { status: 204 };
    case 'identity':
      if (!store.owns(route.id)) throw identityNotOwned();
      if (!store.delete(route.id)) throw identityNotFound(route.id);
      return { status: 204 };
    case 'exchangeTeamsToken': {
      const { exchanged } = ctx;
      if (!exchanged) throw new Error('the Teams exchange was not verified first');
      const issued = signer.issueUntil(
        `8:orgid:${exchanged.userId}`,
        ['voip'],
        exchanged.expiresAtSeconds,
        nowMs,
      );
      ctx.onIssued?.(issued.claims.jti);
      return { status: 200, body: { token: issued.token, expiresOn: issued.expiresOn } };
    }
  }
}

function objectBody(body: RequestBody, emptyAllowed: boolean): Record<string, unknown> {
  if (body.kind === 'invalid') throw invalidJson();
  if (body.kind === 'empty') {
    if (emptyAllowed) return {};
    throw badRequest('A JSON request body is required.');
  }
  if (!isObject(body.value)) throw badRequest('The request body must be a JSON object.');
  return body.value;
}

/*
 * Scope and lifetime errors as ACS answers them: ValidationError with `target` naming the field
 * (azure-sdk-for-js sdk/communication/communication-identity/recordings/node/
 * communicationidentityclient_playbacklive_error_cases_/: ..._issue_a_token_without_any_scopes.json,
 * "Invalid scopes - Scopes field is required.", target `scopes`; ..._issue_a_token_with_
 * {min,max}_invalid_expiration.json, "ExpiresInMinutes value 59 is invalid.", target
 * `ExpiresInMinutes`). No recording covers an unknown or repeated scope; those texts are ours.
 */
function parseScopes(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new FieldAcsError('Invalid scopes - Scopes field is required.', field);
  }
  const seen = new Set<string>();
  for (const scope of value) {
    if (typeof scope !== 'string' || !KNOWN_SCOPES.includes(scope)) {
      throw new FieldAcsError(
        `Scope ${JSON.stringify(scope)} is not valid; use ${KNOWN_SCOPES.join(', ')}.`,
        field,
      );
    }
    if (seen.has(scope)) {
      throw new FieldAcsError(`Scope '${scope}' is listed more than once.`, field);
    }
    seen.add(scope);
  }
  return [...seen];
}

function parseExpiresInMinutes(value: unknown): number {
  if (value === undefined || value === null) return DEFAULT_EXPIRES_IN_MINUTES;
  if (!Number.isInteger(value) || (value as number) < 60 || (value as number) > 1440) {
    const shown = String(JSON.stringify(value)).slice(0, 40);
    throw new FieldAcsError(`ExpiresInMinutes value ${shown} is invalid.`, 'ExpiresInMinutes');
  }
  return value as number;
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
