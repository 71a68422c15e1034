import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { setMaxListeners } from 'node:events';
import type { AddressInfo } from 'node:net';

import type { RequestBody } from './acs';
import { acsHandler, sendReply } from './acsHandler';
import { handleAdmin, isAdminPath, isLoopback, JWKS_PATH, needsLoopback } from './admin';
import { EntraAuth, handleRoleAdmin } from './entra';
import { AcsError, forbidden } from './errors';
import { parseFaultPatch } from './faults';
import { AccessKeys } from './accessKeys';
import { decodeAccessKey } from './hmac';
import { handleQuotaAdmin } from './quotaAdmin';
import { QuotaGate } from './quotas';
import { parseBody, readBody, sendError, sendJson } from './http';
import {
  loadState,
  lockState,
  type PersistedState,
  STATE_FORMAT,
  STATE_VERSION,
  StateFileError,
  StateWriter,
} from './persistence';
import { EmulatorState } from './state';
import { TeamsTokenExchange } from './teams';
import { IdentityStore } from './store';
import {
  createSigningKey,
  type SigningKey,
  signingKeyFromPem,
  signingKeyToPem,
  TokenSigner,
} from './tokens';
import type { EmulatorOptions, RunningEmulator } from './types';

/**
 * Starts an ACS Identity emulator that the unchanged `@azure/communication-identity` SDK
 * can talk to (build the client with `{ allowInsecureConnection: true }`).
 *
 * @example
 * const emu = await startEmulator({ port: 0 });
 * const client = new CommunicationIdentityClient(emu.connectionString, {
 *   allowInsecureConnection: true,
 * });
 * const { user, token } = await client.createUserAndToken(['chat']);
 * await emu.close();
 */
export async function startEmulator(opts: EmulatorOptions = {}): Promise<RunningEmulator> {
  const host = opts.host ?? '127.0.0.1';
  if (opts.secondaryAccessKey !== undefined) decodeAccessKey(opts.secondaryAccessKey);
  const random = opts.random ?? Math.random;
  const allowRemoteAdmin = opts.allowRemoteAdmin ?? false;
  // Fail on bad initial faults before a socket is opened, not after.
  const initialFaults = parseFaultPatch(opts.faults ?? {});
  const quotas = new QuotaGate(opts.quotas ?? {});
  const { accessKey, resourceId, signingKey, store, writer, release } = await openResource(opts);
  decodeAccessKey(accessKey);

  const teams = new TeamsTokenExchange(opts.teamsIssuer);
  // HTTPS when given a certificate: the SDK sends bearer tokens over TLS only.
  const server = opts.tls
    ? createTlsServer({ key: opts.tls.key, cert: opts.tls.cert })
    : createServer();
  const entra = opts.entra && new EntraAuth(opts.entra);
  // Like a cloud front end, keep idle connections well beyond a client's reuse window: Node's 5 s
  // default lets a server close a socket the SDK is about to reuse, and a create that dies that
  // way cannot be retried safely.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;
  try {
    await listen(server, opts.port ?? 0, host);
  } catch (err) {
    release(); // so that a retry on another port can take the state file
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const url = `${opts.tls ? 'https' : 'http'}://${hostForUrl(host)}:${port}`;
  const keys = new AccessKeys(`${url}/`, accessKey, opts.secondaryAccessKey);
  const state = new EmulatorState(
    store,
    new TokenSigner(signingKey, url, resourceId),
    random,
    initialFaults,
    writer,
  );
  // Aborted by close(), so requests sleeping on injected latency do not outlive the server.
  const shutdown = new AbortController();
  // Every delayed request listens on this one signal; under load that is far more than ten.
  setMaxListeners(0, shutdown.signal);

  const handleAcs = acsHandler({
    keys,
    entra,
    state,
    quotas,
    teams,
    random,
    shutdown: shutdown.signal,
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const raw = await readBody(req);
      const target = new URL(req.url ?? '/', 'http://emulator.invalid');
      const body = parseBody(raw);
      if (isAdminPath(target.pathname)) {
        const remoteOk = allowRemoteAdmin || isLoopback(req.socket.remoteAddress);
        if (needsLoopback(target.pathname) && !remoteOk) throw forbidden();
        const method = req.method ?? '';
        const own =
          handleQuotaAdmin(method, target.pathname, body, quotas, keys) ??
          handleRoleAdmin(method, target.pathname, entra);
        if (own) return sendReply(res, own);
        const reply = handleAdmin(method, target.pathname, body, state, Date.now());
        await state.persist();
        return sendReply(res, withQuotasAndKeys(target.pathname, body, reply));
      }
      await handleAcs(req, res, target, raw, body);
    } catch (err) {
      if (err instanceof AcsError) return sendError(res, err);
      if (shutdown.signal.aborted) return void res.socket?.destroy();
      console.error('ACS emulator: unexpected error while handling a request', err);
      sendJson(res, 500, {
        error: { code: 'InternalError', message: 'The emulator failed unexpectedly.' },
      });
    }
  };
  /** The shared admin answers, completed with what quotas and key rotation add to them. */
  const withQuotasAndKeys = (
    pathname: string,
    body: RequestBody,
    reply: { status: number; body?: unknown },
  ): { status: number; body?: unknown } => {
    if (pathname === '/admin/stats' && isRecord(reply.body)) {
      return { ...reply, body: { ...reply.body, quotas: quotas.stats() } };
    }
    if (pathname === '/admin/reset') quotas.reset();
    if (pathname === '/admin/introspect' && isRecord(reply.body) && reply.body.active === true) {
      const token = body.kind === 'json' && isRecord(body.value) ? body.value.token : undefined;
      const jti = typeof token === 'string' ? state.signer.verify(token)?.jti : undefined;
      if (jti !== undefined && keys.revokedByRotation(jti)) {
        return { ...reply, body: { ...reply.body, active: false, reason: 'revoked' } };
      }
    }
    return reply;
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => void handle(req, res));

  const requireEntra = (): EntraAuth => {
    if (!entra) throw new Error('the emulator was started without entra options');
    return entra;
  };

  let closing: Promise<void> | undefined;
  const endpoint = `${url}/`;
  return {
    url,
    endpoint,
    get accessKey() {
      return keys.list().primaryKey;
    },
    resourceId,
    get connectionString() {
      return keys.list().primaryConnectionString;
    },
    keys: () => keys.list(),
    regenerateKey: (keyType) => keys.regenerate(keyType),
    grantRole: (principalId) => requireEntra().grant(principalId),
    removeRole: (principalId) => requireEntra().remove(principalId),
    quotaStats: () => quotas.stats(),
    setQuotas: (patch) => void quotas.configure(patch),
    jwksUrl: `${url}${JWKS_PATH}`,
    counts: () => state.counts(),
    identities: () => state.store.list(),
    faults: () => state.faults(),
    setFaults: (f) => void state.setFaults(f),
    reset: (o) => {
      state.reset(o);
      quotas.reset();
    },
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        shutdown.abort();
        server.close((err) => (err ? reject(err) : resolve()));
        // close() alone waits for keep-alive sockets the SDK's agent holds open.
        server.closeAllConnections();
      })
        .then(() => state.flush())
        .finally(release)),
  };
}

