// A cluster member's metrics as prom-client metrics: the pool metrics of each partition it serves
// (labelled `partition`; a partition's series leave with it) and the member's own counters (batches
// served, partitions taken, handed over and lost), read from the member at each scrape.

import { Counter, Gauge, register as globalRegistry, type Registry } from 'prom-client';
import { InvalidOptionError } from '../errors.js';
import type { ReactorPool } from '../pool.js';
import type { PoolCollector, PrometheusOptions } from '../prometheus.js';
import type { ClusterMember } from './cluster-member.js';
import type { MemberMetrics } from './member-metrics.js';
import { PARTITION_POOLS } from './partition-pools.js';

/** What `collectMemberMetrics` returns. */
export interface MemberCollector {
  /** Takes the member's metrics, and its partitions' pools, out of the registry. Idempotent. */
  unregister(): void;
}

type CollectPool = (pool: ReactorPool, options: PrometheusOptions) => PoolCollector;

const PREFIX = 'reactor_pool_cluster_';

/** The member's own metrics, by name (after `reactor_pool_cluster_`). */
const MEMBER_METRICS: Readonly<Record<string, { readonly type: 'counter' | 'gauge'; readonly help: string; readonly read: (m: MemberMetrics) => number }>> = {
  partitions: { type: 'gauge', help: 'Partitions this member serves now.', read: (m) => m.partitions.length },
  batches_total: { type: 'counter', help: 'Batches of operations this member received for its partitions.', read: (m) => m.served.batches },
  operations_total: { type: 'counter', help: 'Operations in those batches.', read: (m) => m.served.operations },
  moved_total: { type: 'counter', help: 'Batches answered "moved" (the partition was being handed over or was lost).', read: (m) => m.served.moved },
  resent_total: { type: 'counter', help: 'Operations answered "send again" (the journal refused them, or the partition stopped under them).', read: (m) => m.served.resent },
  partitions_acquired_total: { type: 'counter', help: 'Partitions this member took over and began to serve.', read: (m) => m.acquired },
  partitions_released_total: { type: 'counter', help: 'Partitions this member handed over.', read: (m) => m.released },
  partitions_lost_total: { type: 'counter', help: 'Partitions this member stopped serving without handing them over (lease or fence lost).', read: (m) => m.lost },
};

/**
 * Collects `member`'s metrics into a registry (see `collectMemberMetrics` in `reactor-pool/prometheus`).
 * `collectPool` is the pool adapter, passed in so that this module does not import it.
 */
export function collectMember<E extends object, M>(member: ClusterMember<E, M>, options: PrometheusOptions, collectPool: CollectPool): MemberCollector {
  const registry: Registry = options.registry ?? globalRegistry;
  // Checked by the caller (names, values; no `partition`).
  const labels = options.labels ?? {};
  const taken = Object.keys(MEMBER_METRICS).map((suffix) => PREFIX + suffix).find((name) => registry.getSingleMetric(name) !== undefined);
  if (taken !== undefined) {
    throw new InvalidOptionError(`Expected a registry without another member's metrics (one member per registry), but it has \`${taken}\``);
  }
  // Every metric reads the member once per scrape (their collects run in the same tick).
  let cached: MemberMetrics | undefined;
  const read = (): MemberMetrics => {
    if (cached === undefined) {
      cached = member.metrics();
      queueMicrotask(() => {
        cached = undefined;
      });
    }
    return cached;
  };
  const pools = new Map<number, PoolCollector>();
  const addPool = (partition: number): void => {
    const pool = member[PARTITION_POOLS]().get(partition);
    if (pool === undefined || pools.has(partition)) return;
    pools.set(partition, collectPool(pool as unknown as ReactorPool, { ...options, labels: { ...labels, partition: String(partition) } }));
  };
  const dropPool = (partition: number): void => {
    pools.get(partition)?.unregister();
    pools.delete(partition);
  };
  const names: string[] = [];
  try {
    for (const partition of member[PARTITION_POOLS]().keys()) addPool(partition);
    const labelNames = Object.keys(labels);
    for (const [suffix, def] of Object.entries(MEMBER_METRICS)) {
      const name = PREFIX + suffix;
      const config = { name, help: def.help, labelNames, registers: [registry] };
      if (def.type === 'counter') {
        const counter: Counter = new Counter({ ...config, collect: () => {
          counter.reset();
          counter.inc(labels, def.read(read()));
        } });
      } else {
        const gauge: Gauge = new Gauge({ ...config, collect: () => gauge.set(labels, def.read(read())) });
      }
      names.push(name);
    }
  } catch (error) {
    for (const name of names) registry.removeSingleMetric(name);
    for (const partition of [...pools.keys()]) dropPool(partition);
    throw error;
  }
  const onAcquired = ({ partition }: { partition: number }): void => addPool(partition);
  const onGone = ({ partition }: { partition: number }): void => dropPool(partition);
  member.on('partitionAcquired', onAcquired);
  member.on('partitionReleased', onGone);
  member.on('partitionLost', onGone);
  let registered = true;
  return {
    unregister(): void {
      if (!registered) return;
      registered = false;
      member.off('partitionAcquired', onAcquired);
      member.off('partitionReleased', onGone);
      member.off('partitionLost', onGone);
      for (const partition of [...pools.keys()]) dropPool(partition);
      for (const name of names) registry.removeSingleMetric(name);
    },
  };
}
