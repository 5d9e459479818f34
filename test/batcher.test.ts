// The batcher, without threads: queued jobs go out as batches (one encoded record each, bounded by
// words and a budget), outcomes settle them in order, and a lost thread gives back every unanswered
// job, telling those of batches it never took. Fake jobs record what the batcher asked of them.

import { describe, expect, it } from 'vitest';
import { Batcher, type InFlightBatch } from '../dist/src/batcher.js';
import type { ReactorPoolError } from '../dist/src/errors.js';
import type { Job } from '../dist/src/job.js';
import { Status, type Op } from '../dist/src/protocol.js';
import { BatchEncoder, REQUEST_HEADER_WORDS, decodeOps } from '../dist/src/wire.js';

/** Big enough that nothing here goes by the side port. */
const SIDE_WORDS = 1 << 20;
const NO_WORD_LIMIT = Number.POSITIVE_INFINITY;
const NO_BUDGET = Number.POSITIVE_INFINITY;

/** A job that records every call the batcher makes on it (into its own log and a shared one). */
class FakeJob implements Job {
  op: Op;
  readonly timeout: number;
  readonly calls: string[] = [];
  settled: [Status, unknown] | undefined;
  readonly #send: boolean;
  readonly #log: string[];

  constructor(readonly name: number, log: string[], options: { timeout?: number; send?: boolean } = {}) {
    this.op = { kind: 'call', instanceId: 1, epoch: 0, open: false, exportIndex: 0, args: [name] };
    this.timeout = options.timeout ?? 0;
    this.#send = options.send ?? true;
    this.#log = log;
  }

  #record(call: string): void {
    this.calls.push(call);
    this.#log.push(`${call} ${this.name}`);
  }

  beforeSend(): boolean {
    this.#record('beforeSend');
    return this.#send;
  }

  notTaken(): void {
    this.#record('notTaken');
  }

  settle(status: Status, payload: unknown): void {
    this.#record('settle');
    this.settled = [status, payload];
  }

  fail(_error: ReactorPoolError, _lost: boolean): void {
    this.#record('fail');
  }

  describe(): string {
    return `job ${this.name}`;
  }
}

function jobs(count: number, log: string[], first = 1): FakeJob[] {
  return Array.from({ length: count }, (_, i) => new FakeJob(first + i, log));
}

/** The names of the calls encoded in the encoder's record (each fake job's op carries its name). */
function encodedNames(encoder: BatchEncoder): number[] {
  return decodeOps(encoder.words, 0, () => undefined).map((op) => (op.kind === 'call' ? op.args[0] as number : -1));
}

function names(list: readonly Job[]): number[] {
  return list.map((job) => (job as FakeJob).name);
}

/** Words one fake job's call takes in a record. */
function wordsPerJob(): number {
  const encoder = new BatchEncoder(SIDE_WORDS);
  encoder.begin(1);
  encoder.add(new FakeJob(1, []).op);
  return encoder.words.length - REQUEST_HEADER_WORDS;
}

function taken(batch: InFlightBatch | undefined): InFlightBatch {
  expect(batch).toBeDefined();
  return batch as InFlightBatch;
}

