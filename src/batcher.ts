// A worker slot's queue of jobs and its batches in flight: jobs submitted in one tick go out as one
// batch (one ring record), outcomes come back in order and settle their jobs. Knows nothing of threads.

import type { Job } from './job.js';
import type { Status } from './protocol.js';
import type { BatchEncoder } from './wire.js';

/** Operations per batch at most (the progress board numbers them in 20 bits; smaller also bounds latency). */
export const MAX_BATCH_OPS = 65_536;

/** A batch sent to the thread and not yet fully answered. */
export interface InFlightBatch {
  readonly seq: number;
  readonly jobs: readonly Job[];
  /** Some job has a timeout: the worker reports each operation's start. */
  readonly tracked: boolean;
  /** Outcomes received so far (the jobs before this index are settled). */
  settled: number;
}

export class Batcher {
  #outbox: Job[] = [];
  /** Index of the first job of {@link #outbox} not yet taken. */
  #head = 0;
  /** A queued job that already passed `beforeSend` (then did not fit in its batch): it is not asked again. */
  #prepared: Job | undefined;
  /** Batches in flight, oldest first. */
  #inFlight: InFlightBatch[] = [];
  #seq = 0;

  /** Jobs waiting to be sent. */
  get queued(): number {
    return this.#outbox.length - this.#head;
  }

  /** Jobs queued or in flight and not yet answered. */
  get pending(): number {
    let count = this.queued;
    for (const batch of this.#inFlight) count += batch.jobs.length - batch.settled;
    return count;
  }

  /** Batches in flight. */
  get inFlight(): readonly InFlightBatch[] {
    return this.#inFlight;
  }

  submit(job: Job): void {
    this.#outbox.push(job);
  }

  /**
   * Takes up to `budget` queued jobs into the next batch, encoding each that is still to be sent and
   * stopping before the record would pass `maxWords`. Returns the batch (or undefined if every job
   * taken had settled meanwhile) and how many queued jobs it used up.
   */
  take(encoder: BatchEncoder, maxWords: number, budget: number): { batch: InFlightBatch | undefined; used: number } {
    const seq = ++this.#seq;
    encoder.begin(seq);
    const outbox = this.#outbox;
    const jobs: Job[] = [];
    let tracked = false;
    let used = 0;
    const limit = Math.min(MAX_BATCH_OPS, budget);
    while (this.#head < outbox.length && jobs.length < MAX_BATCH_OPS && used < limit) {
      const job = outbox[this.#head] as Job;
      if (job !== this.#prepared && !job.beforeSend()) {
        this.#head++;
        used++;
        continue;
      }
      encoder.save();
      encoder.add(job.op, job.sessionKey);
      if (encoder.words.length > maxWords && jobs.length > 0) {
        encoder.restore();
        this.#prepared = job;
        break;
      }
      this.#prepared = undefined;
      this.#head++;
      used++;
      jobs.push(job);
      if (job.timeout > 0) tracked = true;
    }
    this.#compact();
    if (jobs.length === 0) return { batch: undefined, used };
    encoder.finish(tracked);
    const batch: InFlightBatch = { seq, jobs, tracked, settled: 0 };
    this.#inFlight.push(batch);
    return { batch, used };
  }

  /** Settles the job at `index` of batch `seq` with its outcome. Outcomes come in order. */
  settle(seq: number, index: number, status: Status, payload: unknown): void {
    const batch = this.#batch(seq);
    if (batch === undefined) return; // failed already (its thread was lost)
    const job = batch.jobs[index];
    if (job === undefined || index !== batch.settled) throw new Error(`outcome ${index} of batch ${seq} came out of order (expected ${batch.settled})`);
    batch.settled++;
    if (batch.settled === batch.jobs.length) this.#inFlight.splice(this.#inFlight.indexOf(batch), 1);
    job.settle(status, payload);
  }

  /** The job of batch `seq` at `index`, if that batch is in flight. */
  jobAt(seq: number, index: number): Job | undefined {
    return this.#batch(seq)?.jobs[index];
  }

  #batch(seq: number): InFlightBatch | undefined {
    const inFlight = this.#inFlight;
    // Almost always the oldest.
    for (let i = 0; i < inFlight.length; i++) if ((inFlight[i] as InFlightBatch).seq === seq) return inFlight[i];
    return undefined;
  }

  /**
   * The thread is gone: returns the unanswered jobs of the batches in flight, in order. Those of
   * batches it never took (numbered above `taken`) are told so first.
   */
  threadLost(taken: number): Job[] {
    const jobs: Job[] = [];
    for (const batch of this.#inFlight) {
      for (let i = batch.settled; i < batch.jobs.length; i++) {
        const job = batch.jobs[i] as Job;
        if (batch.seq > taken) job.notTaken();
        jobs.push(job);
      }
    }
    this.#inFlight = [];
    return jobs;
  }

  /**
   * Empties the batches in flight and the queue; returns every job not yet settled, oldest first (so
   * that a session's operations fail in the order they were made).
   */
  takeAll(): Job[] {
    const jobs: Job[] = [];
    for (const batch of this.#inFlight) for (let i = batch.settled; i < batch.jobs.length; i++) jobs.push(batch.jobs[i] as Job);
    for (let i = this.#head; i < this.#outbox.length; i++) jobs.push(this.#outbox[i] as Job);
    this.#outbox = [];
    this.#head = 0;
    this.#prepared = undefined;
    this.#inFlight = [];
    return jobs;
  }

  #compact(): void {
    if (this.#head === this.#outbox.length) {
      this.#outbox = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#outbox.length) {
      this.#outbox = this.#outbox.slice(this.#head);
      this.#head = 0;
    }
  }
}
