// One partition this member owns: its journal taken over (fenced) in the stream, a durable pool
// restoring its sessions from it, and the subscription that serves its batches until it is handed
// over (drained, then closed) or lost (stopped at once, nothing more written).

import type { NatsConnection, Msg, Subscription } from '@nats-io/transport-node';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { PoolClosedError, ReactorPoolError, type ErrorCode } from '../errors.js';
import { ReactorPool } from '../pool.js';
import type { ReactorPoolOptions } from '../options.js';
import type { ResultMode } from '../protocol.js';
import type { UntypedExports } from '../export-types.js';
import { decodeBatchRequest, encodeBatchReply, type BatchReply } from './batch-wire.js';
import { serveBatch } from './batch-server.js';
import { callSubject, partitionOf } from './cluster-names.js';
import type { ClusterDurabilityOptions } from './cluster-options.js';
import { PartitionStore } from './partition-store.js';
import type { ServingCounts } from './member-metrics.js';

export interface PartitionContext {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly cluster: string;
  /** The cluster's partition count (a batch's keys must all map to the partition it came for). */
  readonly partitions: number;
  readonly memberId: string;
  /** The module's bytes (every partition's pool compiles them; the digest ties the journal to them). */
  readonly module: Uint8Array;
  readonly pool: Omit<ReactorPoolOptions, 'module' | 'durability' | 'store'>;
  readonly durability: ClusterDurabilityOptions;
}

/** A partition's pool: untyped (batches carry whatever the clients send; the module checks it). */
export type PartitionPool = ReactorPool<UntypedExports, Readonly<Record<string, ResultMode>>>;

type State = 'serving' | 'draining' | 'stopped';

export class PartitionRuntime {
  readonly partition: number;
  readonly epoch: number;
  readonly pool: PartitionPool;
  readonly counts: ServingCounts = { batches: 0, operations: 0, moved: 0, resent: 0 };
  readonly #subscription: Subscription;
  readonly #partitions: number;
  readonly #inFlight = new Set<Promise<void>>();
  #state: State = 'serving';
  #stopReason: string | undefined;
  #destroyed: Promise<void> | undefined;
  #onLost: (reason: string, code: ErrorCode) => void;

  private constructor(partition: number, epoch: number, pool: PartitionPool, context: PartitionContext, onLost: (reason: string, code: ErrorCode) => void) {
    this.partition = partition;
    this.#partitions = context.partitions;
    this.epoch = epoch;
    this.pool = pool;
    this.#onLost = onLost;
    this.#subscription = context.nc.subscribe(callSubject(context.cluster, partition), { callback: (error, message) => {
      if (error === null) this.#receive(message);
    } });
  }

  /**
   * Takes the partition over at `epoch`: fences its journal, opens a durable pool on it (sessions come
   * back lazily, each on its first operation), and starts answering its batches.
   * `onLost` is told (once) when the journal refuses a write: the partition was taken over by another member.
   */
  static async start(context: PartitionContext, partition: number, epoch: number, onLost: (reason: string, code: ErrorCode) => void): Promise<PartitionRuntime> {
    const store = await PartitionStore.takeOver({
      js: context.js, jsm: context.jsm, cluster: context.cluster, partition, memberId: context.memberId, epoch,
      maxPayload: context.nc.info?.max_payload ?? 1024 * 1024,
    });
    let pool: PartitionPool;
    try {
      pool = await ReactorPool.create({ ...context.pool, module: context.module, durability: { ...context.durability, store, recover: 'lazy' } });
    } catch (error) {
      await store.close().catch(() => undefined);
      throw error;
    }
    const runtime = new PartitionRuntime(partition, epoch, pool, context, onLost);
    store.onFailure((failure) => runtime.#lose(failure));
    return runtime;
  }

  /** Sessions the partition holds (live, hibernated, or stored only). */
  get sessions(): number {
    return this.pool.stats().sessions + this.pool.metrics().sessions.stored;
  }

  /**
   * Hands the partition over: no new batches, the accepted ones finish, the pool closes (its journal
   * complete). Rejects with `ERR_POOL_CLOSED` if the partition is abandoned meanwhile.
   */
  async release(): Promise<void> {
    if (this.#state !== 'serving') return;
    this.#state = 'draining';
    this.#stopReason = `partition ${this.partition} is being handed over`;
    this.#subscription.unsubscribe();
    await Promise.allSettled([...this.#inFlight]);
    // Abandoned while draining (the member was destroyed, or the lease went): not a hand-over.
    if (this.#destroyed !== undefined) throw new PoolClosedError(this.#stopReason ?? `partition ${this.partition} was abandoned`);
    await this.pool.close().catch(() => undefined);
    this.#state = 'stopped';
  }

  /** True until the partition is handed over or lost. */
  get serving(): boolean {
    return this.#state === 'serving';
  }

  /**
   * Stops at once (the lease is gone): unanswered batches get `moved`, nothing more is acknowledged.
   * Resolves once the pool is destroyed (the same promise however often called).
   */
  abandon(reason: string): Promise<void> {
    if (this.#destroyed !== undefined) return this.#destroyed;
    this.#state = 'stopped';
    this.#stopReason = reason;
    this.#subscription.unsubscribe();
    this.#destroyed = this.pool.destroy().catch(() => undefined);
    return this.#destroyed;
  }

  #lose(failure: ReactorPoolError): void {
    if (this.#state === 'stopped') return;
    const reason = `partition ${this.partition}'s journal refused a write: ${failure.message}`;
    void this.abandon(reason);
    this.#onLost(reason, failure.code);
  }

  #receive(message: Msg): void {
    if (this.#state !== 'serving') {
      this.counts.moved++;
      reply(message, { status: 'moved', reason: this.#stopReason ?? `partition ${this.partition} is not served here` });
      return;
    }
    let ops;
    try {
      const request = decodeBatchRequest(message.data);
      if (request.partition !== this.partition) {
        reply(message, { status: 'refused', error: { code: 'ERR_INVALID_ARGUMENT', message: `a batch for partition ${request.partition} came on partition ${this.partition}'s subject` } });
        return;
      }
      // A key of another partition would start a second copy of its session here: refuse the batch.
      const stray = request.ops.find((op) => partitionOf(op.key, this.#partitions) !== this.partition);
      if (stray !== undefined) {
        reply(message, { status: 'refused', error: { code: 'ERR_INVALID_ARGUMENT', message: `session key ${JSON.stringify(stray.key.slice(0, 64))} belongs to partition ${partitionOf(stray.key, this.#partitions)}, not ${this.partition}` } });
        return;
      }
      ops = request.ops;
    } catch (error) {
      const serialized = error instanceof ReactorPoolError ? error.toJSON() : { code: 'ERR_INVALID_ARGUMENT' as const, message: String(error) };
      reply(message, { status: 'refused', error: serialized });
      return;
    }
    this.counts.batches++;
    this.counts.operations += ops.length;
    const served = serveBatch(this.pool, ops, () => (this.#state === 'serving' ? undefined : this.#stopReason)).then((outcomes) => {
      for (const outcome of outcomes) if ('retry' in outcome) this.counts.resent++;
      reply(message, { status: 'served', outcomes });
    });
    this.#inFlight.add(served);
    void served.finally(() => this.#inFlight.delete(served));
  }
}

/** Answers a batch; a requester that went away (its inbox gone) is not this member's problem. */
function reply(message: Msg, answer: BatchReply): void {
  try {
    message.respond(encodeBatchReply(answer));
  } catch {
    // The connection is closing: the client resends to whoever serves the partition next.
  }
}
