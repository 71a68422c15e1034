import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAzurite, type RunningAzurite } from '../azurite';
import { startEmulator, type RunningEmulator } from '../emulator';
import { startIssuer, type RunningIssuer } from '../issuer';
import { localCertificate, type LocalCertificate } from '../tls';
import { startManagedIdentityEndpoint, type RunningManagedIdentity } from './managedIdentity';

/** Everything the app reaches through managed identity, as on App Service, on this machine. */
export interface ManagedIdentityStack {
  issuer: RunningIssuer;
  identity: RunningManagedIdentity;
  emulator: RunningEmulator;
  /** Present when asked for (easyauth and jwt modes keep an identity map). */
  azurite: RunningAzurite | undefined;
  certificate: LocalCertificate;
  /**
   * What the platform puts in the worker's environment beside the app settings: the token
   * service's two variables, and the trust of the local certificate authority.
   */
  platformEnv: { IDENTITY_ENDPOINT: string; IDENTITY_HEADER: string; NODE_EXTRA_CA_CERTS: string };
  /** The HTTPS endpoints that stand in for the ACS resource and the storage account's tables. */
  acsEndpoint: string;
  tableEndpoint: string | undefined;
  dispose(): Promise<void>;
}

/**
 * The local issuer (Entra ID's keys), the managed-identity endpoint (App Service's token service),
 * the emulator over HTTPS taking bearer tokens, with the app's identity holding its role, and
 * optionally Azurite over HTTPS with `--oauth basic`.
 */
export async function startManagedIdentityStack(opts: {
  azurite?: boolean;
  projectRoot: string;
}): Promise<ManagedIdentityStack> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'acs-mi-'));
  const certificate = localCertificate(path.join(work, 'tls'));
  const issuer = await startIssuer({ port: 0 });
  const identity = await startManagedIdentityEndpoint({ signer: issuer });
  const emulator = await startEmulator({
    port: 0,
    tls: { key: certificate.key, cert: certificate.cert },
    entra: {
      jwksUrl: issuer.jwksUrl,
      tenantId: identity.tenantId,
      roleHolders: [identity.systemAssigned.principalId],
    },
  });
  const azurite = opts.azurite
    ? await startAzurite({
        projectRoot: opts.projectRoot,
        location: path.join(work, 'azurite'),
        oauth: certificate,
      })
    : undefined;
  return {
    issuer,
    identity,
    emulator,
    azurite,
    certificate,
    platformEnv: { ...identity.env(), NODE_EXTRA_CA_CERTS: certificate.caFile },
    acsEndpoint: emulator.endpoint,
    tableEndpoint: azurite?.tableEndpoint,
    async dispose() {
      await Promise.all([emulator.close(), identity.close(), issuer.close(), azurite?.stop()]);
      rmSync(work, { recursive: true, force: true });
    },
  };
}
