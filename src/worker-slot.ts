// One worker position of the pool: a piscina-managed thread, the outbox of operations bound for it,
// the batches in flight, and the watchdog that stops a call running past its timeout.

import { Piscina } from 'piscina';
import {
  CallTimeoutError, WorkerFailedError, deserializeError, type ReactorPoolError,
} from './errors.js';
import {
  MemoryBoard, Progress, progressSeq, sharedClock, type Batch, type BatchResult, type MemoryCountTask,
  type ProbeResult, type ReadyTask, type Status, type WorkerData,
} from './protocol.js';
import type { WorkerResourceLimits } from './options.js';
import { encodeOp } from './wire.js';
import type { Job } from './job.js';

/** More batches in flight keep a worker busy while results travel back; two is enough for that. */
const MAX_BATCHES_IN_FLIGHT = 2;
/** Operations per batch at most (the progress board numbers them in 20 bits; smaller also bounds latency). */
const MAX_BATCH_OPS = 65_536;
/**
 * Without a `memoryLimit`, how long after work ran the worker is asked to recount its memory. An idle
 * worker waits in `Atomics.wait` (piscina), so it cannot recount on a timer of its own.
 */
const MEMORY_COUNT_MS = 200;

/** Why a thread ended. Only crashes count towards the restart limit. */
export type ThreadEnd = 'crash' | 'timeout' | 'recycle';

export interface SlotEvents {
  /** The thread died or was terminated; in-flight jobs were already failed. Called before any replacement runs. */
  onThreadLost(slot: WorkerSlot, cause: ReactorPoolError, end: ThreadEnd): void;
}

interface InFlight {
  readonly seq: number;
  readonly jobs: Job[];
  readonly tracked: boolean;
}

interface Termination {
  readonly end: 'timeout' | 'recycle';
  readonly cause: ReactorPoolError;
  /** The job that ran too long, and the error it rejects with (a timeout). */
  readonly culprit?: { readonly job: Job; readonly error: CallTimeoutError };
}

export class WorkerSlot {
  readonly id: number;
  #piscina: Piscina;
  #thread: number | undefined;
  #outbox: Job[] = [];
  readonly #inFlight = new Map<number, InFlight>();
  #seq = 0;
  #flushQueued = false;
  #stopping = false;
  /** Why the slot stopped: what jobs submitted from then on fail with at once. */
  #stopCause: ReactorPoolError | undefined;
  /** While recycling: how many more jobs of the outbox may still go to the old thread. */
  #sendable: number | undefined;
  #idleWaiters: (() => void)[] = [];
  #settleWaiters: (() => void)[] = [];
  readonly #progress: Progress;
  #watchdog: NodeJS.Timeout | undefined;
  #termination: Termination | undefined;
  /** Between a thread's death and its handling: hold every send. */
  #dying = false;
  /** Why the dead thread died, if piscina said (the error its running batch rejected with). */
  #deathDetail: string | undefined;
  /** Crashes since the last batch that completed. */
  #crashesInARow = 0;
  /** Bytes of linear memory the thread's instances hold, as the thread last counted them. */
  readonly #memory: MemoryBoard;
  /** Whether the worker counts memory after every call (a `memoryLimit`), or only when asked. */
  readonly #countsMemoryPerCall: boolean;
  #memoryCount: NodeJS.Timeout | undefined;
  readonly #events: SlotEvents;

