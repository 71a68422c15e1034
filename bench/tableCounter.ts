/**
 * `node dist/bench/tableCounter.js`: a counting HTTP proxy in front of Azurite's Table service,
 * run in its own process so forwarding costs no CPU in the load generator. Every request it
 * forwards is one Table Storage operation (a batch would count once; the service sends none).
 *
 * BENCH_TABLE_TARGET_PORT  Azurite's table port on 127.0.0.1 (required)
 *
 * Prints "table counter listening on <port>"; `GET /__bench/table-ops` answers {"count":n}.
 * The proxy does not read or change requests, so Shared Key signatures stay valid.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const targetPort = Number(process.env.BENCH_TABLE_TARGET_PORT);
if (!Number.isInteger(targetPort) || targetPort < 1 || targetPort > 65535) {
  console.error('tableCounter: BENCH_TABLE_TARGET_PORT must be a port');
  process.exit(2);
}

const agent = new http.Agent({ keepAlive: true });
let count = 0;

const server = http.createServer((req, res) => {
  if (req.url === '/__bench/table-ops') {
    const body = JSON.stringify({ count });
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    return;
  }
  count += 1;
  const upstream = http.request(
    {
      host: '127.0.0.1',
      port: targetPort,
      method: req.method,
      path: req.url,
      headers: req.headers,
      agent,
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(upstream);
});

server.listen(0, '127.0.0.1', () => {
  console.log(`table counter listening on ${(server.address() as AddressInfo).port}`);
});
const stop = () => {
  server.close();
  server.closeAllConnections();
  agent.destroy();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
