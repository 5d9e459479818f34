// A member of a cluster: it joins (checks the cluster's config, heartbeats), owns the partitions that
// rendezvous hashing gives it (a durable pool each, journal in the stream), hands them over on join
// and leave, and reaches any session, its own or another member's, through the cluster like a client.

import { EventEmitter } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { ClusterUnavailableError, InvalidOptionError, PoolClosedError, ReactorPoolError, type ErrorCode } from '../errors.js';
import type { NoResultModes, UntypedExports } from '../export-types.js';
import { readModuleBytes } from '../module-source.js';
import { notifyListeners } from '../rethrow-later.js';
import { ClusterClient } from './cluster-client.js';
import { ensureClusterConfig, openClusterKv } from './cluster-kv.js';
import { resolveClusterMemberOptions, type ClusterMemberOptions } from './cluster-options.js';
import type { ClusterSession } from './cluster-session.js';
import type { ClusterStatus } from './cluster-status.js';
import { Ownership } from './ownership.js';
import type { PartitionHost } from './partition-host.js';
import { ensureClusterStream } from './partition-store.js';
import { PARTITION_POOLS } from './partition-pools.js';
import type { MemberMetrics, ServingCounts } from './member-metrics.js';
import { PartitionRuntime, type PartitionContext, type PartitionPool } from './partition-runtime.js';

/** A partition this member began to serve. */
export interface PartitionAcquiredEvent {
  readonly partition: number;
  readonly epoch: number;
  /** Milliseconds from holding the lease to serving (journal read and fenced, pool started). */
  readonly ms: number;
}
/** A partition this member handed over. */
export interface PartitionReleasedEvent {
  readonly partition: number;
  /** Milliseconds from refusing new batches to the pool closed with its journal complete. */
  readonly ms: number;
}
/** A partition this member stopped serving without handing it over. */
export interface PartitionLostEvent {
  readonly partition: number;
  readonly reason: string;
  /**
   * Why: `ERR_FENCED` (another member's fence refused this member's journal write) or
   * `ERR_JOURNAL_WRITE` (the write failed); undefined when the lease itself was lost (another member
   * holds it, or this member could not heartbeat for `leaseTtl`).
   */
  readonly code: ErrorCode | undefined;
}

/** A member's events, by name. */
export interface ClusterMemberEvents {
  partitionAcquired: [event: PartitionAcquiredEvent];
  partitionReleased: [event: PartitionReleasedEvent];
  partitionLost: [event: PartitionLostEvent];
}

type MemberState = 'joined' | 'leaving' | 'closed';

/**
 * A process serving part of a cluster's sessions. Join with {@link ClusterMember.join}; reach any
 * session with {@link ClusterMember.session}; leave with {@link ClusterMember.leave}.
 */
export class ClusterMember<E extends object = UntypedExports, M = NoResultModes> extends EventEmitter<ClusterMemberEvents> {
  /** This member's id (in the cluster's records and `status()`). */
  readonly id: string;
  readonly #nc: NatsConnection;
  readonly #client: ClusterClient<E, M>;
  readonly #context: PartitionContext;
  readonly #runtimes = new Map<number, PartitionRuntime>();
  /** Partitions being taken over now; `abandoned` is set when the lease goes before serving starts. */
  readonly #acquiring = new Map<number, { abandoned?: string }>();
  readonly #served: ServingCounts = { batches: 0, operations: 0, moved: 0, resent: 0 };
  readonly #counts = { acquired: 0, released: 0, lost: 0 };
  #ownership: Ownership | undefined;
  #state: MemberState = 'joined';
  #ended: Promise<void> | undefined;

  private constructor(id: string, nc: NatsConnection, client: ClusterClient<E, M>, context: PartitionContext) {
    super();
    this.id = id;
    this.#nc = nc;
    this.#client = client;
    this.#context = context;
  }

