/**
 * A locally made certificate authority and a loopback server certificate it signs, for the
 * stand-ins that must speak HTTPS as Azure's services do: Azurite refuses bearer tokens over
 * plain HTTP (node_modules/azurite/dist/src/table/authentication/TableTokenAuthenticator.js:
 * "Authentication scheme Bearer is not allowed with HTTP"), and so does the Azure SDK's
 * bearer-token policy (@azure/core-rest-pipeline bearerTokenAuthenticationPolicy: "Bearer token
 * authentication is not permitted for non-TLS protected (non-https) URLs"). A client trusts the
 * authority through NODE_EXTRA_CA_CERTS, which Node reads once, when the process starts.
 *
 * Made with the openssl command line (present on Debian and every CI image the project uses);
 * kept in `dir` and reused while it has more than a day to live.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface LocalCertificate {
  /** The authority's certificate: what NODE_EXTRA_CA_CERTS names. */
  caFile: string;
  /** The server certificate (for 127.0.0.1, ::1 and localhost) and its private key. */
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
}

const DAY_MS = 86_400_000;

export function localCertificate(dir: string): LocalCertificate {
  mkdirSync(dir, { recursive: true });
  const caFile = path.join(dir, 'ca.pem');
  const caKey = path.join(dir, 'ca-key.pem');
  const certFile = path.join(dir, 'server.pem');
  const keyFile = path.join(dir, 'server-key.pem');
  if (!stillGood(certFile) || !stillGood(caFile)) {
    const openssl = (args: string[]) =>
      execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      openssl([
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-sha256',
        '-days',
        '30',
        '-subj',
        '/CN=acs-token-service local development CA',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
        '-keyout',
        caKey,
        '-out',
        caFile,
      ]);
      const csr = path.join(dir, 'server.csr');
      openssl([
        'req',
        '-new',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-sha256',
        '-subj',
        '/CN=localhost',
        '-keyout',
        keyFile,
        '-out',
        csr,
      ]);
      const ext = path.join(dir, 'server.ext');
      writeFileSync(
        ext,
        [
          'basicConstraints=critical,CA:FALSE',
          'keyUsage=critical,digitalSignature,keyEncipherment',
          'extendedKeyUsage=serverAuth',
          'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
          '',
        ].join('\n'),
      );
      openssl([
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        caFile,
        '-CAkey',
        caKey,
        '-CAcreateserial',
        '-days',
        '30',
        '-sha256',
        '-extfile',
        ext,
        '-out',
        certFile,
      ]);
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
      if (e.code === 'ENOENT') {
        throw new Error(
          'openssl is needed to make the local HTTPS certificate (Debian: apt-get install openssl)',
        );
      }
      throw new Error(`openssl failed: ${e.stderr?.toString().trim() ?? e.message}`);
    }
  }
  return {
    caFile,
    certFile,
    keyFile,
    cert: readFileSync(certFile, 'utf8'),
    key: readFileSync(keyFile, 'utf8'),
  };
}

function stillGood(file: string): boolean {
  if (!existsSync(file)) return false;
  try {
    const cert = new X509Certificate(readFileSync(file));
    return Date.parse(cert.validTo) - Date.now() > DAY_MS;
  } catch {
    return false;
  }
}
