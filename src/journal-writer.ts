// Group commit for the journal: records appended while one write is in flight gather into the next
// group, and each group is one store append (one fsync). Failed groups are voided and skipped over.

import type { DurableStore } from './durable-store.js';
import { InvalidArgumentError } from './errors.js';
import { FRAME_BYTES, MAX_RECORD_BYTES, writeFrame, writeSegmentHeader, SEGMENT_HEADER_BYTES } from './journal-file.js';
import { ByteWriter, RecordType, encodeRecord, type JournalRecord, type VoidRecord } from './journal-record.js';
import { rethrowLater } from './rethrow-later.js';

/** Called once the group holding a record is on stable storage (`undefined`), or failed to get there (the store's error). */
export type AppendDone = (error: Error | undefined) => void;

export interface JournalWriterOptions {
  /** The segment to write first: one the journal does not hold yet (`readJournal(...).nextSegment`). */
  readonly segment: number;
  /**
   * A segment is closed and the next one begun once it holds this many bytes (a record is never split).
   * @default 67108864 (64 MiB)
   */
  readonly segmentBytes?: number;
}

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

/** Bytes bound for one store append: their segment, where they start in it, and the records' callbacks. */
interface Group {
  readonly segment: number;
  readonly start: number;
  readonly out: ByteWriter;
  /** Where the records start in `out` (after the segment header and the voids the group repeats). */
  readonly recordsFrom: number;
  /** How many of the writer's voids (the first ones) the group repeats. */
  readonly voids: number;
  readonly dones: AppendDone[];
}

/**
 * Appends framed records to the journal in a {@link DurableStore}, one store append per group. Not
 * safe to share between writers; the store must not be written by anyone else meanwhile.
 *
 * A record's position is the `segment` the writer reports right after `append` returned (read it
 * then, synchronously) and the offset `append` returned. Should a group's write fail, its records
 * and every record gathered behind it fail (`done(error)`), unwritten; later records go to a new segment.
 */
export class JournalWriter {
  readonly #store: DurableStore;
  readonly #segmentBytes: number;
  #segment: number;
  /** The next free offset of {@link #segment} (counting the groups not written yet). */
  #offset = 0;
  /** The group records are gathering in. */
  #open: Group | undefined;
  /** Groups closed by a rotation, to write in order after the one in flight. */
  #sealed: Group[] = [];
  #inFlight: Group | undefined;
  /** Ranges whose write failed: every group repeats them at its head until one is written. */
  readonly #voids: VoidRecord[] = [];
  #flushScheduled = false;
  #idleWaiters: (() => void)[] = [];
  /** The capacity to start a group with: the last group's size, so a busy writer does not regrow each time. */
  #groupCapacity = 4096;

  constructor(store: DurableStore, { segment, segmentBytes = DEFAULT_SEGMENT_BYTES }: JournalWriterOptions) {
    if (!Number.isSafeInteger(segment) || segment < 0) throw new InvalidArgumentError(`Expected \`segment\` to be a non-negative integer, got ${String(segment)}`);
    if (!Number.isSafeInteger(segmentBytes) || segmentBytes < 1) throw new InvalidArgumentError(`Expected \`segmentBytes\` to be a positive integer, got ${String(segmentBytes)}`);
    this.#store = store;
    this.#segment = segment;
    this.#segmentBytes = segmentBytes;
  }

  /** The segment the last record appended went to (and the next one will, unless it rotates). */
  get segment(): number {
    return this.#segment;
  }

