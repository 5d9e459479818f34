// The pool's exact count of live reactor instances and its cap (`maxInstances`): V8 reserves about
// 10 GiB of address space per wasm memory, so live instances are a finite resource of the process.

import { InstanceLimitError } from './errors.js';

/** Whoever an instance belongs to: a session (isolation `'session'`) or a worker slot (its shared instance). */
export type InstanceHolder = object;

export class InstanceLedger {
  /** Live instances at most; `Infinity` for no cap. */
  readonly limit: number;
  /** One entry per live instance (or one whose start is on its way to a worker). */
  readonly #holders = new Set<InstanceHolder>();

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Live instances now. */
  get live(): number {
    return this.#holders.size;
  }

  /**
   * Counts a new instance for `holder`, or throws `ERR_INSTANCE_LIMIT` past the cap. A holder already
   * counted replaces its own instance (a reset: one out, one in), which never needs room.
   */
  claim(holder: InstanceHolder, sessionKey: string): void {
    if (this.#holders.has(holder)) return;
    if (this.#holders.size >= this.limit) {
      throw new InstanceLimitError(
        `session ${JSON.stringify(sessionKey)}: starting its instance would pass maxInstances (${this.limit} live instances); nothing ran and the session is not lost: retry once other sessions have closed`,
        { sessionKey, limit: this.limit },
      );
    }
    this.#holders.add(holder);
  }

  /** `holder`'s instance is gone (closed, lost, or never started); a no-op if none was counted. */
  release(holder: InstanceHolder): void {
    this.#holders.delete(holder);
  }

  /** Every instance is gone (the pool stopped its threads). */
  clear(): void {
    this.#holders.clear();
  }
}
