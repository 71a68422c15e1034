const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Plain http is only for a local emulator or Azurite; anything else would send signed requests
 * in clear. Config refuses other http:// endpoints, and the clients allow insecure connections
 * only to these hosts.
 */
export function isLoopback(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname);
}
