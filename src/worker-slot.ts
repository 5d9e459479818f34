// One worker position of the pool: a piscina-managed thread, the outbox of operations bound for it,
// and the batches in flight. Operations queued in the same tick travel as one batch (one task).

import { Piscina } from 'piscina';
import { WorkerFailedError, deserializeError, type ReactorPoolError } from './errors.js';
import { encodeOp, type Batch, type BatchResult, type Op, type ProbeResult, type Status, type WorkerData } from './protocol.js';

/** More batches in flight keep a worker busy while results travel back; two is enough for that. */
const MAX_BATCHES_IN_FLIGHT = 2;

/** An operation waiting for its outcome. */
export interface Job {
  readonly op: Op;
  /** Called just before the job is sent; returning false drops it (the job then settled itself). */
  beforeSend(): boolean;
  /** Called at most once, with the operation's result (see {@link Status})... */
  settle(status: Status, payload: unknown): void;
  /** ...or with the error that took the operation down before it could answer. */
  fail(error: ReactorPoolError): void;
}

export interface SlotEvents {
  /** The thread died (crash, fatal error); in-flight jobs were already failed. Called before any replacement runs. */
  onThreadLost(slot: WorkerSlot, cause: WorkerFailedError): void;
}

export class WorkerSlot {
  readonly id: number;
  #piscina: Piscina;
  #thread: number | undefined;
  #outbox: Job[] = [];
  #inFlight = new Set<Job[]>();
  #flushQueued = false;
  #stopping = false;
  #idleWaiters: (() => void)[] = [];
  readonly #events: SlotEvents;

  constructor(id: number, filename: string, workerData: WorkerData, events: SlotEvents) {
    this.id = id;
    this.#events = events;
    this.#piscina = new Piscina({
      filename,
      workerData,
      minThreads: 1,
      maxThreads: 1,
      idleTimeout: Number.POSITIVE_INFINITY,
      concurrentTasksPerWorker: 1,
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
      this.#threadLost(new WorkerFailedError(`worker ${this.id} (thread ${thread}) stopped unexpectedly; its instances are gone`));
    });
    // Piscina reports errors of idle threads here; the workerDestroy handler above has the consequences.
    this.#piscina.on('error', () => {});
  }

  /** Links the module on this slot's thread; resolves with the thread id or rejects with why it cannot run. */
  async probe(): Promise<void> {
    const result = (await this.#piscina.run({ probe: true })) as ProbeResult;
    if (result.error !== undefined) throw deserializeError(result.error);
  }

  /** Operations queued now and not yet answered. */
  get pending(): number {
    let count = this.#outbox.length;
    for (const batch of this.#inFlight) count += batch.length;
    return count;
  }

  submit(job: Job): void {
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
    if (this.#thread === undefined || this.#stopping) return;
    while (this.#outbox.length > 0 && this.#inFlight.size < MAX_BATCHES_IN_FLIGHT) {
      const jobs: Job[] = [];
      for (const job of this.#outbox) if (job.beforeSend()) jobs.push(job);
      this.#outbox = [];
      if (jobs.length === 0) break;
      this.#send(jobs, this.#thread);
    }
    this.#notifyIfIdle();
  }

  #send(jobs: Job[], thread: number): void {
    this.#inFlight.add(jobs);
    const wire: unknown[] = [];
    for (const job of jobs) encodeOp(job.op, wire);
    const batch: Batch = { thread, wire };
    this.#piscina.run(batch).then(
      (result: BatchResult) => {
        if (!this.#inFlight.delete(jobs)) return; // already failed with its thread
        if (result.stale) {
          // Meant for a thread that died before running it: nothing ran, so it goes again, first in line.
          // Jobs of sessions lost with that thread are refused by beforeSend on the way.
          this.#outbox.unshift(...jobs);
        } else {
          const results = result.results;
          for (let i = 0; i < jobs.length; i++) (jobs[i] as Job).settle(results[2 * i] as Status, results[2 * i + 1]);
        }
        this.#flush();
        this.#notifyIfIdle();
      },
      (error: unknown) => {
        if (!this.#inFlight.delete(jobs)) return;
        const message = error instanceof Error ? error.message : String(error);
        this.#failJobs(jobs, new WorkerFailedError(`worker ${this.id} failed while running a batch: ${message}`));
        this.#flush();
        this.#notifyIfIdle();
      },
    );
  }

  #notifyIfIdle(): void {
    if (this.#idleWaiters.length === 0 || this.pending > 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }

  #threadLost(cause: WorkerFailedError): void {
    const batches = [...this.#inFlight];
    this.#inFlight.clear();
    for (const jobs of batches) this.#failJobs(jobs, cause);
    this.#events.onThreadLost(this, cause);
    this.#notifyIfIdle();
  }

  #failJobs(jobs: readonly Job[], cause: WorkerFailedError): void {
    for (const job of jobs) job.fail(cause);
  }

  /**
   * Ends the thread at once, whatever it is running (the only way to stop a tight wasm loop).
   * Piscina then reports it destroyed, which applies the loss rule, and starts a replacement.
   */
  async terminateThread(): Promise<void> {
    await Promise.all(this.#piscina.threads.map((thread) => thread.terminate()));
  }

  /** Resolves once no operation is queued or in flight (operations submitted meanwhile included). */
  drain(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops the thread; queued and in-flight jobs are failed with `cause`. */
  async stop(cause: ReactorPoolError): Promise<void> {
    this.#stopping = true;
    const jobs = [...this.#outbox, ...[...this.#inFlight].flat()];
    this.#outbox = [];
    this.#inFlight.clear();
    for (const job of jobs) job.fail(cause);
    this.#notifyIfIdle();
    await this.#piscina.destroy();
  }
}
