// Stops a call that runs past its timeout: reads which operation the worker runs and since when (the
// progress board), and sleeps until the earliest moment a deadline can pass. Knows nothing of threads:
// what runs, the clock and the timer are given to it.

import type { Job } from './job.js';

/** What runs on the thread now: batch number (as the board carries it), operation index, start time (ms). */
export interface Running {
  readonly seq: number;
  readonly index: number;
  readonly startedAt: number;
}

export interface WatchdogDeps {
  /** What runs now, or undefined between operations. */
  running(): Running | undefined;
  /** The job at `index` of the batch the board names `seq`, if it is in flight and watched. */
  jobAt(seq: number, index: number): Job | undefined;
  /** The shortest timeout among the jobs in flight (Infinity if none has one). */
  shortestTimeout(): number;
  /** `job` has run for `ranFor` ms, over its timeout. */
  timedOut(job: Job, ranFor: number): void;
  /** Milliseconds on a clock the worker's board uses too. */
  now(): number;
  setTimer(callback: () => void, ms: number): unknown;
  clearTimer(timer: unknown): void;
}

export class Watchdog {
  readonly #deps: WatchdogDeps;
  #timer: unknown;

  constructor(deps: WatchdogDeps) {
    this.#deps = deps;
  }

  /**
   * Checks the running operation against its deadline (queue time never counts) and sleeps until
   * the next moment one can pass; does nothing while no job in flight has a timeout.
   */
  check(): void {
    this.stop();
    const deps = this.#deps;
    const shortest = deps.shortestTimeout();
    if (shortest === Number.POSITIVE_INFINITY) return;
    let wake = shortest;
    const running = deps.running();
    if (running !== undefined) {
      const job = deps.jobAt(running.seq, running.index);
      if (job !== undefined && job.timeout > 0) {
        const ranFor = deps.now() - running.startedAt;
        if (ranFor >= job.timeout) {
          deps.timedOut(job, ranFor);
          return;
        }
        wake = Math.min(wake, job.timeout - ranFor);
      }
    }
    // A job that starts after now cannot pass its deadline before now + its timeout.
    this.#timer = deps.setTimer(() => {
      this.#timer = undefined;
      this.check();
    }, Math.max(1, Math.ceil(wake)));
  }

  stop(): void {
    if (this.#timer !== undefined) this.#deps.clearTimer(this.#timer);
    this.#timer = undefined;
  }
}
