// A snapshot store for hibernation tests: a Map that counts its calls, notes any call made while
// another one for the same key is still running, and can be told to fail or to hold a call.

import type { SnapshotStore } from '../../dist/src/index.js';

type Method = 'get' | 'set' | 'delete';

/** What a call of `method` for a key does instead of its normal work, once. */
export type Interference = 'reject' | 'throw' | 'undefined' | Promise<void>;

export class CountingStore implements SnapshotStore {
  readonly snapshots = new Map<string, Uint8Array>();
  /** Every call, as `method key`, in order. */
  readonly calls: string[] = [];
  /** Calls made while another call for the same key was running: the pool promises there are none. */
  readonly overlaps: string[] = [];
  readonly #running = new Set<string>();
  readonly #next = new Map<string, Interference>();
  readonly #always = new Map<Method, 'reject'>();
  readonly #waiters: { match: string; resolve: () => void }[] = [];

  /** The next `method` call for `key`: rejects, throws, resolves with undefined (get), or waits for `hold` first. */
  interfere(method: Method, key: string, how: Interference): void {
    this.#next.set(`${method} ${key}`, how);
  }

  /** Every `method` call from now on rejects. */
  failAlways(method: Method): void {
    this.#always.set(method, 'reject');
  }

  /** How many calls `method key` there were. */
  count(method: Method, key: string): number {
    return this.calls.filter((call) => call === `${method} ${key}`).length;
  }

  /** Resolves once a call `method key` is made (at once if one was). */
  called(method: Method, key: string): Promise<void> {
    const match = `${method} ${key}`;
    if (this.calls.includes(match)) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ match, resolve }));
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.#run('get', key, () => this.snapshots.get(key));
  }

  set(key: string, snapshot: Uint8Array): Promise<void> {
    return this.#run('set', key, () => {
      this.snapshots.set(key, snapshot);
    });
  }

  delete(key: string): Promise<void> {
    return this.#run('delete', key, () => {
      this.snapshots.delete(key);
    });
  }

  #run<T>(method: Method, key: string, work: () => T): Promise<T | undefined> {
    const call = `${method} ${key}`;
    this.calls.push(call);
    for (const waiter of this.#waiters.filter((w) => w.match === call)) {
      this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    if (this.#running.has(key)) this.overlaps.push(call);
    const how = this.#next.get(call) ?? this.#always.get(method);
    this.#next.delete(call);
    if (how === 'throw') throw new Error(`${call}: thrown by the test store`);
    this.#running.add(key);
    const done = (async (): Promise<T | undefined> => {
      if (how === 'reject') throw new Error(`${call}: refused by the test store`);
      if (how === 'undefined') return undefined;
      if (how !== undefined) await how;
      return work();
    })();
    return done.finally(() => this.#running.delete(key));
  }
}

/** A promise and the function that resolves it: a hold on a store call that the test lets go of. */
export function hold(): { promise: Promise<void>; release: () => void } {
  let release = (): void => {};
  const promise = new Promise<void>((resolve) => { release = resolve; });
  return { promise, release };
}
