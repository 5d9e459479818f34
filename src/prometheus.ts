// `reactor-pool/prometheus`: the pool's metrics as prom-client metrics (an optional peer dependency),
// read from `pool.metrics()` when the registry is scraped: nothing is done per call for Prometheus.

import diagnosticsChannel from 'node:diagnostics_channel';
import { Counter, Gauge, Histogram, register as globalRegistry, type Registry } from 'prom-client';
import { CHANNELS, type PoolClosedMessage } from './diagnostics.js';
import { InvalidOptionError, describeValue } from './errors.js';
import type { PoolMetrics } from './pool-metrics.js';
import type { ReactorPool } from './pool.js';
import type { ClusterMember } from './cluster/cluster-member.js';
import { collectMember, type MemberCollector } from './cluster/member-prometheus.js';

export type { MemberCollector } from './cluster/member-prometheus.js';

/** The histograms' default bucket bounds, in seconds: 10 µs to 10 s. */
export const DEFAULT_BUCKETS: readonly number[] = Object.freeze([
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

/** Label names the adapter uses itself (a pool's own labels may not use them). */
const RESERVED_LABELS = ['outcome', 'state', 'worker', 'le'];

/** Options of {@link collectPoolMetrics}. */
export interface PrometheusOptions {
  /**
   * The registry the metrics go to.
   * @default prom-client's global `register`
   */
  readonly registry?: Registry;
  /**
   * Labels on every series of this pool, e.g. `{ pool: 'orders' }`. Pools sharing a registry must use
   * the same label names, with different values.
   * @default {}
   */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Upper bounds (seconds, ascending) of the `call_duration` and `queue_wait` histograms' buckets. Pools
   * sharing a registry share them. Counted from the pool's 1% buckets: a sample may count against the
   * next bound up when it is within 1% of a bound.
   * @default {@link DEFAULT_BUCKETS}
   */
  readonly buckets?: readonly number[];
}

/** What {@link collectPoolMetrics} returns. */
export interface PoolCollector {
  /** Stops collecting the pool (done by itself when the pool closes); the metrics leave the registry with its last pool. Idempotent. */
  unregister(): void;
}

/** Every metric, by name (after `reactor_pool_`): its type, help, the label it adds, and how to read it. */
interface MetricDef {
  readonly type: 'counter' | 'gauge';
  readonly help: string;
  /** Series of one pool: extra label values and value. */
  readonly read: (metrics: PoolMetrics, pool: ReactorPool) => readonly (readonly [Readonly<Record<string, string>>, number])[];
}

const one = (value: number): readonly (readonly [Record<string, string>, number])[] => [[{}, value]];

const METRICS: Readonly<Record<string, MetricDef>> = {
  calls_total: {
    type: 'counter', help: 'Calls (call and callMany, each once) settled or refused, by outcome: ok or the error code.',
    read: (m) => Object.entries(m.calls).map(([outcome, count]) => [{ outcome }, count] as const),
  },
  sessions: {
    type: 'gauge', help: 'Sessions by state: live, unstarted, hibernated, lost, stored (durable, not open).',
    read: (m) => Object.entries(m.sessions).map(([state, count]) => [{ state }, count] as const),
  },
  sessions_created_total: { type: 'counter', help: 'Session handles created.', read: (m) => one(m.sessionsCreated) },
  sessions_closed_total: { type: 'counter', help: 'Sessions closed.', read: (m) => one(m.sessionsClosed) },
  sessions_lost_total: { type: 'counter', help: 'Sessions lost (the loss rule).', read: (m) => one(m.losses) },
  hibernations_total: { type: 'counter', help: 'Sessions hibernated into the snapshot store.', read: (m) => one(m.hibernations) },
  restores_total: { type: 'counter', help: 'Hibernated sessions restored from the store.', read: (m) => one(m.restores) },
  recoveries_total: { type: 'counter', help: 'Durable sessions rebuilt from snapshot and journal.', read: (m) => one(m.recoveries) },
  instances: { type: 'gauge', help: 'Live reactor instances (counted against maxInstances).', read: (m) => one(m.instances) },
  instances_created_total: { type: 'counter', help: 'Instance starts queued (first calls, resets, restores, wakes).', read: (m) => one(m.instancesCreated) },
  pending: { type: 'gauge', help: 'Operations queued or in flight.', read: (m) => one(m.pending) },
  workers: { type: 'gauge', help: 'Worker threads.', read: (m, pool) => one(pool.workers) },
  worker_busy_seconds_total: {
    type: 'counter', help: 'Seconds each worker had work out; its rate is the worker\'s utilisation.',
    read: (m) => m.workers.map((w) => [{ worker: String(w.id) }, w.busySeconds] as const),
  },
  worker_operations_total: {
    type: 'counter', help: 'Operations each worker answered.',
    read: (m) => m.workers.map((w) => [{ worker: String(w.id) }, w.operations] as const),
  },
  worker_memory_bytes: {
    type: 'gauge', help: 'Bytes of linear memory each worker\'s instances hold.',
    read: (m) => m.workers.map((w) => [{ worker: String(w.id) }, w.memoryBytes] as const),
  },
  worker_starts_total: { type: 'counter', help: 'Worker threads started (replacements included).', read: (m) => one(m.workerStarts) },
  worker_failures_total: { type: 'counter', help: 'Worker threads that died or were terminated to stop a runaway call.', read: (m) => one(m.workerFailures) },
  worker_recycles_total: { type: 'counter', help: 'Worker threads replaced by recycleWorker() or removed by resize().', read: (m) => one(m.workerRecycles) },
};

const HISTOGRAMS = {
  call_duration_seconds: { help: 'Seconds from a call being made to its promise settling.', read: (m: PoolMetrics) => m.callDuration },
  queue_wait_seconds: { help: 'Seconds from a call being made to its being sent to its worker.', read: (m: PoolMetrics) => m.queueWait },
} as const;

const PREFIX = 'reactor_pool_';

type HistogramData = Awaited<ReturnType<Histogram['get']>>;

/** A histogram whose buckets are read from the pools' snapshots at scrape time (prom-client's own counts nothing). */
class SnapshotHistogram extends Histogram {
  readonly #name: string;
  readonly #help: string;
  readonly #read: () => HistogramData['values'];

  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[], registry: Registry, read: () => HistogramData['values']) {
    super({ name, help, labelNames: [...labelNames], buckets: [...buckets], registers: [registry] });
    this.#name = name;
    this.#help = help;
    this.#read = read;
  }

  override get(): Promise<HistogramData> {
    const data: HistogramData = {
      name: this.#name, help: this.#help, type: 'histogram' as unknown as HistogramData['type'], aggregator: 'sum', collect: () => undefined, values: this.#read(),
    };
    return Promise.resolve(data);
  }

  /** What prom-client's text output reads (in place of {@link get}, when a metric has it). */
  getForPromString(): Promise<HistogramData> {
    return this.get();
  }
}

/** The pools collected into one registry, and the metrics they share there. */
class RegistryGroup {
  readonly pools = new Map<ReactorPool, Readonly<Record<string, string>>>();
  readonly #names: string[] = [];
  /** Each pool's metrics, read once per scrape (every metric's collect runs in the same tick). */
  #cache: Map<ReactorPool, PoolMetrics> | undefined;

  constructor(readonly registry: Registry, readonly labelNames: readonly string[], readonly buckets: readonly number[]) {
    const bucketsMs = buckets.map((s) => s * 1000);
    for (const [suffix, def] of Object.entries(METRICS)) {
      const name = PREFIX + suffix;
      const extra = suffix === 'calls_total' ? ['outcome'] : suffix === 'sessions' ? ['state'] : suffix.startsWith('worker_') ? ['worker'] : [];
      const config = { name, help: def.help, labelNames: [...labelNames, ...extra], registers: [registry] };
      if (def.type === 'counter') {
        const counter: Counter = new Counter({ ...config, collect: () => this.#fill(counter, def, (labels, value) => counter.inc(labels, value)) });
      } else {
        const gauge: Gauge = new Gauge({ ...config, collect: () => this.#fill(gauge, def, (labels, value) => gauge.set(labels, value)) });
      }
      this.#names.push(name);
    }
    for (const [suffix, def] of Object.entries(HISTOGRAMS)) {
      const name = PREFIX + suffix;
      new SnapshotHistogram(name, def.help, labelNames, buckets, registry, () => {
        const values: HistogramData['values'] = [];
        for (const [pool, labels] of this.pools) {
          const snapshot = def.read(this.#metricsOf(pool, bucketsMs));
          snapshot.counts.forEach((count, i) => values.push({ labels: { ...labels, le: buckets[i] }, value: count, metricName: `${name}_bucket` }));
          values.push({ labels: { ...labels, le: '+Inf' }, value: snapshot.count, metricName: `${name}_bucket` });
          values.push({ labels, value: snapshot.sumMs / 1000, metricName: `${name}_sum` });
          values.push({ labels, value: snapshot.count, metricName: `${name}_count` });
        }
        return values;
      });
      this.#names.push(name);
    }
  }

  #fill(metric: Counter | Gauge, def: MetricDef, put: (labels: Record<string, string>, value: number) => void): void {
    metric.reset();
    for (const [pool, labels] of this.pools) {
      for (const [extra, value] of def.read(this.#metricsOf(pool, this.buckets.map((s) => s * 1000)), pool)) put({ ...labels, ...extra }, value);
    }
  }

  #metricsOf(pool: ReactorPool, bucketsMs: readonly number[]): PoolMetrics {
    if (this.#cache === undefined) {
      this.#cache = new Map();
      queueMicrotask(() => {
        this.#cache = undefined;
      });
    }
    let metrics = this.#cache.get(pool);
    if (metrics === undefined) {
      metrics = pool.metrics(bucketsMs);
      this.#cache.set(pool, metrics);
    }
    return metrics;
  }

  /** Takes the metrics out of the registry (its last pool left). */
  remove(): void {
    for (const name of this.#names) this.registry.removeSingleMetric(name);
  }
}

const groups = new WeakMap<Registry, RegistryGroup>();

/**
 * Collects `pool`'s metrics into a prom-client registry, read from `pool.metrics()` at each scrape:
 * `reactor_pool_calls_total{outcome}`, `reactor_pool_call_duration_seconds`, `reactor_pool_queue_wait_seconds`,
 * `reactor_pool_sessions{state}`, `reactor_pool_workers`, `reactor_pool_instances`, … (README "Observability"
 * lists them all). Several pools can share a registry, told apart by their `labels`. The pool leaves
 * the registry when it closes, or on `unregister()`. Throws `ERR_INVALID_OPTION` for bad options or a
 * pool already collected into the registry, or another with the same labels.
 */
export function collectPoolMetrics(pool: ReactorPool, options: PrometheusOptions = {}): PoolCollector {
  const registry = options.registry ?? globalRegistry;
  const labels = checkLabels(options.labels);
  const buckets = checkBuckets(options.buckets);
  let group = groups.get(registry);
  const labelNames = Object.keys(labels).sort();
  if (group === undefined) {
    group = new RegistryGroup(registry, labelNames, buckets);
    groups.set(registry, group);
  } else {
    if (group.labelNames.join() !== labelNames.join()) {
      throw new InvalidOptionError(`Expected \`labels\` to have the names the registry's other pools use (${group.labelNames.join(', ') || 'none'}), got ${describeValue(options.labels ?? {})}`);
    }
    if (group.buckets.join() !== buckets.join()) {
      throw new InvalidOptionError(`Expected \`buckets\` to be those the registry's other pools use (${group.buckets.join(', ')}), got ${describeValue(options.buckets ?? DEFAULT_BUCKETS)}`);
    }
    if (group.pools.has(pool)) throw new InvalidOptionError('this pool is already collected into this registry');
    for (const other of group.pools.values()) {
      if (labelNames.every((name) => other[name] === labels[name])) {
        throw new InvalidOptionError(`Expected \`labels\` to tell this pool apart from the registry's other pools, got ${describeValue(labels)} (already used)`);
      }
    }
  }
  group.pools.set(pool, labels);
  const owner = group;
  const onClosed = (message: unknown): void => {
    if ((message as PoolClosedMessage).pool === pool) unregister();
  };
  diagnosticsChannel.subscribe(CHANNELS.poolClosed, onClosed);
  let registered = true;
  function unregister(): void {
    if (!registered) return;
    registered = false;
    diagnosticsChannel.unsubscribe(CHANNELS.poolClosed, onClosed);
    owner.pools.delete(pool);
    if (owner.pools.size === 0 && groups.get(registry) === owner) {
      groups.delete(registry);
      owner.remove();
    }
  }
  return { unregister };
}

/**
 * Collects a cluster member's metrics into a registry, read at each scrape: every pool metric above
 * for each partition it serves, labelled `partition` (a partition's series leave the registry when
 * it is handed over or lost), and the member's own `reactor_pool_cluster_partitions`,
 * `…_batches_total`, `…_operations_total`, `…_moved_total`, `…_resent_total`,
 * `…_partitions_acquired_total`, `…_partitions_released_total`, `…_partitions_lost_total`. One member
 * per registry. Throws `ERR_INVALID_OPTION` for bad options (`labels` may not name `partition`) or a
 * registry that holds another member's metrics.
 */
export function collectMemberMetrics<E extends object, M>(member: ClusterMember<E, M>, options: PrometheusOptions = {}): MemberCollector {
  const labels = checkLabels(options.labels);
  if (Object.hasOwn(labels, 'partition')) {
    throw new InvalidOptionError(`Expected \`labels\` without \`partition\` (each partition's pool is labelled with it), got ${describeValue(options.labels)}`);
  }
  checkBuckets(options.buckets);
  return collectMember(member, { ...options, labels }, collectPoolMetrics);
}

function checkLabels(value: unknown): Readonly<Record<string, string>> {
  if (value === undefined) return {};
  const record = typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...value } as Record<string, unknown> : undefined;
  if (record === undefined || !Object.values(record).every((v) => typeof v === 'string')) {
    throw new InvalidOptionError(`Expected \`labels\` to be an object of strings, got ${describeValue(value)}`);
  }
  for (const name of Object.keys(record)) {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name) || name.startsWith('__') || RESERVED_LABELS.includes(name)) {
      throw new InvalidOptionError(`Expected \`labels\` names to be Prometheus label names other than ${RESERVED_LABELS.join(', ')}, got ${describeValue(name)}`);
    }
  }
  return Object.freeze(record as Record<string, string>);
}

function checkBuckets(value: unknown): readonly number[] {
  if (value === undefined) return DEFAULT_BUCKETS;
  const ok = Array.isArray(value) && value.length > 0
    && value.every((b, i) => typeof b === 'number' && Number.isFinite(b) && b > 0 && (i === 0 || b > (value[i - 1] as number)));
  if (!ok) throw new InvalidOptionError(`Expected \`buckets\` to be ascending positive numbers of seconds, got ${describeValue(value)}`);
  return Object.freeze([...(value as number[])]);
}
