// A single-producer, single-consumer ring of variable-length records in a SharedArrayBuffer: how
// batches of calls travel to a worker thread and their results back, without a message per batch.
// Records are whole numbers of 8-byte words, so every record can be read as f64, i64 or i32 in place.

/** `Atomics.waitAsync` (ES2024; in every Node this package runs on), typed for the ES2022 library. */
interface AtomicsWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number): { readonly async: false } | { readonly async: true; readonly value: Promise<unknown> };
}

/** Header slots (Int32 indices). */
const WRITE = 0;
const READ = 1;
/** Request rings: the number of the last batch the worker took (0: none yet). */
const TAKEN = 2;
/**
 * 1 while the consumer waits (or is about to) for a record: only then does a producer pay for a
 * wake-up. The consumer raises it before its last look at WRITE, the producer reads it after
 * publishing WRITE (both sequentially consistent), so one of them always sees the other.
 */
const SLEEPING = 3;
const HEADER_BYTES = 64;

/** A record's first word: its length in words (header included) in the low half; 0 marks a wrap to the start. */
const WRAP = 0;

/**
 * Growable scratch space of 8-byte words, viewed as f64, i64, i32 and bytes: a record is composed here,
 * then copied into a ring in one go.
 */
export class WordBuffer {
  f64: Float64Array;
  i64: BigInt64Array;
  i32: Int32Array;
  u8: Uint8Array;
  /** Words written so far. */
  length = 0;

  constructor(words = 1024) {
    const buffer = new ArrayBuffer(words * 8);
    this.f64 = new Float64Array(buffer);
    this.i64 = new BigInt64Array(buffer);
    this.i32 = new Int32Array(buffer);
    this.u8 = new Uint8Array(buffer);
  }

  /** Makes room for `words` more words; returns where they start. */
  reserve(words: number): number {
    const at = this.length;
    const needed = at + words;
    if (needed > this.f64.length) {
      const buffer = new ArrayBuffer(Math.max(needed, this.f64.length * 2) * 8);
      const u8 = new Uint8Array(buffer);
      u8.set(this.u8.subarray(0, at * 8));
      this.f64 = new Float64Array(buffer);
      this.i64 = new BigInt64Array(buffer);
      this.i32 = new Int32Array(buffer);
      this.u8 = u8;
    }
    this.length = needed;
    return at;
  }
}

/** Words needed for `bytes` bytes. */
export function wordsFor(bytes: number): number {
  return Math.ceil(bytes / 8);
}

export class Ring {
  /** Capacity of the data area, in words. */
  readonly words: number;
  readonly buffer: SharedArrayBuffer;
  readonly #header: Int32Array;
  readonly f64: Float64Array;
  readonly i64: BigInt64Array;
  readonly i32: Int32Array;
  readonly u8: Uint8Array;
  /** Byte offset of the data area in {@link buffer} (for typed views onto a record's payload). */
  readonly dataOffset = HEADER_BYTES;