describe('Batcher', () => {
  it('sends the jobs of one tick as one batch, in order, asking each job once just before it goes', () => {
    const log: string[] = [];
    const batcher = new Batcher();
    const encoder = new BatchEncoder(SIDE_WORDS);
    const submitted = jobs(5, log);
    for (const job of submitted) batcher.submit(job);
    expect(batcher.queued).toBe(5);
    expect(batcher.pending).toBe(5);
    expect(log).toEqual([]);

    const { batch, used } = batcher.take(encoder, NO_WORD_LIMIT, NO_BUDGET);
    const sent = taken(batch);
    expect(used).toBe(5);
    expect(names(sent.jobs)).toEqual([1, 2, 3, 4, 5]);
    expect(sent.tracked).toBe(false);
    expect(sent.settled).toBe(0);
    expect(log).toEqual(['beforeSend 1', 'beforeSend 2', 'beforeSend 3', 'beforeSend 4', 'beforeSend 5']);
    expect(encodedNames(encoder)).toEqual([1, 2, 3, 4, 5]);
    // The record's header: its length, batch number, no start reports, the operation count.
    expect(encoder.words.i32[0]).toBe(encoder.words.length);
    expect(encoder.words.i32[2]).toBe(sent.seq);
    expect(encoder.words.i32[3]).toBe(0);
    expect(encoder.words.i32[4]).toBe(5);
    expect(batcher.queued).toBe(0);
    expect(batcher.pending).toBe(5);
    expect(batcher.inFlight).toEqual([sent]);
  });

  it('encodes the operation as it stands after beforeSend, and tracks a batch with a job that has a timeout', () => {
    const batcher = new Batcher();
    const encoder = new BatchEncoder(SIDE_WORDS);
    const replaced = new FakeJob(1, []);
    // As an aborted call that was to create its instance: beforeSend turns it into a bare open.
    replaced.beforeSend = (): boolean => {
      replaced.op = { kind: 'open', instanceId: 7, epoch: 3 };
      return true;
    };
    batcher.submit(replaced);
    batcher.submit(new FakeJob(2, [], { timeout: 50 }));
    const sent = taken(batcher.take(encoder, NO_WORD_LIMIT, NO_BUDGET).batch);
    expect(sent.tracked).toBe(true);
    expect(encoder.words.i32[3]).toBe(1);
    expect(decodeOps(encoder.words, 0, () => undefined)).toEqual([
      { kind: 'open', instanceId: 7, epoch: 3 },
      { kind: 'call', instanceId: 1, epoch: 0, open: false, exportIndex: 0, args: [2] },
    ]);
  });

  it('drops a job whose beforeSend says no, counting it as used; a take of only such jobs sends nothing', () => {
    const log: string[] = [];
    const batcher = new Batcher();
    const encoder = new BatchEncoder(SIDE_WORDS);
    for (const job of [new FakeJob(1, log), new FakeJob(2, log, { send: false }), new FakeJob(3, log)]) batcher.submit(job);
    const { batch, used } = batcher.take(encoder, NO_WORD_LIMIT, NO_BUDGET);
    expect(used).toBe(3);
    expect(names(taken(batch).jobs)).toEqual([1, 3]);
    expect(encodedNames(encoder)).toEqual([1, 3]);
    expect(batcher.pending).toBe(2);

    batcher.submit(new FakeJob(4, log, { send: false }));
    const empty = batcher.take(encoder, NO_WORD_LIMIT, NO_BUDGET);
    expect(empty).toEqual({ batch: undefined, used: 1 });
    expect(batcher.queued).toBe(0);
    expect(batcher.inFlight).toHaveLength(1);
    expect(log).toEqual(['beforeSend 1', 'beforeSend 2', 'beforeSend 3', 'beforeSend 4']);
  });

  it('uses at most the budget of queued jobs per take, dropped jobs included', () => {
    const log: string[] = [];
    const batcher = new Batcher();
    const encoder = new BatchEncoder(SIDE_WORDS);
    batcher.submit(new FakeJob(1, log, { send: false }));
    for (const job of jobs(4, log, 2)) batcher.submit(job);

    const first = batcher.take(encoder, NO_WORD_LIMIT, 3);
    expect(first.used).toBe(3);
    expect(names(taken(first.batch).jobs)).toEqual([2, 3]);
    expect(batcher.queued).toBe(2);
    // Jobs past the budget were not asked yet.
    expect(log).toEqual(['beforeSend 1', 'beforeSend 2', 'beforeSend 3']);

    const second = batcher.take(encoder, NO_WORD_LIMIT, 1);
    expect(second.used).toBe(1);
    expect(names(taken(second.batch).jobs)).toEqual([4]);
    expect(encodedNames(encoder)).toEqual([4]);
    expect(batcher.queued).toBe(1);
    expect(batcher.pending).toBe(4);
    expect(batcher.inFlight.map((batch) => batch.seq)).toEqual([first.batch?.seq, second.batch?.seq]);
  });

  it('stops a batch before it passes maxWords; the job that did not fit leads the next batch without being asked again', () => {
    const log: string[] = [];
    const batcher = new Batcher();
    const encoder = new BatchEncoder(SIDE_WORDS);
    for (const job of jobs(5, log)) batcher.submit(job);
    // Room for exactly two jobs' calls.
    const maxWords = REQUEST_HEADER_WORDS + 2 * wordsPerJob();

    const first = batcher.take(encoder, maxWords, NO_BUDGET);
    expect(names(taken(first.batch).jobs)).toEqual([1, 2]);
    expect(first.used).toBe(2);
    expect(encoder.words.length).toBe(maxWords);
    expect(encodedNames(encoder)).toEqual([1, 2]);
    // Job 3 was asked, then did not fit: it is still queued.
    expect(log).toEqual(['beforeSend 1', 'beforeSend 2', 'beforeSend 3']);
    expect(batcher.queued).toBe(3);
    expect(batcher.pending).toBe(5);

    const second = batcher.take(encoder, maxWords, NO_BUDGET);
    expect(names(taken(second.batch).jobs)).toEqual([3, 4]);
    expect(encodedNames(encoder)).toEqual([3, 4]);
    expect(log).toEqual(['beforeSend 1', 'beforeSend 2', 'beforeSend 3', 'beforeSend 4', 'beforeSend 5']);

    const third = batcher.take(encoder, maxWords, NO_BUDGET);
    expect(names(taken(third.batch).jobs)).toEqual([5]);
    // Every job was asked exactly once.
    expect(log.filter((entry) => entry === 'beforeSend 3')).toHaveLength(1);
    expect(log.filter((entry) => entry === 'beforeSend 5')).toHaveLength(1);
    expect(batcher.queued).toBe(0);
    expect(batcher.inFlight).toHaveLength(3);
  });

  it('sends a job bigger than maxWords alone rather than never', () => {
    const batcher = new Batcher();
    const encoder = new BatchEncoder(SIDE_WORDS);
    for (const job of jobs(2, [])) batcher.submit(job);
    const first = batcher.take(encoder, 1, NO_BUDGET);
    expect(names(taken(first.batch).jobs)).toEqual([1]);
    const second = batcher.take(encoder, 1, NO_BUDGET);
    expect(names(taken(second.batch).jobs)).toEqual([2]);
  });

  it('settles jobs with their outcomes in order, and refuses an outcome out of order', () => {
    const log: string[] = [];
    const batcher = new Batcher();
    const encoder = new BatchEncoder(SIDE_WORDS);
    const [a, b, c] = jobs(3, log);
    for (const job of [a, b, c]) batcher.submit(job as FakeJob);
    const { seq } = taken(batcher.take(encoder, NO_WORD_LIMIT, NO_BUDGET).batch);
    batcher.submit(new FakeJob(4, log));
    log.length = 0;

    expect(batcher.jobAt(seq, 1)).toBe(b);
    expect(() => batcher.settle(seq, 1, Status.Ok, 'early')).toThrow(/out of order/);
    expect(() => batcher.settle(seq, 3, Status.Ok, 'none')).toThrow(/out of order/);
    expect(b?.settled).toBeUndefined();
    expect(batcher.pending).toBe(4);

    batcher.settle(seq, 0, Status.Ok, 'a');
    expect(a?.settled).toEqual([Status.Ok, 'a']);
    expect(batcher.pending).toBe(3);
    expect(() => batcher.settle(seq, 0, Status.Ok, 'again')).toThrow(/out of order/);
    batcher.settle(seq, 1, Status.Failed, 'b');
    expect(batcher.inFlight).toHaveLength(1);
    expect(batcher.inFlight[0]?.settled).toBe(2);
    batcher.settle(seq, 2, Status.Ok, 'c');
    expect(c?.settled).toEqual([Status.Ok, 'c']);
    // A batch fully answered is no longer in flight; the queued job is still pending.
    expect(batcher.inFlight).toEqual([]);
    expect(batcher.jobAt(seq, 0)).toBeUndefined();
    expect(batcher.pending).toBe(1);
    expect(batcher.queued).toBe(1);
    expect(log).toEqual(['settle 1', 'settle 2', 'settle 3']);
    // An outcome for a batch no longer in flight (its thread was lost) is ignored.
    expect(() => batcher.settle(seq, 0, Status.Ok, 'late')).not.toThrow();
    expect(a?.calls).toEqual(['beforeSend', 'settle']);
  });

  it('gives back every unanswered job of a lost thread in order, telling exactly those of batches it never took', () => {
    const log: string[] = [];
    const batcher = new Batcher();
    const encoder = new BatchEncoder(SIDE_WORDS);
    const sent: InFlightBatch[] = [];
    for (let n = 0; n < 3; n++) {
      for (const job of jobs(2, log, 1 + 2 * n)) batcher.submit(job);
      sent.push(taken(batcher.take(encoder, NO_WORD_LIMIT, NO_BUDGET).batch));
    }
    const [oldest, middle, newest] = sent as [InFlightBatch, InFlightBatch, InFlightBatch];
    expect(oldest.seq < middle.seq && middle.seq < newest.seq).toBe(true);
    batcher.settle(oldest.seq, 0, Status.Ok, 1);
    for (const job of jobs(1, log, 7)) batcher.submit(job);
    log.length = 0;

    // The thread took the oldest two batches, not the newest.
    const lost = batcher.threadLost(middle.seq);
    expect(names(lost)).toEqual([2, 3, 4, 5, 6]);
    expect(log).toEqual(['notTaken 5', 'notTaken 6']);
    expect(batcher.inFlight).toEqual([]);
    // The queued job stays queued, for the next thread.
    expect(batcher.queued).toBe(1);
    expect(batcher.pending).toBe(1);
    // Outcomes the dead thread wrote late change nothing.
    batcher.settle(middle.seq, 0, Status.Ok, 3);
    expect(log).toEqual(['notTaken 5', 'notTaken 6']);

    const next = taken(batcher.take(encoder, NO_WORD_LIMIT, NO_BUDGET).batch);
    expect(names(next.jobs)).toEqual([7]);
    expect(next.seq).toBeGreaterThan(newest.seq);
  });

  it('tells every job a lost thread never took, when it took none', () => {
    const log: string[] = [];
    const batcher = new Batcher();
    const encoder = new BatchEncoder(SIDE_WORDS);
    for (const job of jobs(2, log)) batcher.submit(job);
    batcher.take(encoder, NO_WORD_LIMIT, NO_BUDGET);
    log.length = 0;
    expect(names(batcher.threadLost(0))).toEqual([1, 2]);
    expect(log).toEqual(['notTaken 1', 'notTaken 2']);
  });

  it('gives back every in-flight and queued job not yet settled on takeAll, oldest first, and is empty after', () => {
    const log: string[] = [];
    const batcher = new Batcher();
    const encoder = new BatchEncoder(SIDE_WORDS);
    for (const job of jobs(3, log)) batcher.submit(job);
    const { seq } = taken(batcher.take(encoder, NO_WORD_LIMIT, NO_BUDGET).batch);
    batcher.settle(seq, 0, Status.Ok, 1);
    for (const job of jobs(3, log, 4)) batcher.submit(job);
    // Job 5 is asked and does not fit: it is queued, prepared.
    const small = REQUEST_HEADER_WORDS + wordsPerJob();
    taken(batcher.take(encoder, small, NO_BUDGET).batch);
    log.length = 0;

    // In submission order: a session's calls fail in the order they were made.
    const all = batcher.takeAll();
    expect(names(all)).toEqual([2, 3, 4, 5, 6]);
    expect(log).toEqual([]);
    expect(batcher.queued).toBe(0);
    expect(batcher.pending).toBe(0);
    expect(batcher.inFlight).toEqual([]);
    expect(batcher.takeAll()).toEqual([]);

    // A job submitted afterwards is asked before it goes, as any new job.
    batcher.submit(new FakeJob(8, log));
    expect(names(taken(batcher.take(encoder, NO_WORD_LIMIT, NO_BUDGET).batch).jobs)).toEqual([8]);
    expect(log).toEqual(['beforeSend 8']);
  });
});
