// The main-thread side of one bare-ring worker: `call(session, n)` returns its own promise; calls of
// a tick are published together with one Atomics.notify, and results are read after Atomics.waitAsync.

import {
  REQUESTS_PUBLISHED, REQUEST_WORDS, RESPONSES_PUBLISHED, RING_SLOTS, SLOT_MASK, viewsOf, type RingBuffers,
} from './bare-ring-layout.js';

type Resolve = (value: number) => void;

type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };

/** `Atomics.waitAsync` (Node ≥ 16; typed only from TypeScript's ES2024 lib, newer than this project's). */
const waitAsync = (Atomics as unknown as { waitAsync(this: void, array: Int32Array, index: number, value: number): WaitAsyncResult }).waitAsync;

/** Set by {@link capture}: lets `new Promise(capture)` hand out its resolver without a closure per call. */
let captured: Resolve | undefined;
function capture(resolve: Resolve): void {
  captured = resolve;
}

/** One worker's rings, seen from the main thread. Several published batches may be in flight at once. */
export class RingChannel {
  readonly #control: Int32Array;
  readonly #requests: Int32Array;
  readonly #responses: Int32Array;
  /** The resolver of the call in each slot, until its result is read. */
  readonly #resolvers: (Resolve | undefined)[] = new Array<Resolve | undefined>(RING_SLOTS).fill(undefined);
  /** Sequence numbers (wrapping): calls written, calls published to the worker, results read. */
  #written = 0;
  #published = 0;
  #consumed = 0;
  #publishQueued = false;
  #waiting = false;

  constructor(ring: RingBuffers) {
    const views = viewsOf(ring);
    this.#control = views.control;
    this.#requests = views.requests;
    this.#responses = views.responses;
  }

  /**
   * `inc(n)` on the worker's session number `session`. Rejects at once when the ring is full
   * ({@link RING_SLOTS} calls unanswered): the benchmark's window never gets there.
   */
  call(session: number, n: number): Promise<number> {
    const sequence = this.#written;
    if (((sequence - this.#consumed) | 0) >= RING_SLOTS) return Promise.reject(new RangeError(`bare ring full: ${RING_SLOTS} calls unanswered`));
    const slot = sequence & SLOT_MASK;
    const at = slot * REQUEST_WORDS;
    this.#requests[at] = session;
    this.#requests[at + 1] = n;
    this.#written = (sequence + 1) | 0;
    const promise = new Promise<number>(capture);
    this.#resolvers[slot] = captured;
    if (!this.#publishQueued) {
      this.#publishQueued = true;
      queueMicrotask(this.#publish);
    }
    return promise;
  }

  /** Publishes every call written this tick: one store of the counter (which orders the writes before it) and one notify. */
  readonly #publish = (): void => {
    this.#publishQueued = false;
    this.#published = this.#written;
    Atomics.store(this.#control, REQUESTS_PUBLISHED, this.#published);
    Atomics.notify(this.#control, REQUESTS_PUBLISHED, 1);
    this.#awaitResults();
  };

  /** Arms one waiter on the worker's counter while published calls are unanswered. */
  #awaitResults(): void {
    if (this.#waiting || this.#consumed === this.#published) return;
    this.#waiting = true;
    const wait = waitAsync(this.#control, RESPONSES_PUBLISHED, this.#consumed);
    if (wait.async) void wait.value.then(this.#readResults);
    else queueMicrotask(this.#readResults); // results already there
  }

  /** Resolves every published result, in ring order, then waits again if calls are still unanswered. */
  readonly #readResults = (): void => {
    this.#waiting = false;
    const answered = Atomics.load(this.#control, RESPONSES_PUBLISHED);
    while (this.#consumed !== answered) {
      const slot = this.#consumed & SLOT_MASK;
      const resolve = this.#resolvers[slot] as Resolve;
      this.#resolvers[slot] = undefined;
      this.#consumed = (this.#consumed + 1) | 0;
      resolve(this.#responses[slot] as number);
    }
    this.#awaitResults();
  };
}