  constructor(
    id: number, filename: string, workerData: Omit<WorkerData, 'progress' | 'memory'>, resourceLimits: WorkerResourceLimits,
    events: SlotEvents,
  ) {
    this.id = id;
    this.#events = events;
    const progress = new SharedArrayBuffer(Progress.BYTES);
    this.#progress = new Progress(progress);
    this.#progress.reset();
    const memory = new SharedArrayBuffer(MemoryBoard.BYTES);
    this.#memory = new MemoryBoard(memory);
    this.#countsMemoryPerCall = workerData.memoryLimit !== Number.POSITIVE_INFINITY;
    this.#piscina = new Piscina({
      filename,
      workerData: { ...workerData, progress, memory } satisfies WorkerData,
      minThreads: 1,
      maxThreads: 1,
      idleTimeout: Number.POSITIVE_INFINITY,
      concurrentTasksPerWorker: 1,
      resourceLimits: { ...resourceLimits },
      name: 'default',
    });
    this.#piscina.on('workerCreate', (worker: { id: number }) => {
      this.#thread = worker.id;
      this.#scheduleFlush();
    });
    // One thread per slot, so any destroyed thread is ours (its id already reads -1 by now).
    this.#piscina.on('workerDestroy', () => {
      if (this.#stopping || this.#thread === undefined) return;
      const thread = this.#thread;
      this.#thread = undefined;
      const termination = this.#termination;
      this.#termination = undefined;
      this.#progress.reset();
      // Its instances are gone with it; the replacement counts its own.
      this.#memory.write(0);
      // Handled a turn later, once piscina has rejected the batch that was running with the reason
      // (e.g. ERR_WORKER_OUT_OF_MEMORY); nothing is sent meanwhile, not even to a replacement.
      this.#dying = true;
      setImmediate(() => {
        this.#dying = false;
        const detail = this.#deathDetail;
        this.#deathDetail = undefined;
        if (this.#stopping) return;
        if (termination === undefined) {
          this.#crashesInARow++;
          const why = detail === undefined ? 'stopped unexpectedly' : `died (${detail})`;
          this.#threadLost(new WorkerFailedError(`worker ${this.id} (thread ${thread}) ${why}; its instances are gone`, { workerId: this.id }), 'crash');
        } else {
          this.#threadLost(termination.cause, termination.end, termination.culprit);
        }
        this.#scheduleFlush();
      });
    });
    // Piscina reports errors of idle threads here; the workerDestroy handler above has the consequences.
    this.#piscina.on('error', () => {});
  }

  /** Resolves once the slot's thread runs tasks (however long its start-up takes). */
  async ready(): Promise<void> {
    await this.#piscina.run({ ready: true } satisfies ReadyTask);
  }

  /** Links the module on this slot's thread; rejects with why it cannot run. */
  async probe(): Promise<void> {
    const result = (await this.#piscina.run({ probe: true })) as ProbeResult;
    if (result.error !== undefined) throw deserializeError(result.error);
  }

  /** Operations queued now and not yet answered. */
  get pending(): number {
    let count = this.#outbox.length;
    for (const batch of this.#inFlight.values()) count += batch.jobs.length;
    return count;
  }

  /** Unexpected thread deaths since work last completed on this slot. */
  get crashesInARow(): number {
    return this.#crashesInARow;
  }

  /** Bytes of linear memory held by this worker's instances, as the thread last counted them. */
  get memory(): number {
    return this.#memory.read();
  }

  submit(job: Job): void {
    if (this.#stopCause !== undefined) {
      // Nothing will ever run it: fail it now rather than leave it in an outbox nobody reads.
      job.fail(this.#stopCause, false);
      return;
    }
    this.#outbox.push(job);
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.#thread === undefined || this.#stopping || this.#dying) return;
    while (this.#outbox.length > 0 && this.#inFlight.size < MAX_BATCHES_IN_FLIGHT && this.#sendable !== 0) {
      const outbox = this.#outbox;
      const taken = Math.min(outbox.length, MAX_BATCH_OPS, this.#sendable ?? MAX_BATCH_OPS);
      const jobs: Job[] = [];
      let tracked = false;
      for (let i = 0; i < taken; i++) {
        const job = outbox[i] as Job;
        if (!job.beforeSend()) continue;
        jobs.push(job);
        if (job.timeout > 0) tracked = true;
      }
      this.#outbox = taken === outbox.length ? [] : outbox.slice(taken);
      if (this.#sendable !== undefined) this.#sendable -= taken;
      if (jobs.length === 0) continue;
      this.#send(jobs, this.#thread, tracked);
    }
    // A recycle waits for what may still go to the old thread; jobs refused on the way count too.
    if (this.#sendable !== undefined) this.#batchSettled();
    this.#notifyIfIdle();
  }

  #send(jobs: Job[], thread: number, tracked: boolean): void {
    const seq = this.#seq++;
    const entry: InFlight = { seq, jobs, tracked };
    this.#inFlight.set(seq, entry);
    const wire: unknown[] = [];
    for (const job of jobs) encodeOp(job.op, wire);
    const batch: Batch = { thread, seq: progressSeq(seq), track: tracked, wire };
    if (tracked) this.#watch();
    this.#piscina.run(batch).then(
      (result: BatchResult) => {
        if (!this.#inFlight.delete(seq)) return; // already failed with its thread
        if (result.stale) {
          // Meant for a thread that died before running it: nothing ran, so it goes again, first in line.
          // Jobs of sessions lost with that thread are refused by beforeSend on the way.
          this.#outbox.unshift(...jobs);
          if (this.#sendable !== undefined) this.#sendable += jobs.length;
        } else {
          this.#crashesInARow = 0;
          this.#scheduleMemoryCount();
          const results = result.results;
          for (let i = 0; i < jobs.length; i++) (jobs[i] as Job).settle(results[2 * i] as Status, results[2 * i + 1]);
        }
        this.#batchSettled();
        this.#flush();
        this.#notifyIfIdle();
      },
      (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        if (this.#dying) {
          // The thread died under this batch: the death handler fails it, with this reason.
          this.#deathDetail ??= message;
          return;
        }
        if (!this.#inFlight.delete(seq)) return;
        const cause = new WorkerFailedError(`worker ${this.id} failed while running a batch: ${message}`, { workerId: this.id });
        for (const job of jobs) job.fail(cause, false);
        this.#batchSettled();
        this.#flush();
        this.#notifyIfIdle();
      },
    );
  }

  /** Asks the worker to recount its memory a little later: once per {@link MEMORY_COUNT_MS} while work runs, never while idle. */
  #scheduleMemoryCount(): void {
    if (this.#countsMemoryPerCall || this.#memoryCount !== undefined) return;
    this.#memoryCount = setTimeout(() => {
      this.#memoryCount = undefined;
      if (this.#stopping) return;
      // A thread that dies meanwhile had nothing left to count: its board is reset with it.
      this.#piscina.run({ countMemory: true } satisfies MemoryCountTask).catch(() => {});
    }, MEMORY_COUNT_MS);
    this.#memoryCount.unref();
  }

  /**
   * The watchdog: finds the operation running now and, if it has a timeout, checks it against the
   * time it started (queue time never counts). Sleeps until the earliest moment a deadline can pass.
   */
  #watch(): void {
    this.#stopWatchdog();
    if (this.#termination !== undefined || this.#thread === undefined) return;
    let shortest = Number.POSITIVE_INFINITY;
    for (const batch of this.#inFlight.values()) {
      if (!batch.tracked) continue;
      for (const job of batch.jobs) if (job.timeout > 0 && job.timeout < shortest) shortest = job.timeout;
    }
    if (shortest === Number.POSITIVE_INFINITY) return;
    const now = sharedClock();
    let wake = shortest;
    const running = this.#progress.read();
    if (running !== undefined) {
      const job = this.#runningJob(running.seq, running.index);
      if (job !== undefined && job.timeout > 0) {
        const ranFor = now - running.startedAt;
        if (ranFor >= job.timeout) {
          this.#timeOut(job, ranFor);
          return;
        }
        wake = Math.min(wake, job.timeout - ranFor);
      }
    }
    // A job that starts after now cannot pass its deadline before now + its timeout.
    this.#watchdog = setTimeout(() => this.#watch(), Math.max(1, Math.ceil(wake)));
    this.#watchdog.unref();
  }

  #stopWatchdog(): void {
    if (this.#watchdog !== undefined) clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
  }

  #runningJob(seq: number, index: number): Job | undefined {
    for (const batch of this.#inFlight.values()) {
      if (progressSeq(batch.seq) === seq) return batch.tracked ? batch.jobs[index] : undefined;
    }
    return undefined;
  }

  #timeOut(job: Job, ranFor: number): void {
    const error = new CallTimeoutError(
      `${job.describe()} ran for ${Math.round(ranFor)} ms, over its timeout of ${job.timeout} ms; worker ${this.id} was terminated to stop it`,
      { limit: job.timeout, workerId: this.id },
    );
    const cause = new WorkerFailedError(
      `worker ${this.id} was terminated to stop a runaway call (${job.describe()}, over ${job.timeout} ms); its instances are gone`,
      { workerId: this.id },
    );
    this.#terminate({ end: 'timeout', cause, culprit: { job, error } });
  }

  #terminate(termination: Termination): void {
    this.#termination = termination;
    for (const thread of this.#piscina.threads) void thread.terminate();
  }

  #notifyIfIdle(): void {
    if (this.#idleWaiters.length === 0 || this.pending > 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }

  #threadLost(cause: ReactorPoolError, end: ThreadEnd, culprit?: Termination['culprit']): void {
    this.#stopWatchdog();
    const batches = [...this.#inFlight.values()];
    this.#inFlight.clear();
    // The runaway call first: its session is lost by its own error, which its other calls then carry.
    if (culprit !== undefined) culprit.job.fail(culprit.error, true);
    for (const { jobs } of batches) for (const job of jobs) if (job !== culprit?.job) job.fail(cause, false);
    this.#events.onThreadLost(this, cause, end);
    this.#batchSettled();
    this.#notifyIfIdle();
  }

  /**
   * Ends the thread at once, whatever it is running (the only way to stop a tight wasm loop), as a
   * crash would: piscina reports it destroyed, which applies the loss rule, and starts a replacement.
   */
  async terminateThread(): Promise<void> {
    // Between a death and its replacement there is no thread yet: wait for the replacement.
    if (this.#thread === undefined && !this.#stopping) {
      await new Promise<void>((resolve) => this.#piscina.once('workerCreate', () => resolve()));
    }
    await Promise.all(this.#piscina.threads.map((thread) => thread.terminate()));
  }

  /**
   * Replaces the thread with a fresh one once the jobs submitted so far have run; jobs submitted
   * meanwhile wait for the new thread. The instances on the old thread are lost with `cause`.
   */
  async recycle(cause: ReactorPoolError): Promise<void> {
    if (this.#stopping || this.#sendable !== undefined) return;
    this.#sendable = this.#outbox.length;
    try {
      this.#scheduleFlush();
      // Each turn waits for a batch to settle; the flush after it sends what may still go.
      while ((this.#sendable > 0 || this.#inFlight.size > 0) && !this.#stopping) await this.#settled();
      if (this.#stopping || this.#thread === undefined) return;
      const replaced = new Promise<void>((resolve) => this.#piscina.once('workerCreate', () => resolve()));
      this.#terminate({ end: 'recycle', cause });
      await replaced;
    } finally {
      this.#sendable = undefined;
      this.#scheduleFlush();
    }
  }

  /** Resolves when a batch in flight settles (or the thread is lost, or the slot stops). */
  #settled(): Promise<void> {
    return new Promise((resolve) => this.#settleWaiters.push(resolve));
  }

  #batchSettled(): void {
    if (this.#settleWaiters.length === 0) return;
    const waiters = this.#settleWaiters;
    this.#settleWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves once no operation is queued or in flight (operations submitted meanwhile included). */
  drain(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops the thread; queued and in-flight jobs are failed with `cause`. */
  async stop(cause: ReactorPoolError): Promise<void> {
    this.#stopping = true;
    this.#stopCause = cause;
    this.#stopWatchdog();
    clearTimeout(this.#memoryCount);
    const jobs = [...this.#outbox, ...[...this.#inFlight.values()].flatMap((batch) => batch.jobs)];
    this.#outbox = [];
    this.#inFlight.clear();
    for (const job of jobs) job.fail(cause, false);
    this.#batchSettled();
    this.#notifyIfIdle();
    // Never in the same turn as a thread's death (a restart limit stops the pool right after one):
    // piscina may still be handling that exit, and its destroy() would then not settle.
    await new Promise((resolve) => setImmediate(resolve));
    await this.#piscina.destroy();
  }
}