interface Resource {
  accessKey: string;
  resourceId: string;
  signingKey: SigningKey;
  store: IdentityStore;
  writer: StateWriter | undefined;
  /** Gives the state file up (a no-op for a throw-away emulator). */
  release: () => void;
}

/**
 * The resource to serve: the one kept in `opts.stateFile` when there is one (taken for this
 * process until `release`), else a new one from the options.
 */
async function openResource(opts: EmulatorOptions): Promise<Resource> {
  // A bad access key fails here, before a state file is written for it.
  if (opts.accessKey !== undefined) decodeAccessKey(opts.accessKey);
  const file = opts.stateFile;
  const release = file === undefined ? () => undefined : lockState(file);
  try {
    const saved = file === undefined ? undefined : loadState(file);
    if (saved && file !== undefined) refuseAnotherResource(opts, saved, file);
    const accessKey =
      saved?.resource.accessKey ?? opts.accessKey ?? randomBytes(32).toString('base64');
    const resourceId =
      saved?.resource.id ?? opts.resourceId ?? resourceIdFor(decodeAccessKey(accessKey));
    const signingKey = saved ? signingKeyFrom(saved, file ?? '') : await createSigningKey();
    const store = new IdentityStore(resourceId, saved?.identities);
    const privateKeyPem = signingKeyToPem(signingKey);
    const writer =
      file === undefined
        ? undefined
        : new StateWriter(file, () => ({
            format: STATE_FORMAT,
            version: STATE_VERSION,
            resource: { id: resourceId, accessKey },
            signingKey: { privateKeyPem },
            identities: store.snapshot(),
          }));
    // The resource exists from its first start on: its id and keys never change afterwards.
    if (writer && !saved) await writer.save();
    return { accessKey, resourceId, signingKey, store, writer, release };
  } catch (err) {
    release();
    throw err;
  }
}

/** A state file holds one resource; serving it under another key or id would be another one. */
function refuseAnotherResource(opts: EmulatorOptions, saved: PersistedState, file: string): void {
  if (opts.accessKey !== undefined && opts.accessKey !== saved.resource.accessKey) {
    throw new StateFileError(file, 'belongs to a resource with another access key');
  }
  if (opts.resourceId !== undefined && opts.resourceId !== saved.resource.id) {
    throw new StateFileError(file, `belongs to resource ${saved.resource.id}`);
  }
}

function signingKeyFrom(saved: PersistedState, file: string): SigningKey {
  try {
    return signingKeyFromPem(saved.signingKey.privateKeyPem);
  } catch {
    throw new StateFileError(file, 'holds a signing key that cannot be read');
  }
}

/**
 * A resource id (a GUID, as ACS's are) that is the same for the same access key on every start:
 * the leading bytes of a SHA-256 of the key, marked as an RFC 9562 version-8 (custom) UUID.
 */
export function resourceIdFor(key: Buffer): string {
  const bytes = createHash('sha256').update('acs-emulator-resource-id:').update(key).digest();
  bytes.writeUInt8((bytes.readUInt8(6) & 0x0f) | 0x80, 6);
  bytes.writeUInt8((bytes.readUInt8(8) & 0x3f) | 0x80, 8);
  const hex = bytes.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Wildcard binds are reached through loopback; IPv6 literals need brackets in a URL. */
function hostForUrl(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
