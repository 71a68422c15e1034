import http from 'node:http';
import type { AddressInfo } from 'node:net';

function listen(server: http.Server, port: number, host: string): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/**
 * A second server that behaves as `server` does: the same parser options (the local host runs
 * llhttp leniently and applies Kestrel's rules itself, dev/host/kestrel.ts) and the same
 * request and parse-error handlers.
 */
function twinOf(server: http.Server): http.Server {
  // Node keeps the options it was created with on the server object.
  const { insecureHTTPParser, maxHeaderSize, requireHostHeader } = server as http.Server &
    http.ServerOptions;
  const twin = http.createServer({ insecureHTTPParser, maxHeaderSize, requireHostHeader });
  for (const event of ['request', 'clientError'] as const) {
    for (const listener of server.listeners(event)) {
      twin.on(event, listener as (...args: unknown[]) => void);
    }
  }
  return twin;
}

/**
 * Serves on 127.0.0.1 and, when the machine has it, ::1: "localhost" may resolve to either,
 * and a development host has no business listening beyond loopback.
 */
export async function listenOnLoopback(server: http.Server, port: number): Promise<http.Server[]> {
  const v4 = await listen(server, port, '127.0.0.1');
  const actual = (v4.address() as AddressInfo).port;
  try {
    return [v4, await listen(twinOf(server), actual, '::1')];
  } catch {
    return [v4];
  }
}
