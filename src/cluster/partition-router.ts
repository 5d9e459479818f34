// A client's routing of session operations to partition owners: per tick, the ready operations of
// each partition go in one NATS request; a session has at most one batch in flight (its later
// operations wait for the next), and a batch or operation the owner could not take is sent again,
// with backoff, until its deadline.

import type { Msg, NatsConnection } from '@nats-io/nats-core';
import { ClusterUnavailableError, InvalidArgumentError, ReactorPoolError, deserializeError, type SerializedError } from '../errors.js';
import { callSubject, partitionOf } from './cluster-names.js';
import { abortedError, type PendingOp } from './pending-op.js';
import { decodeBatchReply, encodeBatchRequest, type BatchReply, type WireOp } from './batch-wire.js';
import { watchSignal } from '../signal-watchers.js';

/** First pause before sending again, in ms; it doubles at each attempt up to {@link BACKOFF_CAP}. */
const BACKOFF_START = 5;
const BACKOFF_CAP = 100;

/** A session key's operations: queued in order, at most one batch of them in flight. */
interface SessionLane {
  readonly key: string;
  partition: number | undefined;
  queue: PendingOp[];
  inFlight: boolean;
  /** Backing off until this `performance.now()` reading (0: not backing off). */
  retryAt: number;
  attempt: number;
}

/** What went in one request: the lanes and their operations, in the order of the request's ops. */
interface Batch {
  readonly partition: number;
  readonly lanes: readonly SessionLane[];
  readonly ops: readonly (readonly PendingOp[])[];
}

export class PartitionRouter {
  readonly #nc: NatsConnection;
  readonly #cluster: string;
  readonly #requestTimeout: number;
  readonly #lanes = new Map<string, SessionLane>();
  /** Lanes with operations to send at the next flush. */
  readonly #ready = new Set<SessionLane>();
  /** Lanes waiting out a backoff. */
  readonly #backingOff = new Set<SessionLane>();
  #partitions: number | undefined;
  /** Why operations wait before the partition count is known. */
  #waitingCause = "the cluster's config is not in its KV bucket yet";
  #flushScheduled = false;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  /** Operations not settled yet, and who waits for them all to settle. */
  #unsettled = 0;
  #drained: (() => void) | undefined;

  constructor(nc: NatsConnection, cluster: string, requestTimeout: number) {
    this.#nc = nc;
    this.#cluster = cluster;
    this.#requestTimeout = requestTimeout;
  }

  /** The cluster's partition count, once known (operations wait for it). */
  setPartitions(partitions: number): void {
    this.#partitions = partitions;
    for (const lane of this.#lanes.values()) {
      lane.partition = partitionOf(lane.key, partitions);
      if (!lane.inFlight && lane.retryAt === 0 && lane.queue.length > 0) this.#ready.add(lane);
    }
    this.#scheduleFlush();
  }

  /** Why operations cannot be routed yet (shown by those that run out of time before the config is read). */
  waitingFor(cause: string): void {
    this.#waitingCause = cause;
    for (const lane of this.#lanes.values()) for (const op of lane.queue) if (lane.partition === undefined) op.lastCause = cause;
  }

  /** Queues an operation behind the key's earlier ones. */
  submit(op: PendingOp): void {
    const key = op.wire.key;
    let lane = this.#lanes.get(key);
    if (lane === undefined) {
      lane = { key, partition: this.#partitions === undefined ? undefined : partitionOf(key, this.#partitions), queue: [], inFlight: false, retryAt: 0, attempt: 0 };
      this.#lanes.set(key, lane);
    }
    lane.queue.push(op);
    this.#unsettled++;
    op.lastCause = this.#partitions === undefined ? this.#waitingCause : "not sent: the session's earlier operations were still out";
    this.#watch(lane, op);
    if (op.deadline < this.#timerAt) this.#arm(op.deadline);
    if (!lane.inFlight && lane.retryAt === 0 && this.#partitions !== undefined) {
      this.#ready.add(lane);
      this.#scheduleFlush();
    }
  }

  /** Resolves once every operation submitted so far has settled. */
  drain(): Promise<void> {
    if (this.#unsettled === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.#drained;
      this.#drained = () => {
        previous?.();
        resolve();
      };
    });
  }

  /** Stops the timer (after {@link drain}: nothing is left to send). */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#ready.size === 0) return;
    this.#flushScheduled = true;
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#flushScheduled = false;
    const byPartition = new Map<number, SessionLane[]>();
    for (const lane of this.#ready) {
      if (lane.partition === undefined || lane.inFlight) continue;
      let lanes = byPartition.get(lane.partition);
      if (lanes === undefined) byPartition.set(lane.partition, lanes = []);
      lanes.push(lane);
    }
    this.#ready.clear();
    const now = performance.now();
    for (const [partition, candidates] of byPartition) {
      const lanes: SessionLane[] = [];
      const ops: PendingOp[][] = [];
      for (const lane of candidates) {
        const taken = this.#takeLive(lane, now);
        if (taken.length === 0) {
          this.#forgetIfIdle(lane);
          continue;
        }
        lane.inFlight = true;
        lanes.push(lane);
        ops.push(taken);
      }
      if (lanes.length > 0) this.#send({ partition, lanes, ops }, now);
    }
  }

