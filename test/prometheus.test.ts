// reactor-pool/prometheus: after known calls, a scrape of /metrics over HTTP (as examples/metrics-server.ts
// serves it) shows every metric with its type and values; pools share a registry by their labels;
// bad options are refused; a pool leaves the registry when it closes.

import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { collectPoolMetrics } from '../dist/src/prometheus.js';
import { REACTOR } from './helpers/fixtures.js';
import { createPool, rejection } from './helpers/pool.js';

/** Serves `registry` on 127.0.0.1 and scrapes /metrics once. */
async function scrape(registry: Registry): Promise<string> {
  const server = createServer((_request, response) => {
    void registry.metrics().then((text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    return await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  } finally {
    server.close();
  }
}

/** The value of the series `series` (name and labels, as printed). */
function valueOf(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('the Prometheus adapter', () => {
  it('exposes every metric with its type and the values of known calls', async () => {
    const pool = await createPool({ module: REACTOR, workers: 2 });
    const registry = new Registry();
    collectPoolMetrics(pool, { registry, labels: { pool: 'p' }, buckets: [0.001, 60] });
    const a = pool.session('a');
    for (let i = 0; i < 7; i++) await a.call('inc', 1);
    expect((await rejection(a.call('nope'))).code).toBe('ERR_UNKNOWN_EXPORT');
    pool.session('b');
    const text = await scrape(registry);
    const types = Object.fromEntries([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
    expect(types).toEqual({
      reactor_pool_calls_total: 'counter',
      reactor_pool_call_duration_seconds: 'histogram',
      reactor_pool_queue_wait_seconds: 'histogram',
      reactor_pool_sessions: 'gauge',
      reactor_pool_sessions_created_total: 'counter',
      reactor_pool_sessions_closed_total: 'counter',
      reactor_pool_sessions_lost_total: 'counter',
      reactor_pool_hibernations_total: 'counter',
      reactor_pool_restores_total: 'counter',
      reactor_pool_recoveries_total: 'counter',
      reactor_pool_instances: 'gauge',
      reactor_pool_instances_created_total: 'counter',
      reactor_pool_pending: 'gauge',
      reactor_pool_workers: 'gauge',
      reactor_pool_worker_busy_seconds_total: 'counter',
      reactor_pool_worker_operations_total: 'counter',
      reactor_pool_worker_memory_bytes: 'gauge',
      reactor_pool_worker_starts_total: 'counter',
      reactor_pool_worker_failures_total: 'counter',
      reactor_pool_worker_recycles_total: 'counter',
    });
    expect(valueOf(text, 'reactor_pool_calls_total{pool="p",outcome="ok"}')).toBe(7);
    expect(valueOf(text, 'reactor_pool_calls_total{pool="p",outcome="ERR_UNKNOWN_EXPORT"}')).toBe(1);
    expect(valueOf(text, 'reactor_pool_sessions{pool="p",state="live"}')).toBe(1);
    expect(valueOf(text, 'reactor_pool_sessions{pool="p",state="unstarted"}')).toBe(1);
    expect(valueOf(text, 'reactor_pool_workers{pool="p"}')).toBe(2);
    expect(valueOf(text, 'reactor_pool_instances{pool="p"}')).toBe(1);
    expect(valueOf(text, 'reactor_pool_worker_starts_total{pool="p"}')).toBe(2);
    expect(valueOf(text, 'reactor_pool_call_duration_seconds_count{pool="p"}')).toBe(7);
    expect(valueOf(text, 'reactor_pool_call_duration_seconds_bucket{pool="p",le="+Inf"}')).toBe(7);
    expect(valueOf(text, 'reactor_pool_call_duration_seconds_bucket{pool="p",le="60"}')).toBe(7);
    const fast = valueOf(text, 'reactor_pool_call_duration_seconds_bucket{pool="p",le="0.001"}') as number;
    expect(fast).toBeGreaterThanOrEqual(0);
    expect(fast).toBeLessThanOrEqual(7);
    expect(valueOf(text, 'reactor_pool_queue_wait_seconds_count{pool="p"}')).toBe(7);
    const sum = valueOf(text, 'reactor_pool_call_duration_seconds_sum{pool="p"}') as number;
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeCloseTo(pool.metrics().callDuration.sumMs / 1000, 9);
    const operations = [0, 1].map((w) => valueOf(text, `reactor_pool_worker_operations_total{pool="p",worker="${w}"}`) as number);
    expect(operations.reduce((a, b) => a + b, 0)).toBe(7);
  });

  it('collects several pools into one registry by their labels, and drops each as it closes', async () => {
    const registry = new Registry();
    const one = await createPool({ module: REACTOR, workers: 1 });
    const two = await createPool({ module: REACTOR, workers: 1 });
    collectPoolMetrics(one, { registry, labels: { pool: 'one' } });
    const collector = collectPoolMetrics(two, { registry, labels: { pool: 'two' } });
    await one.session('a').call('inc', 1);
    await two.session('a').call('inc', 1);
    await two.session('b').call('inc', 1);
    let text = await scrape(registry);
    expect(valueOf(text, 'reactor_pool_calls_total{pool="one",outcome="ok"}')).toBe(1);
    expect(valueOf(text, 'reactor_pool_calls_total{pool="two",outcome="ok"}')).toBe(2);
    await one.close();
    text = await scrape(registry);
    expect(valueOf(text, 'reactor_pool_calls_total{pool="one",outcome="ok"}')).toBeUndefined();
    expect(valueOf(text, 'reactor_pool_calls_total{pool="two",outcome="ok"}')).toBe(2);
    collector.unregister();
    collector.unregister();
    expect((await registry.metrics()).trim()).toBe('');
    expect(registry.getMetricsAsArray()).toHaveLength(0);
  });

  it('refuses bad labels and buckets, and a second pool with the same labels', async () => {
    const registry = new Registry();
    const pool = await createPool({ module: REACTOR, workers: 1 });
    const other = await createPool({ module: REACTOR, workers: 1 });
    const refused = (options: object): string | undefined => {
      try {
        collectPoolMetrics(pool, { registry, ...options });
        return undefined;
      } catch (error) {
        return `${(error as { code: string }).code}: ${(error as Error).message}`;
      }
    };
    expect(refused({ labels: { outcome: 'x' } })).toMatch(/^ERR_INVALID_OPTION: .*got `"outcome"` \(string\)$/);
    expect(refused({ labels: { pool: 1 } })).toMatch(/^ERR_INVALID_OPTION: Expected `labels` to be an object of strings/);
    expect(refused({ buckets: [1, 0.5] })).toMatch(/^ERR_INVALID_OPTION: Expected `buckets` to be ascending positive numbers of seconds, got/);
    collectPoolMetrics(pool, { registry, labels: { pool: 'a' } });
    expect(refused({ labels: { pool: 'b' } })).toMatch(/already collected/);
    expect(() => collectPoolMetrics(other, { registry, labels: { pool: 'a' } })).toThrow(/tell this pool apart/);
    expect(() => collectPoolMetrics(other, { registry, labels: { shard: 'a' } })).toThrow(/same|names the registry's other pools use/);
    expect(() => collectPoolMetrics(other, { registry, labels: { pool: 'b' }, buckets: [1] })).toThrow(/buckets/);
  });
});
