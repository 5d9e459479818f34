// Whether the pool accepts work, and the queue places operations take: bounded pool-wide (`maxQueue`)
// and per session (`maxQueuePerSession`), refused at once with ERR_QUEUE_FULL past either bound.

import { PoolClosedError, QueueFullError, type ReactorPoolError } from './errors.js';

export class Admission {
  /** Operations queued or running pool-wide, at most. */
  readonly maxQueue: number;
  /** Operations queued or running per session, at most. */
  readonly maxQueuePerSession: number;
  #pending = 0;
  #accepting = true;
  /** Why the pool stopped by itself, if it did. */
  #failure: ReactorPoolError | undefined;

  constructor(maxQueue: number, maxQueuePerSession: number) {
    this.maxQueue = maxQueue;
    this.maxQueuePerSession = maxQueuePerSession;
  }

  /** Operations queued or running pool-wide now. */
  get pending(): number {
    return this.#pending;
  }

  /** Refuses everything from now on; `failure`: the pool stopped by itself, and refusals say why. */
  stop(failure?: ReactorPoolError): void {
    this.#accepting = false;
    this.#failure ??= failure;
  }

  /** Throws `ERR_POOL_CLOSED` once the pool stops accepting work. */
  assertAccepting(): void {
    if (this.#accepting) return;
    if (this.#failure !== undefined) {
      throw new PoolClosedError(`the pool stopped and accepts no new calls: ${this.#failure.message}`, {}, this.#failure);
    }
    throw new PoolClosedError('the pool is closed and accepts no new calls');
  }

  /** Takes a queue place for an operation of `sessionKey`, which has `sessionPending` already; throws `ERR_QUEUE_FULL` past a bound. */
  admit(sessionKey: string, sessionPending: number): void {
    if (sessionPending >= this.maxQueuePerSession) {
      throw new QueueFullError(
        `session ${JSON.stringify(sessionKey)} has ${sessionPending} operations queued or running, the maxQueuePerSession limit; retry once some settle`,
        { sessionKey, limit: this.maxQueuePerSession },
      );
    }
    if (this.#pending >= this.maxQueue) {
      throw new QueueFullError(
        `the pool has ${this.#pending} operations queued or running, the maxQueue limit; retry once some settle`,
        { sessionKey, limit: this.maxQueue },
      );
    }
    this.#pending++;
  }

  /** Takes a queue place whatever the bounds (a close, the pool's own reset): counted, never refused. */
  admitUnbounded(): void {
    this.#pending++;
  }

  /** An admitted operation settled. */
  release(): void {
    this.#pending--;
  }
}

/** One session's queue places: its own count, bounded by `maxQueuePerSession`, taken within the pool's. */
export class SessionQueue {
  readonly #key: string;
  readonly #admission: Admission;
  #pending = 0;

  constructor(key: string, admission: Admission) {
    this.#key = key;
    this.#admission = admission;
  }

  /** Operations of the session queued or running now. */
  get pending(): number {
    return this.#pending;
  }

  /** Takes a place for one operation; throws `ERR_QUEUE_FULL` past either bound, nothing taken. */
  take(): void {
    this.#admission.admit(this.#key, this.#pending);
    this.#pending++;
  }

  /** Takes a place whatever the bounds (a close, the pool's own reset). */
  takeUnbounded(): void {
    this.#admission.admitUnbounded();
    this.#pending++;
  }

  /** An operation settled: its places are given back. */
  give(): void {
    this.#pending--;
    this.#admission.release();
  }
}
