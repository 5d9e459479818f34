// The worker's side of its rings: takes each request record as it arrives, runs its operations in
// order, and writes their outcomes to the response ring; between batches it waits on the request ring.

import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { Status, type WorkerData } from '../src/protocol.js';
import type { Ring } from '../src/ring.js';
import { OP_HEADER_WORDS, REQUEST_HEADER_WORDS, ResultEncoder, payloadWords } from '../src/wire.js';
import { beginBatch, endBatch, progress, publishMemory, runOp } from './operations.js';

/**
 * How long the thread waits for the next batch on the thread itself before it waits on its event loop:
 * under load the next batch comes within microseconds, and waking a blocked thread is quicker than
 * waking an event loop. Control messages wait at most this long.
 */
const WAIT_ON_THREAD_MS = 0.25;
/** Batches of fewer operations than this are followed by polling for the next (see {@link BatchServer.run}). */
const POLL_BELOW_OPS = 32;
/** Under continuous load, the event loop still gets a turn this often (control messages are handled there). */
const YIELD_EVERY_MS = 5;

export class BatchServer {
  readonly #requests: Ring;
  readonly #responses: Ring;
  readonly #side: MessagePort;
  readonly #results: ResultEncoder;
  /** Outcomes beyond this many words go out in a record of their own before the batch ends. */
  readonly #flushWords: number;
  readonly #takeSide = (): unknown => {
    const message = receiveMessageOnPort(this.#side);
    if (message === undefined) throw new Error('a side-port value was announced but none came');
    return message.message;
  };

  readonly #emit = (status: Status, payload: unknown): void => {
    if (status === Status.Ok) this.#results.ok(payload);
    else this.#results.outcome(status, payload);
  };

  /** How long the thread polls for the next batch before it sleeps (see Ring.spinForRecord). */
  readonly #poll: WorkerData['poll'];
  /** Operations in the batch served last. */
  #lastBatchOps = 0;

  constructor(requests: Ring, responses: Ring, side: MessagePort, poll: WorkerData['poll']) {
    this.#poll = poll;
    this.#requests = requests;
    this.#responses = responses;
    this.#side = side;
    const sideWords = Math.floor(responses.maxRecordWords / 4);
    this.#results = new ResultEncoder(sideWords);
    this.#flushWords = responses.maxRecordWords - sideWords - 2;
  }

  #stopped = false;

  /** Stops serving (the thread was attached again, to other rings). */
  stop(): void {
    this.#stopped = true;
    this.#requests.wakeConsumer();
  }

  /** Serves batches until the thread ends or {@link stop}. */
  async run(): Promise<void> {
    const requests = this.#requests;
    let yielded = performance.now();
    while (!this.#stopped) {
      while (this.#serveOne()) {
        if (performance.now() - yielded > YIELD_EVERY_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          yielded = performance.now();
        }
      }
      const seen = requests.readPosition;
      // After a small batch the next one is likely a reply away (one call in flight, a few callMany):
      // polling saves it a wake-up. After a large one the main thread is busy making the next wave,
      // and polling takes a core from it unless one is spare (the pool decides: `poll.afterLarge`).
      const pollMs = this.#lastBatchOps < POLL_BELOW_OPS ? this.#poll.afterSmall : this.#poll.afterLarge;
      if (pollMs > 0 && requests.spinForRecord(seen, pollMs)) continue;
      requests.waitForRecord(seen, WAIT_ON_THREAD_MS);
      if (requests.next() >= 0) continue;
      const wait = requests.waitForRecordAsync(seen);
      if (wait !== undefined) await wait;
      yielded = performance.now();
    }
  }

  /** Runs the next batch, if one is there. */
  #serveOne(): boolean {
    const requests = this.#requests;
    const at = requests.next();
    if (at < 0) return false;
    const { i32 } = requests;
    const seq = i32[2 * at + 2] as number;
    const track = i32[2 * at + 3] === 1;
    const count = i32[2 * at + 4] as number;
    this.#lastBatchOps = count;
    requests.markTaken(seq);
    const results = this.#results;
    results.begin(seq, 0);
    beginBatch();
    try {
      let p = at + REQUEST_HEADER_WORDS;
      for (let index = 0; index < count; index++) {
        if (track) progress.write(seq, index);
        runOp(requests, p, this.#emit, this.#takeSide);
        p += OP_HEADER_WORDS + payloadWords(requests, p);
        if (results.words.length > this.#flushWords && index + 1 < count) {
          this.#flush();
          results.begin(seq, index + 1);
        }
      }
      publishMemory();
    } finally {
      endBatch();
      if (track) progress.write(-1, 0);
    }
    this.#flush();
    requests.release(at);
    return true;
  }

  /** Writes the outcomes so far as one record, waiting for room if the main thread is behind. */
  #flush(): void {
    const results = this.#results;
    for (const value of results.side) this.#side.postMessage(value);
    const record = results.finish();
    while (!this.#responses.write(record)) this.#responses.waitForSpace(10);
  }
}