  /** Takes the lane's whole queue for a batch, settling those past their deadline instead. */
  #takeLive(lane: SessionLane, now: number): PendingOp[] {
    const queue = lane.queue;
    lane.queue = [];
    const live: PendingOp[] = [];
    for (const op of queue) {
      if (op.deadline <= now) {
        this.#settle(op);
        op.reject(unavailable(op));
        continue;
      }
      op.unwatch?.();
      op.unwatch = undefined;
      live.push(op);
    }
    return live;
  }

  /** Encodes the batch once and sends it; one over the server's payload limit is split first. */
  #send(batch: Batch, now: number): void {
    const wire: WireOp[] = [];
    let latest = 0;
    for (const ops of batch.ops) {
      for (const op of ops) {
        wire.push(op.wire);
        if (op.deadline > latest) latest = op.deadline;
      }
    }
    let bytes: Uint8Array;
    try {
      bytes = encodeBatchRequest({ partition: batch.partition, ops: wire });
    } catch (error) {
      // Arguments are checked when a call is made, so this is not expected; fail the batch's operations alike.
      const why = error instanceof ReactorPoolError ? error : new InvalidArgumentError(`Cannot encode the batch: ${String(error)}`);
      this.#refuse(batch, why.toJSON());
      return;
    }
    const limit = this.#nc.info?.max_payload ?? Number.POSITIVE_INFINITY;
    if (bytes.byteLength > limit) {
      this.#split(batch, bytes.byteLength, limit, now);
      return;
    }
    for (const ops of batch.ops) for (const op of ops) op.sent = true;
    const timeout = Math.max(1, Math.ceil(Math.min(this.#requestTimeout, latest - now)));
    let reply: Promise<Msg>;
    try {
      reply = this.#nc.request(callSubject(this.#cluster, batch.partition), bytes, { timeout });
    } catch (error) {
      reply = Promise.reject(error);
    }
    reply.then(
      (message) => {
        let reply: BatchReply;
        try {
          reply = decodeBatchReply(message.data);
        } catch (error) {
          this.#resendAll(batch, `the owner's answer could not be read (${(error as Error).message})`);
          return;
        }
        this.#answer(batch, reply);
      },
      (error: unknown) => this.#resendAll(batch, requestFailure(error)),
    );
  }

  /**
   * A batch too big for one NATS message: its sessions go in two batches; a single session's
   * operations, the first half now and the rest after (still one batch of the session in flight); a
   * single operation too big is refused.
   */
  #split(batch: Batch, size: number, limit: number, now: number): void {
    const { partition, lanes, ops } = batch;
    if (lanes.length > 1) {
      const half = Math.ceil(lanes.length / 2);
      this.#send({ partition, lanes: lanes.slice(0, half), ops: ops.slice(0, half) }, now);
      this.#send({ partition, lanes: lanes.slice(half), ops: ops.slice(half) }, now);
      return;
    }
    const [lane] = lanes;
    const [own] = ops;
    if (lane === undefined || own === undefined) return;
    if (own.length === 1) {
      const [op] = own;
      if (op !== undefined) {
        this.#settle(op);
        op.reject(new InvalidArgumentError(
          `session ${JSON.stringify(lane.key)}: ${op.wire.op} takes ${size} bytes on the wire, over the NATS server's max_payload (${limit})`,
          { sessionKey: lane.key },
        ));
      }
      this.#landed(lane, [], '');
      return;
    }
    const half = Math.ceil(own.length / 2);
    this.#requeue(lane, own.slice(half));
    this.#send({ partition, lanes, ops: [own.slice(0, half)] }, now);
  }

  /** Puts operations back at the front of their lane's queue, in order, watching their signals again. */
  #requeue(lane: SessionLane, ops: readonly PendingOp[]): void {
    if (ops.length === 0) return;
    lane.queue = lane.queue.length === 0 ? [...ops] : [...ops, ...lane.queue];
    for (const op of ops) this.#watch(lane, op);
  }

  /** Rejects `op` if its signal fires while it waits in `lane`'s queue (at once if it already has). */
  #watch(lane: SessionLane, op: PendingOp): void {
    const signal = op.signal;
    if (signal === undefined) return;
    if (signal.aborted) {
      this.#abort(lane, op, signal);
      return;
    }
    op.unwatch = watchSignal(signal, () => this.#abort(lane, op, signal));
  }

  #answer(batch: Batch, reply: BatchReply): void {
    if (reply.status === 'moved') {
      this.#resendAll(batch, `partition ${batch.partition} moved (${reply.reason})`);
      return;
    }
    if (reply.status === 'refused') {
      this.#refuse(batch, reply.error);
      return;
    }
    const count = batch.ops.reduce((sum, ops) => sum + ops.length, 0);
    if (reply.outcomes.length !== count) {
      this.#resendAll(batch, `the owner answered ${reply.outcomes.length} outcomes for ${count} operations`);
      return;
    }
    let index = 0;
    batch.lanes.forEach((lane, laneIndex) => {
      const again: PendingOp[] = [];
      let cause = '';
      for (const op of batch.ops[laneIndex] ?? []) {
        const outcome = reply.outcomes[index++];
        if (outcome === undefined) continue;
        if ('retry' in outcome) {
          op.lastCause = cause = `partition ${batch.partition}: ${outcome.retry}`;
          again.push(op);
        } else if (outcome.ok) {
          this.#settle(op);
          op.resolve(outcome.value);
        } else {
          this.#settle(op);
          op.reject(ownerError(outcome.error, lane.key));
        }
      }
      this.#landed(lane, again, cause);
    });
  }

  /** A `refused` batch: its operations reject with the owner's error (sending again would not help). */
  #refuse(batch: Batch, error: SerializedError): void {
    batch.lanes.forEach((lane, laneIndex) => {
      for (const op of batch.ops[laneIndex] ?? []) {
        this.#settle(op);
        op.reject(ownerError(error, lane.key));
      }
      this.#landed(lane, [], '');
    });
  }

  #resendAll(batch: Batch, cause: string): void {
    batch.lanes.forEach((lane, laneIndex) => {
      const ops = batch.ops[laneIndex] ?? [];
      for (const op of ops) op.lastCause = cause;
      this.#landed(lane, [...ops], cause);
    });
  }

  /** A lane's batch came back: `again` go first in its queue (order kept) after a backoff; else the next ones go now. */
  #landed(lane: SessionLane, again: PendingOp[], cause: string): void {
    lane.inFlight = false;
    if (again.length > 0) {
      const now = performance.now();
      const live = again.filter((op) => {
        if (op.deadline > now) return true;
        this.#settle(op);
        op.reject(unavailable(op));
        return false;
      });
      this.#requeue(lane, live);
      if (cause !== '' && lane.queue.length > 0) {
        lane.retryAt = now + Math.min(BACKOFF_CAP, BACKOFF_START * 2 ** lane.attempt);
        lane.attempt++;
        this.#backingOff.add(lane);
        if (lane.retryAt < this.#timerAt) this.#arm(lane.retryAt);
        return;
      }
    } else {
      lane.attempt = 0;
    }
    this.#ready.add(lane);
    this.#scheduleFlush();
    this.#forgetIfIdle(lane);
  }

  #abort(lane: SessionLane, op: PendingOp, signal: AbortSignal): void {
    const at = lane.queue.indexOf(op);
    if (at < 0) return;
    lane.queue.splice(at, 1);
    op.unwatch = undefined;
    this.#settle(op);
    op.reject(abortedError(lane.key, signal, op.sent));
    this.#forgetIfIdle(lane);
  }

  #settle(op: PendingOp): void {
    op.unwatch?.();
    op.unwatch = undefined;
    if (--this.#unsettled === 0 && this.#drained !== undefined) {
      const drained = this.#drained;
      this.#drained = undefined;
      drained();
    }
  }

  #forgetIfIdle(lane: SessionLane): void {
    if (lane.queue.length === 0 && !lane.inFlight && lane.retryAt === 0) {
      this.#lanes.delete(lane.key);
      this.#ready.delete(lane);
    }
  }

  #arm(at: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, Math.ceil(at - performance.now())));
  }

  /** The one timer: ends backoffs that are over, settles queued operations past their deadline, re-arms. */
  #tick(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = performance.now();
    for (const lane of this.#backingOff) {
      if (lane.retryAt > now) continue;
      lane.retryAt = 0;
      this.#backingOff.delete(lane);
      if (!lane.inFlight && this.#partitions !== undefined) this.#ready.add(lane);
    }
    let next = Number.POSITIVE_INFINITY;
    for (const lane of [...this.#lanes.values()]) {
      if (lane.queue.some((op) => op.deadline <= now)) {
        lane.queue = lane.queue.filter((op) => {
          if (op.deadline > now) return true;
          this.#settle(op);
          op.reject(unavailable(op));
          return false;
        });
      }
      for (const op of lane.queue) if (op.deadline < next) next = op.deadline;
      if (lane.retryAt !== 0 && lane.retryAt < next) next = lane.retryAt;
      this.#forgetIfIdle(lane);
    }
    if (next !== Number.POSITIVE_INFINITY) this.#arm(next);
    this.#scheduleFlush();
  }
}

function unavailable(op: PendingOp): ClusterUnavailableError {
  return new ClusterUnavailableError(
    `session ${JSON.stringify(op.wire.key)}: ${op.wire.op} not answered by the cluster within its deadline (last cause: ${op.lastCause})`,
    { sessionKey: op.wire.key },
  );
}

function ownerError(error: SerializedError, sessionKey: string): ReactorPoolError {
  return deserializeError({ ...error, sessionKey });
}

function requestFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`;
}
