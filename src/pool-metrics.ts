// The pool's running totals: calls by outcome, call duration and queue wait histograms, and counts of
// lifecycle events (each counted and published on its channel here, in one place), read by `pool.metrics()`.

import {
  codeOf, poolClosedChannel, poolCreatedChannel, sessionClosedChannel, sessionCreatedChannel, sessionHibernatedChannel, sessionLostChannel,
  sessionRecoveredChannel, sessionRestoredChannel, workerFailedChannel, workerRecycledChannel, workerStartedChannel, type CallOutcome,
} from './diagnostics.js';
import type { ReactorPoolError } from './errors.js';
import { LatencyHistogram, type LatencySnapshot } from './latency-histogram.js';
import type { ReactorPool } from './pool.js';
import { tickNow } from './tick-clock.js';

/** Sessions by state now (see {@link SessionInfo.state}). */
export interface SessionCounts {
  readonly live: number;
  readonly unstarted: number;
  readonly hibernated: number;
  readonly lost: number;
  /** Durable pools: sessions the store holds state for that are not open in this pool (0 otherwise). */
  readonly stored: number;
}

/** One worker's figures. */
export interface WorkerMetrics {
  readonly id: number;
  /** Seconds the worker had work out (a batch sent and not fully answered) since it was made; a rate of it is its utilisation (0–1). */
  readonly busySeconds: number;
  /** Operations it answered (a callMany counts once). */
  readonly operations: number;
  /** Sessions placed on it. */
  readonly sessions: number;
  /** Bytes of linear memory its instances hold (as `stats().memoryPerWorker`). */
  readonly memoryBytes: number;
}

/** A snapshot of the pool's running totals, from {@link ReactorPool.metrics}. Counters only grow. */
export interface PoolMetrics {
  /** Calls (`call` and `callMany`, each counting once) settled, by outcome: `ok`, or the code they rejected with; outcomes not seen are absent. */
  readonly calls: Readonly<Partial<Record<CallOutcome, number>>>;
  /** Milliseconds from a call being made to its promise settling (to the tick: see README "Observability"). */
  readonly callDuration: LatencySnapshot;
  /** Milliseconds from a call being made to its being sent to its worker's thread (calls that were sent). */
  readonly queueWait: LatencySnapshot;
  readonly sessions: SessionCounts;
  /** Sessions created (`pool.session(key)` for a key without an open handle) and closed. */
  readonly sessionsCreated: number;
  readonly sessionsClosed: number;
  /** Live instances now (as `stats().instances`), and instance starts queued so far (first calls, resets, restores, wakes). */
  readonly instances: number;
  readonly instancesCreated: number;
  /** Hibernations, restores from the store, durable recoveries and losses (the loss rule) so far. */
  readonly hibernations: number;
  readonly restores: number;
  readonly recoveries: number;
  readonly losses: number;
  /** Operations queued or in flight now. */
  readonly pending: number;
  readonly workers: readonly WorkerMetrics[];
  /** Worker threads started (the first ones and every replacement), failed (crashes, runaway-call terminations) and recycled. */
  readonly workerStarts: number;
  readonly workerFailures: number;
  readonly workerRecycles: number;
}

/** Where the pool keeps its totals. Per call: two histogram records and one counter, timed per tick. */
export class PoolMeter {
  readonly callDuration = new LatencyHistogram();
  readonly queueWait = new LatencyHistogram();
  #ok = 0;
  readonly #failed = new Map<Exclude<CallOutcome, 'ok'>, number>();
  #sessionsCreated = 0;
  #sessionsClosed = 0;
  #hibernations = 0;
  #restores = 0;
  #recoveries = 0;
  #losses = 0;
  #workerStarts = 0;
  #workerFailures = 0;
  #workerRecycles = 0;

  constructor(
    /** The pool, for the call trace's messages. */
    readonly pool: ReactorPool,
  ) {}

  /** A call queued at `queuedAt` (sent at `sentAt`, or -1 if never) settled; `error` if it rejected. */
  callSettled(queuedAt: number, sentAt: number, failed: boolean, error: unknown): void {
    const now = tickNow();
    this.callDuration.record(now - queuedAt);
    if (sentAt >= 0) this.queueWait.record(sentAt - queuedAt);
    if (!failed) {
      this.#ok++;
      return;
    }
    const code = codeOf(error);
    this.#failed.set(code, (this.#failed.get(code) ?? 0) + 1);
  }