  /** A new, empty ring with room for `bytes` bytes of records (rounded down to whole words). */
  static allocate(bytes: number): SharedArrayBuffer {
    return new SharedArrayBuffer(HEADER_BYTES + Math.floor(bytes / 8) * 8);
  }

  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.words = (buffer.byteLength - HEADER_BYTES) / 8;
    this.#header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.f64 = new Float64Array(buffer, HEADER_BYTES, this.words);
    this.i64 = new BigInt64Array(buffer, HEADER_BYTES, this.words);
    this.i32 = new Int32Array(buffer, HEADER_BYTES, this.words * 2);
    this.u8 = new Uint8Array(buffer, HEADER_BYTES, this.words * 8);
  }

  /** The largest record that can ever be written (half the ring, so two always fit in turn). */
  get maxRecordWords(): number {
    return Math.floor(this.words / 2) - 1;
  }

  // ---- producer side ----

  /**
   * Copies `record.length` words of `record` (its first word's low half must hold that length) in as
   * one record and publishes it. False if there is no room now (the consumer has not caught up).
   */
  write(record: WordBuffer): boolean {
    const n = record.length;
    const at = this.#placeFor(n);
    if (at < 0) return false;
    this.u8.set(record.u8.subarray(0, n * 8), at * 8);
    let next = at + n;
    if (next === this.words) next = 0;
    Atomics.store(this.#header, WRITE, next);
    if (Atomics.load(this.#header, SLEEPING) !== 0) Atomics.notify(this.#header, WRITE);
    return true;
  }

  /** Whether a record of `words` words fits now (it still will until written: only the consumer frees room). */
  hasRoom(words: number): boolean {
    const header = this.#header;
    const at = header[WRITE] as number;
    const read = Atomics.load(header, READ);
    if (at >= read) return words <= this.words - at - (read === 0 ? 1 : 0) || words < read;
    return words < read - at;
  }

  /** Where a record of `n` words goes (writing a wrap marker if it goes to the start), or -1 if it does not fit. */
  #placeFor(n: number): number {
    if (n > this.maxRecordWords) throw new RangeError(`a ring record of ${n} words exceeds the ring's ${this.maxRecordWords}`);
    const header = this.#header;
    let at = header[WRITE] as number;
    const read = Atomics.load(header, READ);
    if (at >= read) {
      // Free: [at, words) and [0, read); one word always stays free so that full never looks empty.
      if (n > this.words - at - (read === 0 ? 1 : 0)) {
        if (n >= read) return -1;
        this.i32[2 * at] = WRAP;
        at = 0;
      }
    } else if (n >= read - at) {
      return -1;
    }
    return at;
  }

  // ---- consumer side ----

  /** Where the next record starts, or -1 if the ring is empty. Skips a wrap marker. */
  next(): number {
    const header = this.#header;
    let at = header[READ] as number;
    if (at === Atomics.load(header, WRITE)) return -1;
    if (this.i32[2 * at] === WRAP) {
      at = 0;
      // The producer may see this at once: the wrapped-over tail is free, the records from 0 are not.
      Atomics.store(header, READ, 0);
      if (at === Atomics.load(header, WRITE)) return -1;
    }
    return at;
  }

  /** Frees the record at `at` (from {@link next}) for the producer. */
  release(at: number): void {
    let next = at + (this.i32[2 * at] as number);
    if (next === this.words) next = 0;
    Atomics.store(this.#header, READ, next);
    Atomics.notify(this.#header, READ);
  }

  /** The consumer's position, to wait on with {@link waitForRecord}. */
  get readPosition(): number {
    return this.#header[READ] as number;
  }

  /**
   * Consumer (worker side): polls for up to `ms` for a record to arrive after the position `seen`,
   * without sleeping; true if one has. Waking a sleeping thread costs the producer a system call and
   * this thread tens of microseconds on a virtual machine; a record that comes within the spin costs neither.
   */
  spinForRecord(seen: number, ms: number): boolean {
    const header = this.#header;
    const until = performance.now() + ms;
    for (;;) {
      for (let i = 0; i < 64; i++) if (Atomics.load(header, WRITE) !== seen) return true;
      if (performance.now() >= until) return false;
    }
  }

  /**
   * Consumer, blocking (worker side): waits up to `ms` for a record to arrive after the position
   * `seen`. Returns at once if one already has.
   */
  waitForRecord(seen: number, ms: number): void {
    const header = this.#header;
    Atomics.store(header, SLEEPING, 1);
    if (Atomics.load(header, WRITE) === seen) Atomics.wait(header, WRITE, seen, ms);
    Atomics.store(header, SLEEPING, 0);
  }

  /**
   * Consumer, asynchronous: resolves when a record may have arrived after position `seen`; undefined
   * if one already has.
   */
  waitForRecordAsync(seen: number): Promise<unknown> | undefined {
    const header = this.#header;
    Atomics.store(header, SLEEPING, 1);
    const wait = (Atomics as unknown as AtomicsWaitAsync).waitAsync(header, WRITE, seen);
    if (!wait.async) {
      Atomics.store(header, SLEEPING, 0);
      return undefined;
    }
    return wait.value.then((outcome) => {
      Atomics.store(header, SLEEPING, 0);
      return outcome;
    });
  }

  /** Wakes whoever waits for a record (with none written): a consumer told to stop waiting. */
  wakeConsumer(): void {
    Atomics.notify(this.#header, WRITE);
  }

  /** Producer, blocking (worker side): waits up to `ms` for the consumer to free space. */
  waitForSpace(ms: number): void {
    const read = Atomics.load(this.#header, READ);
    Atomics.wait(this.#header, READ, read, ms);
  }

  // ---- request rings: which batch the worker has taken ----

  /** Worker side: batch `seq` is taken (it may run from now on; before this, nothing of it ran). */
  markTaken(seq: number): void {
    Atomics.store(this.#header, TAKEN, seq);
  }

  /** Main side: the number of the last batch the worker took. */
  get taken(): number {
    return Atomics.load(this.#header, TAKEN);
  }
}
