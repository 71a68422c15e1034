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
 * Serves on 127.0.0.1 and, when the machine has it, ::1: "localhost" may resolve to either,
 * and a development host has no business listening beyond loopback.
 */
export async function listenOnLoopback(server: http.Server, port: number): Promise<http.Server[]> {
  const v4 = await listen(server, port, '127.0.0.1');
  const actual = (v4.address() as AddressInfo).port;
  const twin = http.createServer();
  for (const listener of server.listeners('request')) {
    twin.on('request', listener as (...args: unknown[]) => void);
  }
  try {
    return [v4, await listen(twin, actual, '::1')];
  } catch {
    return [v4];
  }
}
