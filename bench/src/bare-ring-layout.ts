// The shared memory of the bare-ring baseline, one set per worker: a control block of two counters,
// a request ring of (session, n) pairs and a response ring where slot i answers request slot i.

import { WINDOW } from './scenario.js';

/** Slots of each ring: a power of two (sequence numbers wrap at 2³²), above any window the benchmark keeps. */
export const RING_SLOTS = 4096;
/** `sequence & SLOT_MASK` is a sequence number's slot. */
export const SLOT_MASK = RING_SLOTS - 1;
/** Int32 words per request slot: the worker's own session number, then `n`. */
export const REQUEST_WORDS = 2;

/** Control word: requests the main thread has published (a wrapping count); the worker waits on it. */
export const REQUESTS_PUBLISHED = 0;
/** Control word: responses the worker has published (a wrapping count); the main thread waits on it. Its own cache line. */
export const RESPONSES_PUBLISHED = 16;
const CONTROL_WORDS = 32;

if (WINDOW >= RING_SLOTS) throw new RangeError(`the bare ring needs more than ${WINDOW} slots, has ${RING_SLOTS}`);

/** The shared buffers of one worker's rings, as they travel in `workerData`. */
export interface RingBuffers {
  readonly control: SharedArrayBuffer;
  readonly requests: SharedArrayBuffer;
  readonly responses: SharedArrayBuffer;
}

/** Views on {@link RingBuffers}, made once per thread. */
export interface RingViews {
  readonly control: Int32Array;
  readonly requests: Int32Array;
  readonly responses: Int32Array;
}

/** Zeroed buffers for one worker: both counters start at 0. */
export function allocateRing(): RingBuffers {
  const bytes = Int32Array.BYTES_PER_ELEMENT;
  return {
    control: new SharedArrayBuffer(CONTROL_WORDS * bytes),
    requests: new SharedArrayBuffer(RING_SLOTS * REQUEST_WORDS * bytes),
    responses: new SharedArrayBuffer(RING_SLOTS * bytes),
  };
}

/** The Int32 views on `ring`. */
export function viewsOf(ring: RingBuffers): RingViews {
  return { control: new Int32Array(ring.control), requests: new Int32Array(ring.requests), responses: new Int32Array(ring.responses) };
}

/** What the main thread hands each bare-ring worker. */
export interface BareRingWorkerData {
  readonly module: WebAssembly.Module;
  readonly ring: RingBuffers;
  /** Sessions this worker hosts, numbered 0…sessions−1 in its requests. */
  readonly sessions: number;
}
