import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

import { API_VERSION, matchAcsRoute, operationOf, performOperation, type RequestBody } from './acs';
import type { AccessKeys } from './accessKeys';
import type { EntraAuth } from './entra';
import { injectedFault } from './errors';
import { faultsApplyTo, fires } from './faults';
import { sendEmpty, sendJson, sendRaw } from './http';
import type { QuotaGate } from './quotas';
import type { EmulatorState } from './state';
import type { TeamsTokenExchange } from './teams';
import type { FaultConfig } from './types';

/** What the ACS surface works with; the server builds it once. */
export interface AcsSurface {
  keys: AccessKeys;
  /** Entra ID sign-in (bearer tokens), when the emulator was given an issuer to trust. */
  entra: EntraAuth | undefined;
  state: EmulatorState;
  quotas: QuotaGate;
  teams: TeamsTokenExchange;
  random: () => number;
  /** Aborted when the emulator closes, so requests asleep on injected latency end with it. */
  shutdown: AbortSignal;
}

export type AcsHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  target: URL,
  raw: Buffer,
  body: RequestBody,
) => Promise<void>;

/**
 * One ACS Identity request, in the order ACS applies its checks: authentication, then the
 * resource's quotas, then (emulator only) injected faults, then the operation itself, whose
 * change is kept before it is answered. An `AcsError` thrown here is answered by the server.
 */
export function acsHandler(surface: AcsSurface): AcsHandler {
  const { keys, entra, state, quotas, teams, random, shutdown } = surface;
  /** What signed the request: an access key's id, or `entra:<principal id>`. */
  const authenticate = async (req: IncomingMessage, raw: Buffer): Promise<string> => {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    // Without Entra ID sign-in the access-key check answers a bearer token (401 Denied).
    if (!bearer?.[1] || !entra) {
      return keys.verify(
        { method: req.method ?? '', target: req.url ?? '/', headers: req.headers, body: raw },
        Date.now(),
      );
    }
    return `entra:${await entra.authorize(bearer[1], Date.now())}`;
  };
  return async (req, res, target, raw, body) => {
    const route = matchAcsRoute(req.method ?? '', target.pathname);
    let keyId: string;
    try {
      keyId = await authenticate(req, raw);
    } catch (err) {
      state.count('rejected');
      throw err;
    }
    const op = operationOf(route, body);
    state.count(op);
    // Quotas before injected faults: a throttled call never reaches the operation.
    quotas.admit(op, Date.now());

    const faults: FaultConfig = state.faults();
    const faulted = faultsApplyTo(faults, op);
    if (faulted) {
      if (fires(faults.dropRate, random)) return void res.socket?.destroy();
      if (fires(faults.errorRate, random)) {
        throw injectedFault(faults.errorStatus, faults.retryAfterSeconds);
      }
      if (faults.latencyMs > 0) {
        await sleep(faults.latencyMs, undefined, { signal: shutdown });
      }
    }

    // One clock reading for the whole operation: the Teams check awaits the issuer's keys, and a
    // second reading after it could fall in the next second (a 24 h cap read as 86,399 s).
    const nowMs = Date.now();
    const exchanged =
      route.kind === 'exchangeTeamsToken' &&
      target.searchParams.getAll('api-version').join() === API_VERSION
        ? await teams.verify(body, nowMs)
        : undefined;
    let reply;
    try {
      reply = performOperation(route, target.searchParams, body, {
        store: state.store,
        signer: state.signer,
        nowMs,
        exchanged,
        onIssued: (jti) => keys.recordIssued(jti, keyId),
      });
    } finally {
      // What was changed is kept before anything is answered, as ACS keeps what it acknowledged.
      await state.persist();
    }

    if (faulted) {
      // The operation has committed: the caller cannot tell, which is the point.
      if (fires(faults.dropAfterCommitRate, random)) return void res.socket?.destroy();
      if (reply.body !== undefined && fires(faults.malformedRate, random)) {
        return sendRaw(res, reply.status, JSON.stringify(reply.body).slice(0, -1));
      }
    }
    sendReply(res, reply);
  };
}

export function sendReply(res: ServerResponse, reply: { status: number; body?: unknown }): void {
  if (reply.body === undefined) sendEmpty(res, reply.status);
  else sendJson(res, reply.status, reply.body);
}