  /**
   * Joins the cluster: connects to NATS, creates the cluster's stream, bucket and config if it is
   * the first member (else checks its module and partition count against them:
   * `ERR_CLUSTER_MISMATCH`), and starts heartbeating; partitions come to it over the next rounds.
   */
  static async join<Exports extends object = UntypedExports, const Modes = NoResultModes>(options: ClusterMemberOptions): Promise<ClusterMember<Exports, Modes>> {
    const resolved = resolveClusterMemberOptions(options);
    if (resolved.module instanceof WebAssembly.Module) {
      throw new InvalidOptionError('Expected `module` as a path, URL or bytes, got a compiled WebAssembly.Module: a cluster ties its journal to the module\'s bytes');
    }
    const bytes = await readModuleBytes(resolved.module);
    const identity = createHash('sha256').update(bytes).digest('hex');
    const id = resolved.memberId ?? `${hostname().replace(/[^A-Za-z0-9_-]/g, '').slice(0, 24) || 'member'}-${randomBytes(4).toString('hex')}`;
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: [...resolved.servers], name: `reactor-pool member ${id}`, maxReconnectAttempts: -1,
        // No stack captured per request for an error that may never come: it cost a third of a journal append.
        noAsyncTraces: true,
      });
    } catch (error) {
      throw new ClusterUnavailableError(`could not connect to NATS at ${resolved.servers.join(', ')}: ${error instanceof Error ? error.message : String(error)}`);
    }
    try {
      const jsm = await jetstreamManager(nc);
      await ensureClusterStream(jsm, resolved.cluster, { replicas: resolved.replicas });
      const kv = await openClusterKv(nc, resolved.cluster, resolved.replicas);
      await ensureClusterConfig(kv, { partitions: resolved.partitions, identity });
      const client = ClusterClient.attach<Exports, Modes>(nc, resolved);
      const context: PartitionContext = {
        nc, js: jetstream(nc), jsm, cluster: resolved.cluster, partitions: resolved.partitions, memberId: id, module: bytes, pool: resolved.pool, durability: resolved.durability,
      };
      const member = new ClusterMember<Exports, Modes>(id, nc, client, context);
      member.#ownership = await Ownership.start({
        kv, memberId: id, partitions: resolved.partitions, leaseTtl: resolved.leaseTtl, maxMoves: resolved.maxMoves,
        host: member.#host(), describe: () => ({ sessions: member.#sessions() }),
      });
      return member;
    } catch (error) {
      await nc.close().catch(() => undefined);
      if (error instanceof ReactorPoolError) throw error;
      // NATS without JetStream, a bucket it cannot make, a request that timed out: the cluster is not there for this member.
      throw new ClusterUnavailableError(`Cannot join cluster ${JSON.stringify(resolved.cluster)} at ${resolved.servers.join(', ')}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** A handle on session `key`, wherever it lives in the cluster (this member or another). */
  session(key: string): ClusterSession<E, M> {
    return this.#client.session(key);
  }

  /** The partitions this member serves now, ascending. */
  owned(): number[] {
    return [...this.#runtimes.keys()].sort((a, b) => a - b);
  }

  /** @internal The pool of each partition served now (for the Prometheus adapter). */
  [PARTITION_POOLS](): ReadonlyMap<number, PartitionPool> {
    return new Map([...this.#runtimes].map(([partition, runtime]) => [partition, runtime.pool]));
  }

  /** The cluster as its records in NATS show it now. */
  status(): Promise<ClusterStatus> {
    return this.#client.status();
  }

  /** This member's figures now. */
  metrics(): MemberMetrics {
    return {
      memberId: this.id,
      partitions: [...this.#runtimes.values()].map((runtime) => ({ partition: runtime.partition, epoch: runtime.epoch, pool: runtime.pool.metrics() })),
      served: sumCounts(this.#served, this.#runtimes.values()),
      ...this.#counts,
    };
  }

  /**
   * Leaves gracefully: takes no more partitions, hands each of its own over (the new owner restores
   * its sessions from the journal; callers see a pause, not errors), then disconnects. With no other
   * member left, the partitions wait in the stream for the next one.
   */
  leave(): Promise<void> {
    this.#ended ??= this.#leave();
    return this.#ended;
  }

  /** Same as {@link ClusterMember.leave}. */
  close(): Promise<void> {
    return this.leave();
  }

  /**
   * Stops now, as a crash would: partitions are not handed over, their leases expire (`leaseTtl`)
   * and other members take them over from the journal. Nothing acknowledged is lost.
   */
  async destroy(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    const runtimes = [...this.#runtimes.values()];
    this.#ownership?.stop();
    await Promise.all(runtimes.map((runtime) => runtime.abandon('the member was destroyed')));
    this.#runtimes.clear();
    await this.#client.close().catch(() => undefined);
    await this.#nc.close().catch(() => undefined);
  }

  async #leave(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'leaving';
    // Its own calls first (served wherever their partitions are), then its partitions handed over.
    await this.#client.close().catch(() => undefined);
    await this.#ownership?.leave();
    for (const runtime of this.#runtimes.values()) await runtime.release().catch(() => undefined);
    this.#runtimes.clear();
    this.#state = 'closed';
    await this.#nc.drain().catch(() => undefined);
  }

  #host(): PartitionHost {
    return {
      acquire: async (partition, epoch) => {
        const began = performance.now();
        const pending: { abandoned?: string } = {};
        this.#acquiring.set(partition, pending);
        let runtime: PartitionRuntime;
        try {
          runtime = await PartitionRuntime.start(this.#context, partition, epoch, (reason, code) => this.#lost(partition, reason, code));
        } finally {
          this.#acquiring.delete(partition);
        }
        // The lease went while the journal was being read, the member stopped, or the journal already refused a write.
        const stopped = pending.abandoned ?? (this.#state === 'closed' ? 'the member stopped' : runtime.serving ? undefined : `partition ${partition} failed as it started`);
        if (stopped !== undefined) {
          await runtime.abandon(stopped);
          throw new PoolClosedError(stopped);
        }
        this.#runtimes.set(partition, runtime);
        this.#counts.acquired++;
        this.#notify('partitionAcquired', { partition, epoch, ms: performance.now() - began });
      },
      release: async (partition) => {
        const runtime = this.#runtimes.get(partition);
        if (runtime === undefined) return;
        const began = performance.now();
        await runtime.release();
        this.#retire(runtime);
        this.#counts.released++;
        this.#notify('partitionReleased', { partition, ms: performance.now() - began });
      },
      abandon: (partition, reason) => {
        const pending = this.#acquiring.get(partition);
        if (pending !== undefined) pending.abandoned = reason;
        const runtime = this.#runtimes.get(partition);
        if (runtime === undefined) return;
        void runtime.abandon(reason);
        this.#retire(runtime);
        this.#counts.lost++;
        this.#notify('partitionLost', { partition, reason, code: undefined });
      },
    };
  }

  /** The journal refused a write: stop serving, and let ownership give the lease up (it may come back, read afresh). */
  #lost(partition: number, reason: string, code: ErrorCode): void {
    const runtime = this.#runtimes.get(partition);
    if (runtime === undefined) return;
    this.#retire(runtime);
    this.#counts.lost++;
    this.#notify('partitionLost', { partition, reason, code });
    this.#ownership?.failed(partition, reason);
  }

  /** Keeps a stopped partition's counts in the member's totals. */
  #retire(runtime: PartitionRuntime): void {
    if (this.#runtimes.get(runtime.partition) !== runtime) return;
    this.#runtimes.delete(runtime.partition);
    for (const name of ['batches', 'operations', 'moved', 'resent'] as const) this.#served[name] += runtime.counts[name];
  }

  #sessions(): number {
    let total = 0;
    for (const runtime of this.#runtimes.values()) total += runtime.sessions;
    return total;
  }

  #notify<K extends keyof ClusterMemberEvents>(name: K, ...args: ClusterMemberEvents[K]): void {
    notifyListeners(this, name, args);
  }
}

function sumCounts(retired: ServingCounts, runtimes: Iterable<PartitionRuntime>): ServingCounts {
  const sum: ServingCounts = { ...retired };
  for (const runtime of runtimes) for (const name of ['batches', 'operations', 'moved', 'resent'] as const) sum[name] += runtime.counts[name];
  return sum;
}
