import path from 'node:path';

import type { RunningAzurite } from './azurite';
import type { RunningEmulator } from './emulator';
import type { CorsPolicy } from './host/cors';
import type { RunningManagedIdentity } from './identity';
import type { LocalState } from './localState';

/** How callers authenticate, with what the banner's example request needs for each mode. */
export type BannerAuth =
  | { mode: 'key'; keySource: string; functionKey: string }
  | { mode: 'easyauth'; issuer: string }
  | { mode: 'jwt'; issuer: string; audience: string; bearer: string };

export interface BannerFacts {
  /** `http://localhost:<port>`. */
  base: string;
  routePrefix: string;
  routes: readonly { name: string; route: string; authLevel: string }[];
  emulator: RunningEmulator | undefined;
  azurite: RunningAzurite | undefined;
  /** The local managed-identity endpoint (ACS_AUTH=managedIdentity). */
  identity: RunningManagedIdentity | undefined;
  state: LocalState;
  issuerUrl: string;
  auth: BannerAuth;
  cors: CorsPolicy;
  demo: boolean;
}

/**
 * What `npm start` prints once the host listens: every route with its auth level, where each
 * local service runs, and a request to try. Its last line, `Local host ready at <base>`, is what
 * scripts and tests wait for.
 */
export function startBanner(facts: BannerFacts): string {
  const { base, auth, emulator, azurite, identity, state, cors } = facts;
  const nameWidth = Math.max(8, ...facts.routes.map((r) => r.name.length));
  return [
    '',
    'acs-token-service (local Functions host)',
    ...facts.routes.map(
      (r) =>
        `  ${r.name.padEnd(nameWidth)} ${base}/${[facts.routePrefix, r.route].filter(Boolean).join('/')}  (${r.authLevel})`,
    ),
    emulator
      ? `  ACS: emulator at ${emulator.url} (stats: ${emulator.url}/admin/stats), resource ${emulator.resourceId}`
      : '  ACS: the resource configured in ACS_CONNECTION_STRING / ACS_ENDPOINT',
    azurite
      ? `  Identity map: Azurite on 127.0.0.1:${azurite.port}${identity ? ' (HTTPS, OAuth)' : ''}`
      : '',
    identity
      ? `  ACS auth: managed identity, token service at ${identity.endpoint}; principal ${identity.systemAssigned.principalId} holds Contributor on the emulator (${emulator?.url ?? ''}/admin/roles)`
      : '',
    emulator || azurite
      ? `  Local state: ${shown(state.dir)}${emulator && !state.emulatorFile ? ' (emulator: throw-away)' : ''}; \`npm run reset\` clears it`
      : '',
    `  Issuer: local OpenID Connect issuer at ${facts.issuerUrl} (mint: POST ${facts.issuerUrl}/dev/token)`,
    auth.mode === 'easyauth'
      ? `  Auth: easyauth (sign in at ${base}/.auth/login/dev?user=alice&roles=member, or send a bearer token from ${auth.issuer})`
      : auth.mode === 'jwt'
        ? `  Auth: jwt (bearer tokens from ${auth.issuer}, audience ${auth.audience})`
        : `  Auth: function key from ${auth.keySource}`,
    cors.origins.length === 0
      ? '  CORS: no origin allowed (CORS_ALLOWED_ORIGINS)'
      : `  CORS: ${cors.origins === '*' ? 'any origin' : cors.origins.join(', ')}${cors.supportCredentials ? ', with credentials' : ''}`,
    facts.demo ? `  Demo: ${base}/  (browser demo from examples/browser)` : '',
    '',
    'Try:',
    auth.mode === 'jwt'
      ? `  curl -s -X POST '${base}/api/token' -H 'authorization: Bearer ${auth.bearer}' -H 'content-type: application/json' -d '{"scopes":["voip"]}'`
      : auth.mode === 'easyauth'
        ? `  curl -s -c /tmp/acs-jar '${base}/.auth/login/dev?user=alice&roles=member' && curl -s -b /tmp/acs-jar -X POST '${base}/api/token' -H 'content-type: application/json' -d '{"scopes":["voip"]}'`
        : `  curl -s -X POST '${base}/api/token' -H 'x-functions-key: ${auth.functionKey}' -H 'content-type: application/json' -d '{"scopes":["voip"],"expiresInMinutes":60}'`,
    '',
    `Local host ready at ${base}`,
  ]
    .filter((line, i, all) => line !== '' || all[i - 1] !== '')
    .join('\n');
}

function shown(dir: string): string {
  const relative = path.relative(process.cwd(), dir);
  return relative && !relative.startsWith('..') ? relative : dir;
}
