// What the worker side of the pool needs from an operation on its way: the operation itself, its time
// limit, and how to settle it. Sessions implement it; the worker slot sends, watches and settles jobs.

import type { ReactorPoolError } from './errors.js';
import type { Op, Status } from './protocol.js';

/** An operation waiting for its outcome. */
export interface Job {
  readonly op: Op;
  /** The key of the session it belongs to (sent to the worker when host functions need it). */
  readonly sessionKey?: string;
  /** Milliseconds the operation may run in the worker; 0 for no limit (a small integer keeps jobs lean). */
  readonly timeout: number;
  /** Called just before the job is sent; returning false drops it (the job then settled itself). */
  beforeSend(): boolean;
  /**
   * The job went out in a batch its thread never took (the thread died first): nothing of it ran, and
   * an instance it was to start exists nowhere. Called before the thread's loss is applied and the job failed.
   */
  notTaken(): void;
  /** Called at most once, with the operation's result (see {@link Status})... */
  settle(status: Status, payload: unknown): void;
  /** ...or with the error that took the operation down before it could answer; `lost`: apply the loss rule with it. */
  fail(error: ReactorPoolError, lost: boolean): void;
  /** Names the job in messages: session and export. */
  describe(): string;
}
