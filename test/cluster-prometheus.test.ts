// A cluster member's Prometheus metrics: the pool metrics of each partition it serves, labelled
// `partition`, and its own counters, read at each scrape; a partition handed over takes its series
// with it; bad options and a second member in one registry are refused.

import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ClusterClient, ClusterMember } from '../dist/src/cluster/index.js';
import { collectMemberMetrics } from '../dist/src/prometheus.js';
import { memberEvents } from './helpers/member-events.js';
import { useNatsServer } from './helpers/nats-fixture.js';
import { natsAvailable } from './helpers/nats-server.js';

const REACTOR = fileURLToPath(new URL('../reactor/reactor.wasm', import.meta.url));

/** The value of the series `series` (name and labels, as printed). */
function valueOf(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe.skipIf(!natsAvailable())('a cluster member\'s Prometheus metrics', () => {
  const fixture = useNatsServer();

  it('shows each partition\'s pool and the member\'s counters; a partition handed over leaves', async () => {
    const options = { nats: fixture.server.url, cluster: 'metrics', module: REACTOR, partitions: 2, pool: { stderr: () => undefined } };
    const first = await ClusterMember.join({ ...options, memberId: 'm1' });
    await memberEvents(first, 'partitionAcquired', 2);
    const registry = new Registry();
    const collector = collectMemberMetrics(first, { registry, labels: { member: 'm1' } });
    const client = await ClusterClient.connect({ nats: fixture.server.url, cluster: 'metrics' });
    // Keys of both partitions, three calls each.
    const keys = Array.from({ length: 8 }, (_, i) => `k${i}`);
    for (let round = 0; round < 3; round++) await Promise.all(keys.map((key) => client.session(key).call('inc', 1)));
    let text = await registry.metrics();
    const ok = (partition: number): number | undefined => valueOf(text, `reactor_pool_calls_total{member="m1",partition="${partition}",outcome="ok"}`);
    expect((ok(0) ?? 0) + (ok(1) ?? 0)).toBe(24);
    expect(valueOf(text, 'reactor_pool_cluster_partitions{member="m1"}')).toBe(2);
    expect(valueOf(text, 'reactor_pool_cluster_operations_total{member="m1"}')).toBe(24);
    expect(valueOf(text, 'reactor_pool_cluster_partitions_acquired_total{member="m1"}')).toBe(2);
    expect(text).toContain('# TYPE reactor_pool_cluster_batches_total counter');

    // One registry, one member.
    expect(() => collectMemberMetrics(first, { registry })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }) as Error);
    const second = await ClusterMember.join({ ...options, memberId: 'm2' });
    expect(() => collectMemberMetrics(second, { registry, labels: { member: 'm2' } })).toThrow(/one member per registry/);
    // A second member takes one partition: the first's series for it leave the registry.
    await memberEvents(second, 'partitionAcquired', 1);
    const moved = second.owned()[0]!;
    text = await registry.metrics();
    expect(valueOf(text, 'reactor_pool_cluster_partitions{member="m1"}')).toBe(1);
    expect(valueOf(text, 'reactor_pool_cluster_partitions_released_total{member="m1"}')).toBe(1);
    expect(text).not.toContain(`partition="${moved}"`);
    expect(text).toContain(`partition="${1 - moved}"`);

    collector.unregister();
    collector.unregister();
    expect(await registry.metrics()).toBe('\n');
    await client.close();
    await second.leave();
    await first.leave();
  });

  it('refuses bad labels and buckets with ERR_INVALID_OPTION before collecting anything', async () => {
    const member = await ClusterMember.join({ nats: fixture.server.url, cluster: 'metrics-options', module: REACTOR, partitions: 1, pool: { stderr: () => undefined } });
    const registry = new Registry();
    for (const options of [{ labels: { partition: 'p' } }, { labels: { le: 'x' } }, { labels: { member: 3 } }, { buckets: [2, 1] }]) {
      expect(() => collectMemberMetrics(member, { registry, ...options } as never), JSON.stringify(options))
        .toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }) as Error);
    }
    expect(await registry.metrics()).toBe('\n');
    await member.leave();
  });
});
