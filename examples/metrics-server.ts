// Serves a pool's metrics to Prometheus: GET /metrics on 127.0.0.1 (a free port), from a prom-client
// registry the reactor-pool/prometheus adapter fills at each scrape. Here it scrapes itself once.

import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { ReactorPool } from 'reactor-pool';
import { collectPoolMetrics } from 'reactor-pool/prometheus';

const pool = await ReactorPool.create({ module: new URL(import.meta.resolve('reactor-pool/reactor.wasm')), workers: 2, stderr: 'ignore' });
const registry = new Registry();
// Unregistered by itself when the pool closes; several pools can share the registry with their own labels.
collectPoolMetrics(pool, { registry, labels: { pool: 'counters' } });

const server = createServer((request, response) => {
  if (request.url !== '/metrics') {
    response.writeHead(404).end();
    return;
  }
  registry.metrics().then(
    (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
    (error: unknown) => response.writeHead(500).end(String(error)),
  );
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
console.log('serving /metrics on 127.0.0.1');

const alice = pool.session('alice');
for (let i = 0; i < 10; i++) await alice.call('inc', 1);
await alice.call('dec', 1).catch((error: unknown) => console.log('refused:', (error as { code: string }).code));
pool.session('bob');

const { port } = server.address() as AddressInfo;
const scraped = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
// The lines whose values this run decides (timings and memory vary from run to run).
const shown = /^(# TYPE reactor_pool_(calls_total|call_duration_seconds) |reactor_pool_(calls_total|sessions|workers|instances|call_duration_seconds_count)[{ ])/;
for (const line of scraped.split('\n')) if (shown.test(line)) console.log(line);

server.close();
await pool.close();
