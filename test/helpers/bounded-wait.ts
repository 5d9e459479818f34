// A bounded wait on an emitter's events: the handshake tests use instead of sleeps. A wait that never
// ends fails the test saying what was awaited, instead of hanging it until the test's timeout.

/** What a wait needs of an emitter: its `on`/`off` for the events named (typed by their events or not). */
export interface WatchedEmitter<N extends string> {
  on(name: N, listener: () => void): unknown;
  off(name: N, listener: () => void): unknown;
}

export interface BoundedWaitOptions {
  /** Milliseconds before the wait rejects: a safety net, never what a test measures. */
  readonly boundMs: number;
  /** Also checks every this many milliseconds (for figures that change without an event). */
  readonly pollMs?: number;
  /** The rejection's message, made when the bound passes. */
  readonly failure: () => string;
}

/**
 * Resolves once `condition()` holds, checked now, at each of the `names` events of `emitter` (after the
 * listeners registered before the wait) and on the poll if any; rejects with `failure()` once
 * `boundMs` passed.
 */
export function untilEvents<N extends string>(emitter: WatchedEmitter<N>, names: readonly N[], condition: () => boolean, options: BoundedWaitOptions): Promise<void> {
  if (condition()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (!condition()) return;
      done();
      resolve();
    };
    const poll = options.pollMs === undefined ? undefined : setInterval(check, options.pollMs);
    const timer = setTimeout(() => {
      done();
      reject(new Error(options.failure()));
    }, options.boundMs);
    const done = (): void => {
      clearInterval(poll);
      clearTimeout(timer);
      for (const name of names) emitter.off(name, check);
    };
    for (const name of names) emitter.on(name, check);
  });
}
