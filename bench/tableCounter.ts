/**
 * `node dist/bench/tableCounter.js`: a counting HTTP proxy in front of Azurite's Table service,
 * run in its own process so forwarding costs no CPU in the load generator. Every request it
 * forwards is one Table Storage operation (a batch would count once; the service sends none).
 *
 * BENCH_TABLE_TARGET_PORT  Azurite's table port on 127.0.0.1 (required)
 * BENCH_TABLE_LATENCY_MS   latency added before forwarding each operation (default 0): the
 *                          open-loop rows assume 8 ms per Table Storage operation
 *
 * Prints "table counter listening on <port>"; `GET /__bench/table-ops` answers {"count":n};
 * `PUT /__bench/latency?ms=<n>` changes the added latency.
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
let latencyMs = Number(process.env.BENCH_TABLE_LATENCY_MS ?? 0) || 0;

const server = http.createServer((req, res) => {
  if (req.url === '/__bench/table-ops') {
    const body = JSON.stringify({ count });
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    return;
  }
  if (req.url?.startsWith('/__bench/latency?') && req.method === 'PUT') {
    const ms = Number(new URL(req.url, 'http://x').searchParams.get('ms'));
    if (!Number.isInteger(ms) || ms < 0) return void res.writeHead(400).end();
    latencyMs = ms;
    res.writeHead(204).end();
    return;
  }
  count += 1;
  // The request body waits in its stream (paused until piped) while the latency runs.
  if (latencyMs > 0) setTimeout(() => forward(req, res), latencyMs);
  else forward(req, res);
});

function forward(req: http.IncomingMessage, res: http.ServerResponse): void {
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
}

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