  /** A call rejected before it was queued (a full queue, a lost or closed session, a bad argument): counted, not timed. */
  callRefused(error: unknown): void {
    const code = codeOf(error);
    this.#failed.set(code, (this.#failed.get(code) ?? 0) + 1);
  }

  poolCreated(workers: number, isolation: 'session' | 'worker'): void {
    if (poolCreatedChannel.hasSubscribers) poolCreatedChannel.publish({ pool: this.pool, workers, isolation });
  }

  poolClosed(cause: ReactorPoolError): void {
    if (poolClosedChannel.hasSubscribers) poolClosedChannel.publish({ pool: this.pool, cause });
  }

  sessionCreated(key: string, workerId: number): void {
    this.#sessionsCreated++;
    if (sessionCreatedChannel.hasSubscribers) sessionCreatedChannel.publish({ pool: this.pool, key, workerId });
  }

  /** A session's close began (counted now); published once `closed` settles. */
  sessionClosed(key: string, closed: Promise<void>): void {
    this.#sessionsClosed++;
    if (sessionClosedChannel.hasSubscribers) void closed.then(() => sessionClosedChannel.publish({ pool: this.pool, key }));
  }

  hibernated(key: string, bytes: number): void {
    this.#hibernations++;
    if (sessionHibernatedChannel.hasSubscribers) sessionHibernatedChannel.publish({ pool: this.pool, key, bytes });
  }

  restored(key: string, workerId: number): void {
    this.#restores++;
    if (sessionRestoredChannel.hasSubscribers) sessionRestoredChannel.publish({ pool: this.pool, key, workerId });
  }

  recovered(key: string, workerId: number, records: number): void {
    this.#recoveries++;
    if (sessionRecoveredChannel.hasSubscribers) sessionRecoveredChannel.publish({ pool: this.pool, key, workerId, records });
  }

  lost(key: string, cause: ReactorPoolError): void {
    this.#losses++;
    if (sessionLostChannel.hasSubscribers) sessionLostChannel.publish({ pool: this.pool, key, cause });
  }

  workerStarted(workerId: number, threadId: number): void {
    this.#workerStarts++;
    if (workerStartedChannel.hasSubscribers) workerStartedChannel.publish({ pool: this.pool, workerId, threadId });
  }

  /** A worker's thread ended: recycled (or removed by a resize), or failed with `cause`. */
  workerEnded(workerId: number, recycled: boolean, cause: ReactorPoolError): void {
    if (recycled) {
      this.#workerRecycles++;
      if (workerRecycledChannel.hasSubscribers) workerRecycledChannel.publish({ pool: this.pool, workerId });
    } else {
      this.#workerFailures++;
      if (workerFailedChannel.hasSubscribers) workerFailedChannel.publish({ pool: this.pool, workerId, cause });
    }
  }

  /** The totals now; `now` gives what the pool reads from its parts. */
  snapshot(bucketsMs: readonly number[], now: Pick<PoolMetrics, 'sessions' | 'instances' | 'instancesCreated' | 'pending' | 'workers'>): PoolMetrics {
    return {
      calls: this.#calls(),
      callDuration: this.callDuration.snapshot(bucketsMs),
      queueWait: this.queueWait.snapshot(bucketsMs),
      sessions: now.sessions,
      sessionsCreated: this.#sessionsCreated,
      sessionsClosed: this.#sessionsClosed,
      instances: now.instances,
      instancesCreated: now.instancesCreated,
      hibernations: this.#hibernations,
      restores: this.#restores,
      recoveries: this.#recoveries,
      losses: this.#losses,
      pending: now.pending,
      workers: now.workers,
      workerStarts: this.#workerStarts,
      workerFailures: this.#workerFailures,
      workerRecycles: this.#workerRecycles,
    };
  }

  /** Calls by outcome so far. */
  #calls(): Partial<Record<CallOutcome, number>> {
    const calls: Partial<Record<CallOutcome, number>> = {};
    if (this.#ok > 0) calls.ok = this.#ok;
    for (const [code, count] of [...this.#failed].sort(([a], [b]) => (a < b ? -1 : 1))) calls[code] = count;
    return calls;
  }
}
