// `reactor-pool member --metrics [HOST:]PORT`: the member's Prometheus metrics over HTTP (GET /metrics),
// from a registry of its own that the Prometheus adapter fills at each scrape.

import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClusterMember } from '../cluster/cluster-member.js';
import { InvalidOptionError, describeValue } from '../errors.js';

/** Where the endpoint listens. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** `--metrics`'s value: `PORT` (on 127.0.0.1) or `HOST:PORT`; port 0 takes a free one. */
export function metricsFlag(value: unknown): ListenAddress | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === 'string' ? value : '';
  const match = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(text);
  const port = match === null ? NaN : Number(match[2]);
  if (match === null || port > 65535) {
    throw new InvalidOptionError(`Expected --metrics to be PORT or HOST:PORT (port 0 to 65535), got ${describeValue(value)}`);
  }
  const host = match[1] === undefined ? '127.0.0.1' : match[1].replace(/^\[(.*)\]$/, '$1');
  return { host, port };
}

/** A running endpoint. */
export interface MetricsEndpoint {
  /** `http://HOST:PORT/metrics`, with the port it got. */
  readonly url: string;
  /** Stops listening and takes the member's metrics out of the registry. */
  close(): Promise<void>;
}

/** Serves `member`'s metrics at `address`; ERR_INVALID_OPTION when prom-client is not installed. */
export async function serveMemberMetrics(member: ClusterMember, address: ListenAddress): Promise<MetricsEndpoint> {
  let prom: typeof import('prom-client');
  let adapter: typeof import('../prometheus.js');
  try {
    prom = await import('prom-client');
    adapter = await import('../prometheus.js');
  } catch (error) {
    throw new InvalidOptionError(`--metrics needs the optional peer dependency prom-client (npm install prom-client): ${(error as Error).message}`);
  }
  const registry = new prom.Registry();
  const collector = adapter.collectMemberMetrics(member, { registry });
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || (request.url ?? '').split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${(error as Error).message}\n`),
    );
  });
  server.listen(address.port, address.host);
  try {
    await once(server, 'listening');
  } catch (error) {
    collector.unregister();
    throw new InvalidOptionError(`--metrics cannot listen on ${address.host}:${address.port}: ${(error as Error).message}`);
  }
  const { port } = server.address() as AddressInfo;
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return {
    url: `http://${host}:${port}/metrics`,
    close: async () => {
      collector.unregister();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
