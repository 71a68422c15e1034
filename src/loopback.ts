const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Plain http is only for a local emulator, Azurite or issuer; anything else would send signed
 * requests, keys or tokens in clear. The clients allow insecure connections only to these hosts.
 */
export function isLoopback(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname);
}

/**
 * The one rule for every endpoint the service reaches (ACS, Table Storage, an OpenID provider and
 * the JWKS its discovery names): https, or http only to a loopback host.
 */
export function isHttpsOrLoopback(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url));
}