  /** Records appended whose `done` has not been called yet. */
  get pending(): number {
    let count = (this.#open?.dones.length ?? 0) + (this.#inFlight?.dones.length ?? 0);
    for (const group of this.#sealed) count += group.dones.length;
    return count;
  }

  /**
   * Appends a record body (as {@link encodeRecord} wrote it) and returns its offset in
   * {@link segment}; `done` is called once its group is durable or failed. Throws
   * `ERR_INVALID_ARGUMENT` for a body over {@link MAX_RECORD_BYTES} (nothing is appended).
   */
  append(body: Uint8Array, done: AppendDone): number {
    const length = body.byteLength;
    if (length === 0 || length > MAX_RECORD_BYTES) throw tooLarge(length);
    const group = this.#groupForNext();
    const out = group.out;
    const at = out.reserve(FRAME_BYTES + length);
    out.bytes.set(body, at + FRAME_BYTES);
    writeFrame(out.bytes, out.view, at, length);
    return this.#added(group, at, done);
  }

  /** Encodes `record` straight into the group (no copy of its body) and appends it, as {@link append}. */
  appendRecord(record: JournalRecord, done: AppendDone): number {
    this.#record = record;
    return this.appendWith(this.#encodeRecord, done);
  }

  #record: JournalRecord | undefined;
  readonly #encodeRecord = (out: ByteWriter): void => encodeRecord(out, this.#record as JournalRecord);

  /**
   * Appends the record body `encode` writes straight into the group, as {@link append}. The body is
   * {@link lastBody} until the next append.
   */
  appendWith(encode: (out: ByteWriter) => void, done: AppendDone): number {
    const group = this.#groupForNext();
    const out = group.out;
    const at = out.reserve(FRAME_BYTES);
    try {
      encode(out);
    } catch (error) {
      out.length = at;
      throw error;
    }
    const length = out.length - at - FRAME_BYTES;
    if (length === 0 || length > MAX_RECORD_BYTES) {
      out.length = at;
      throw tooLarge(length);
    }
    writeFrame(out.bytes, out.view, at, length);
    this.#lastAt = at + FRAME_BYTES;
    this.#lastLength = length;
    this.#lastOut = out;
    return this.#added(group, at, done);
  }

  #lastOut: ByteWriter | undefined;
  #lastAt = 0;
  #lastLength = 0;

  /**
   * The body of the record appended last, as a view of its group's buffer (never written again:
   * a group's buffer is its own, and a grown buffer leaves the old one as it was).
   */
  get lastBody(): Uint8Array {
    return this.#lastOut === undefined ? new Uint8Array(0) : this.#lastOut.bytes.subarray(this.#lastAt, this.#lastAt + this.#lastLength);
  }

  /**
   * Ends the current segment: records appended from now on go to a later one. Returns the segment
   * they will go to, so every record appended before is in an earlier one (what compaction needs
   * before deleting segments). A segment with nothing in it yet is kept.
   */
  rotate(): number {
    if (this.#offset === 0) return this.#segment;
    if (this.#open !== undefined) this.#sealed.push(this.#open);
    this.#open = undefined;
    this.#segment += 1;
    this.#offset = 0;
    return this.#segment;
  }

  /** Resolves once every record appended so far has had its `done` called. Never rejects. */
  idle(): Promise<void> {
    // A void not written yet is written now (in a group of its own): a clean close must not leave a
    // failed write's records to be read back as whole ones.
    if (this.#isIdle() && this.#voids.length > 0) this.#startGroup();
    if (this.#isIdle()) return Promise.resolve();
    const idle = new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    this.#scheduleFlush();
    return idle;
  }

  #isIdle(): boolean {
    return this.#inFlight === undefined && this.#open === undefined && this.#sealed.length === 0;
  }

  /** The group the next record goes in: the open one, or a new one (rotating first if the segment is full). */
  #groupForNext(): Group {
    if (this.#offset >= this.#segmentBytes) this.rotate();
    return this.#open ?? this.#startGroup();
  }

  #startGroup(): Group {
    const out = new ByteWriter(this.#groupCapacity);
    if (this.#offset === 0) writeSegmentHeader(out.view, out.reserve(SEGMENT_HEADER_BYTES));
    for (const range of this.#voids) {
      const at = out.reserve(FRAME_BYTES);
      encodeRecord(out, range);
      writeFrame(out.bytes, out.view, at, out.length - at - FRAME_BYTES);
    }
    const group: Group = { segment: this.#segment, start: this.#offset, out, recordsFrom: out.length, voids: this.#voids.length, dones: [] };
    this.#offset += out.length;
    this.#open = group;
    return group;
  }

  #added(group: Group, at: number, done: AppendDone): number {
    group.dones.push(done);
    this.#offset = group.start + group.out.length;
    this.#scheduleFlush();
    return group.start + at;
  }

  /** Flushes soon unless a write is in flight (its end flushes): not at once, so the records of this tick go in one group. */
  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#inFlight !== undefined) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.#flushNext();
    });
  }

  #flushNext(): void {
    if (this.#inFlight !== undefined) return;
    let group = this.#sealed.shift();
    if (group === undefined) {
      group = this.#open;
      this.#open = undefined;
    }
    if (group === undefined) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
      return;
    }
    const flushing = group;
    this.#inFlight = flushing;
    this.#groupCapacity = Math.max(4096, flushing.out.length);
    const bytes = flushing.out.bytes.subarray(0, flushing.out.length);
    // A store that throws instead of rejecting fails the group the same way.
    new Promise<void>((resolve) => resolve(this.#store.append(flushing.segment, bytes))).then(
      () => this.#written(flushing),
      (error: unknown) => this.#failed(flushing, error),
    );
  }

  #written(group: Group): void {
    this.#inFlight = undefined;
    this.#voids.splice(0, group.voids);
    settle(group.dones, undefined);
    this.#flushNext();
  }

  #failed(group: Group, reason: unknown): void {
    this.#inFlight = undefined;
    const error = reason instanceof Error ? reason : new Error(`the durable store's append failed with ${String(reason)}`);
    // Whatever of the group reached the segment is void. The records gathered behind it fail with it,
    // unwritten: each may follow a failed record of its session (made on state that is now rolled
    // back), and nothing acknowledged may ever depend on what was not. Later records start a new segment.
    this.#voids.push({ type: RecordType.Void, key: '', seq: 0, segment: group.segment, from: group.start, to: group.start + group.out.length });
    const behind = this.#open === undefined ? this.#sealed : [...this.#sealed, this.#open];
    this.#sealed = [];
    this.#open = undefined;
    this.#segment += 1;
    this.#offset = 0;
    settle(group.dones, error);
    for (const waiting of behind) settle(waiting.dones, error);
    this.#flushNext();
  }
}

/** Calls every callback; one that throws does not stop the others (its error surfaces later, uncaught). */
function settle(dones: readonly AppendDone[], error: Error | undefined): void {
  for (const done of dones) {
    try {
      done(error);
    } catch (thrown) {
      rethrowLater(thrown);
    }
  }
}

function tooLarge(length: number): InvalidArgumentError {
  return new InvalidArgumentError(`a journal record must be 1 to ${MAX_RECORD_BYTES} bytes, got \`${length}\` bytes`);
}
