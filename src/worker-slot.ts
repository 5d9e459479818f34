// One worker position of the pool: piscina starts, replaces and stops its thread; the slot attaches
// each new thread (a WorkerThread), feeds it batches from its Batcher, reads outcomes back, and
// applies what a thread's end means (the Watchdog decides when a runaway call ends one).

import type { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { Batcher } from './batcher.js';
import { CallTimeoutError, WorkerFailedError, deserializeError, type ReactorPoolError } from './errors.js';
import type { Job } from './job.js';
import type { WorkerResourceLimits } from './options.js';
import { MemoryBoard, Progress, progressSeq, sharedClock, type Status, type WorkerData } from './protocol.js';
import { Watchdog } from './watchdog.js';
import { BatchEncoder } from './wire.js';
import { MAX_BATCHES_IN_FLIGHT, MAX_BATCH_WORDS, SIDE_WORDS, WorkerThread } from './worker-thread.js';
import { tickNow } from './tick-clock.js';

/**
 * Without a `memoryLimit`, how long after work ran the worker is asked to recount its memory (it
 * does not count per call then, and an idle thread has no reason to).
 */
const MEMORY_COUNT_MS = 200;

/** Jobs queued in one tick that go out at once, without waiting for the tick to end. */
const EARLY_BATCH_OPS = 256;

/** Why a thread ended. Only crashes count towards the restart limit. */
export type ThreadEnd = 'crash' | 'timeout' | 'recycle';

export interface SlotEvents {
  /** A thread (`threadId`) is attached and ready: the first one, or a replacement. */
  onThreadStarted(slot: WorkerSlot, threadId: number): void;
  /** The thread died or was terminated; its jobs were already failed. Called before any replacement runs. */
  onThreadLost(slot: WorkerSlot, cause: ReactorPoolError, end: ThreadEnd): void;
}

interface Termination {
  readonly end: 'timeout' | 'recycle';
  readonly cause: ReactorPoolError;
  /** The job that ran too long, and the error it rejects with (a timeout). */
  readonly culprit?: { readonly job: Job; readonly error: CallTimeoutError };
}

export class WorkerSlot {
  readonly id: number;
  readonly #piscina: Piscina;
  readonly #batcher = new Batcher();
  readonly #encoder: BatchEncoder;
  readonly #watchdog: Watchdog;
  readonly #events: SlotEvents;
  /** The attached thread, while it runs. */
  #thread: WorkerThread | undefined;
  /** Waiters for the next attached thread. */
  #attachWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  #flushQueued = false;
  /** The thread whose outcomes a wait is pending on (one wait at a time per thread). */
  #waitingOn: WorkerThread | undefined;
  #stopping = false;
  /** Why the slot stopped: what jobs submitted from then on fail with at once. */
  #stopCause: ReactorPoolError | undefined;
  /** While recycling: how many more queued jobs may still go to the old thread. */
  #sendable = Number.POSITIVE_INFINITY;
  #idleWaiters: (() => void)[] = [];
  #settleWaiters: (() => void)[] = [];
  readonly #progress: Progress;
  #termination: Termination | undefined;
  /** Crashes since the last batch that completed. */
  #crashesInARow = 0;
  /** Bytes of linear memory the thread's instances hold, as the thread last counted them. */
  readonly #memory: MemoryBoard;
  readonly #countsMemoryPerCall: boolean;
  #memoryCount: NodeJS.Timeout | undefined;
  /** Milliseconds with work out (batches in flight), up to {@link #busySince}; when work went out (a tick reading), -1 while none is. */
  #busyMs = 0;
  #busySince = -1;
  /** Operations answered. */
  #answered = 0;
  readonly #onOutcome = (seq: number, index: number, status: Status, payload: unknown): void => {
    this.#answered++;
    this.#batcher.settle(seq, index, status, payload);
  };

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
    this.#encoder = new BatchEncoder(SIDE_WORDS, workerData.hostFunctions?.keys ?? 'none');
    this.#watchdog = new Watchdog({
      running: () => this.#progress.read(),
      jobAt: (seq, index) => {
        for (const batch of this.#batcher.inFlight) if (progressSeq(batch.seq) === seq) return batch.tracked ? batch.jobs[index] : undefined;
        return undefined;
      },
      shortestTimeout: () => {
        let shortest = Number.POSITIVE_INFINITY;
        for (const batch of this.#batcher.inFlight) {
          if (!batch.tracked) continue;
          for (let i = batch.settled; i < batch.jobs.length; i++) {
            const timeout = (batch.jobs[i] as Job).timeout;
            if (timeout > 0 && timeout < shortest) shortest = timeout;
          }
        }
        return shortest;
      },
      timedOut: (job, ranFor) => this.#timeOut(job, ranFor),
      now: sharedClock,
      setTimer: (callback, ms) => setTimeout(callback, ms).unref(),
      clearTimer: (timer) => clearTimeout(timer as NodeJS.Timeout),
    });
    this.#piscina = new Piscina({
      filename,
      workerData: { ...workerData, progress, memory } satisfies WorkerData,
      minThreads: 1,
      maxThreads: 1,
      idleTimeout: Number.POSITIVE_INFINITY,
      concurrentTasksPerWorker: 1,
      // The thread's event loop stays free between tasks: it serves its rings and its control channel.
      atomics: 'disabled',
      resourceLimits: { ...resourceLimits },
      name: 'default',
    });
    this.#piscina.on('workerCreate', (info: { id: number }) => this.#attach(info.id));
    // Piscina reports errors of idle threads here; each WorkerThread handles its own thread's end.
    this.#piscina.on('error', () => {});
  }

  #attach(threadId: number): void {
    if (this.#stopping) return;
    const worker = this.#piscina.threads.find((thread: Worker) => thread.threadId === threadId);
    if (worker === undefined) return; // gone already: its replacement attaches in turn
    WorkerThread.attach(this.#piscina, worker, (thread, detail) => this.#threadEnded(thread, detail)).then(
      (thread) => {
        if (this.#stopping || thread.ended) return;
        this.#thread = thread;
        this.#events.onThreadStarted(this, thread.id);
        this.#settleAttachWaiters();
        this.#scheduleFlush();
      },
      (error: unknown) => {
        // The thread died while attaching (its end is handled like any other), or the slot stopped.
        this.#settleAttachWaiters(new WorkerFailedError(`worker ${this.id} could not start a thread: ${error instanceof Error ? error.message : String(error)}`, { workerId: this.id }));
      },
    );
  }

  /** Resolves once a thread is attached (however long its start-up takes); rejects if it dies first. */
  ready(): Promise<void> {
    return this.#thread === undefined ? this.#nextThread() : Promise.resolve();
  }

  /** Links the module on this slot's thread; rejects with why it cannot run. */
  async probe(): Promise<void> {
    await this.ready();
    const thread = this.#thread;
    if (thread === undefined) throw new WorkerFailedError(`worker ${this.id} lost its thread before the module could be linked`, { workerId: this.id });
    const error = await thread.probe();
    if (error !== undefined) throw deserializeError(error);
  }

  /** Operations queued now and not yet answered. */
  get pending(): number {
    return this.#batcher.pending;
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
      // Nothing will ever run it: fail it now rather than leave it in a queue nobody reads.
      job.fail(this.#stopCause, false);
      return;
    }
    this.#batcher.submit(job);
    // A long run of calls in one tick starts going out before the tick ends: the thread works on the
    // first part while this thread still makes the rest.
    if (this.#batcher.queued >= EARLY_BATCH_OPS && this.#batcher.inFlight.length < MAX_BATCHES_IN_FLIGHT) this.#flush();
    else this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      this.#flush();
    });
  }

  /** Sends what may go now: batches while the thread has room for them. */
  #flush(): void {
    const thread = this.#thread;
    if (thread === undefined || this.#stopping) return;
    const batcher = this.#batcher;
    let sent = false;
    while (batcher.queued > 0 && batcher.inFlight.length < MAX_BATCHES_IN_FLIGHT && this.#sendable > 0) {
      const { batch, used } = batcher.take(this.#encoder, MAX_BATCH_WORDS, this.#sendable);
      this.#sendable -= used;
      if (batch === undefined) continue;
      if (!thread.send(this.#encoder)) {
        // Cannot happen while batches in flight fit in the ring together; fail loudly rather than hang.
        throw new Error(`worker ${this.id}: the request ring has no room for batch ${batch.seq}`);
      }
      sent = true;
      if (batch.tracked) this.#watchdog.check();
    }
    if (sent) {
      if (this.#busySince < 0) this.#busySince = tickNow();
      this.#awaitOutcomes(thread);
    }
    // A recycle waits for what may still go to the old thread; jobs refused on the way count too.
    this.#batchSettled();
    this.#notifyIfIdle();
  }

  /** Waits (without blocking) for the thread's outcomes while batches are in flight. */
  #awaitOutcomes(thread: WorkerThread): void {
    if (this.#waitingOn === thread) return;
    thread.keepAlive(true);
    for (;;) {
      // Reading outcomes below may have sent more and started a wait already.
      if (this.#waitingOn === thread) return;
      if (this.#batcher.inFlight.length === 0 || thread !== this.#thread) {
        thread.keepAlive(false);
        return;
      }
      const wait = thread.whenOutcomes();
      if (wait === undefined) {
        this.#readOutcomes(thread);
        continue;
      }
      this.#waitingOn = thread;
      void wait.then(() => {
        if (this.#waitingOn === thread) this.#waitingOn = undefined;
        if (thread !== this.#thread) return;
        this.#readOutcomes(thread);
        this.#awaitOutcomes(thread);
      });
      return;
    }
  }

  #readOutcomes(thread: WorkerThread): void {
    if (thread.readOutcomes(this.#onOutcome) === 0) return;
    this.#crashesInARow = 0;
    this.#scheduleMemoryCount();
    if (this.#termination === undefined) this.#watchdog.check();
    this.#flush();
    if (this.#batcher.inFlight.length === 0) this.#workDone();
  }

  /** No batch is out any more: the time since work went out counts as busy. */
  #workDone(): void {
    if (this.#busySince < 0) return;
    this.#busyMs += tickNow() - this.#busySince;
    this.#busySince = -1;
  }

  /** Milliseconds this worker had work out (batches sent and not fully answered), the current stretch included. */
  get busyMs(): number {
    return this.#busySince < 0 ? this.#busyMs : this.#busyMs + performance.now() - this.#busySince;
  }

  /** Operations its threads answered. */
  get answered(): number {
    return this.#answered;
  }

  /** Asks the worker to recount its memory a little later: once per {@link MEMORY_COUNT_MS} while work runs, never while idle. */
  #scheduleMemoryCount(): void {
    if (this.#countsMemoryPerCall || this.#memoryCount !== undefined) return;
    this.#memoryCount = setTimeout(() => {
      this.#memoryCount = undefined;
      // A thread that dies meanwhile had nothing left to count: its board is reset with it.
      this.#thread?.countMemory().catch(() => {});
    }, MEMORY_COUNT_MS);
    this.#memoryCount.unref();
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
    const thread = this.#thread;
    if (thread === undefined || this.#termination !== undefined) return;
    this.#termination = termination;
    void thread.terminate();
  }

  /** The thread exited: outcomes it wrote still count; every job in flight fails (those it never took cost their session nothing). */
  #threadEnded(thread: WorkerThread, detail: string | undefined): void {
    if (this.#stopping) return;
    if (thread !== this.#thread) {
      // Died while attaching: nothing was sent to it, but it is a crash all the same (towards maxRestarts).
      if (this.#thread !== undefined) return;
      this.#crashesInARow++;
      this.#events.onThreadLost(this, this.#crashCause(thread, detail, ' while starting'), 'crash');
      return;
    }
    this.#thread = undefined;
    this.#watchdog.stop();
    thread.keepAlive(false);
    if (this.#stopping) return;
    // Outcomes written before the end are real: settle them first.
    thread.readOutcomes(this.#onOutcome);
    const termination = this.#termination;
    this.#termination = undefined;
    this.#progress.reset();
    // Its instances are gone with it; the replacement counts its own.
    this.#memory.write(0);
    let cause: ReactorPoolError;
    let end: ThreadEnd;
    if (termination === undefined) {
      this.#crashesInARow++;
      cause = this.#crashCause(thread, detail, '; its instances are gone');
      end = 'crash';
    } else {
      cause = termination.cause;
      end = termination.end;
    }
    const lost = this.#batcher.threadLost(thread.requests.taken);
    this.#workDone();
    const culprit = termination?.culprit;
    // The runaway call first: its session is lost by its own error, which its other calls then carry.
    if (culprit !== undefined && lost.includes(culprit.job)) culprit.job.fail(culprit.error, true);
    for (const job of lost) if (job !== culprit?.job) job.fail(cause, false);
    this.#events.onThreadLost(this, cause, end);
    this.#batchSettled();
    this.#notifyIfIdle();
  }

  /** The error of a thread's unexpected end: `detail` is what its error said, if it said anything. */
  #crashCause(thread: WorkerThread, detail: string | undefined, rest: string): WorkerFailedError {
    const why = detail === undefined ? 'stopped unexpectedly' : `died (${detail})`;
    return new WorkerFailedError(`worker ${this.id} (thread ${thread.id}) ${why}${rest}`, { workerId: this.id });
  }

  #notifyIfIdle(): void {
    if (this.#idleWaiters.length === 0 || this.pending > 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Tells whoever waits for a thread that one is attached, or (`error`) that none will be. */
  #settleAttachWaiters(error?: Error): void {
    const waiters = this.#attachWaiters;
    this.#attachWaiters = [];
    for (const waiter of waiters) {
      if (error === undefined) waiter.resolve();
      else waiter.reject(error);
    }
  }

  /** Resolves once a thread is attached to the slot again (after a death, before its replacement). */
  #nextThread(): Promise<void> {
    return new Promise((resolve, reject) => this.#attachWaiters.push({ resolve, reject }));
  }

  /**
   * Ends the thread at once, whatever it is running (the only way to stop a tight wasm loop), as a
   * crash would: the loss rule applies and piscina starts a replacement.
   */
  async terminateThread(): Promise<void> {
    // Between a death and its replacement there is no thread yet: wait for the replacement.
    if (this.#thread === undefined && !this.#stopping) await this.#nextThread();
    await this.#thread?.terminate();
  }

  /**
   * Replaces the thread with a fresh one once the jobs submitted so far have run and `before` has
   * settled (sessions moving out store their snapshots then); jobs submitted meanwhile wait for the new
   * thread. The instances still on the old thread are lost with `cause`.
   */
  async recycle(cause: ReactorPoolError, before?: () => Promise<unknown>): Promise<void> {
    if (this.#stopping || this.#sendable !== Number.POSITIVE_INFINITY) return;
    this.#sendable = this.#batcher.queued;
    try {
      this.#scheduleFlush();
      // Each turn waits for a batch to settle; the flush after it sends what may still go.
      while ((this.#sendable > 0 || this.#batcher.inFlight.length > 0) && !this.#stopping) await this.#settled();
      await before?.();
      if (this.#stopping) return;
      await this.ready();
      const replaced = this.#nextThread();
      this.#terminate({ end: 'recycle', cause });
      await replaced;
    } finally {
      this.#sendable = Number.POSITIVE_INFINITY;
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
    this.#watchdog.stop();
    clearTimeout(this.#memoryCount);
    this.#thread?.keepAlive(false);
    this.#thread = undefined;
    for (const job of this.#batcher.takeAll()) job.fail(cause, false);
    this.#workDone();
    this.#settleAttachWaiters(cause);
    this.#batchSettled();
    this.#notifyIfIdle();
    // Never in the same turn as a thread's death (a restart limit stops the pool right after one):
    // piscina may still be handling that exit, and its destroy() would then not settle.
    await new Promise((resolve) => setImmediate(resolve));
    await this.#piscina.destroy();
  }
}
