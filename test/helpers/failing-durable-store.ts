// A durable store for journal tests: a DirectoryDurableStore whose appends are counted and can be told
// to fail (before writing, or after writing part of the bytes) or to wait until the test lets them go,
// and whose snapshot writes can be told to fail until told otherwise.

import type { DurableStore } from '../../dist/src/durable-store.js';

/** How the next append misbehaves: rejects with `error`, after writing the first `writeBytes` bytes (default none; Infinity: all). */
export interface AppendFailure {
  readonly error: Error;
  readonly writeBytes?: number;
}

/** An fs-like error (the shape a full disk gives). */
export function enospc(): NodeJS.ErrnoException {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
}

/** An fs-like error (the shape a failing disk gives). */
export function eio(syscall = 'fsync'): NodeJS.ErrnoException {
  return Object.assign(new Error(`EIO: i/o error, ${syscall}`), { code: 'EIO', errno: -5, syscall });
}

export class FailingDurableStore implements DurableStore {
  readonly #inner: DurableStore;
  /** Every append, as [segment, bytes]. */
  readonly appends: [number, number][] = [];
  readonly #failures: AppendFailure[] = [];
  #hold: Promise<void> | undefined;
  #heldStarted: (() => void) | undefined;
  /** Every snapshot write refused, by name. */
  readonly refusedSnapshots: string[] = [];
  #snapshotFailure: Error | undefined;
  #refusalWaiters: { readonly count: number; readonly resolve: () => void }[] = [];

  constructor(inner: DurableStore) {
    this.#inner = inner;
  }

  /** The next appends (one per call of this) fail as told. */
  failNextAppend(failure: AppendFailure): void {
    this.#failures.push(failure);
  }

  /** The next append waits for `release()`; `started` resolves once it began. */
  holdNextAppend(): { started: Promise<void>; release: () => void } {
    let release = (): void => {};
    this.#hold = new Promise((resolve) => { release = resolve; });
    const started = new Promise<void>((resolve) => { this.#heldStarted = resolve; });
    return { started, release };
  }

  /** Every `writeSnapshot` from now on rejects with `error` (nothing written), until called with undefined. */
  failSnapshotWrites(error: Error | undefined): void {
    this.#snapshotFailure = error;
  }

  /** Resolves once `count` snapshot writes in all were refused (at once if they were). */
  snapshotsRefused(count: number): Promise<void> {
    if (this.refusedSnapshots.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#refusalWaiters.push({ count, resolve }));
  }

  writeSnapshot(name: string, bytes: Uint8Array): Promise<void> {
    const failure = this.#snapshotFailure;
    if (failure === undefined) return this.#inner.writeSnapshot(name, bytes);
    this.refusedSnapshots.push(name);
    const ready = this.#refusalWaiters.filter((waiter) => waiter.count <= this.refusedSnapshots.length);
    this.#refusalWaiters = this.#refusalWaiters.filter((waiter) => waiter.count > this.refusedSnapshots.length);
    for (const waiter of ready) waiter.resolve();
    return Promise.reject(failure);
  }

  async append(segment: number, bytes: Uint8Array): Promise<void> {
    this.appends.push([segment, bytes.byteLength]);
    const hold = this.#hold;
    this.#hold = undefined;
    if (hold !== undefined) {
      this.#heldStarted?.();
      await hold;
    }
    const failure = this.#failures.shift();
    if (failure === undefined) return this.#inner.append(segment, bytes);
    const written = failure.writeBytes ?? 0;
    if (written > 0) await this.#inner.append(segment, bytes.subarray(0, written));
    throw failure.error;
  }

  open(identity: string): Promise<void> { return this.#inner.open(identity); }
  segments(): Promise<number[]> { return this.#inner.segments(); }
  readSegment(segment: number): Promise<Uint8Array> { return this.#inner.readSegment(segment); }
  deleteSegment(segment: number): Promise<void> { return this.#inner.deleteSegment(segment); }
  readSnapshot(name: string): Promise<Uint8Array | undefined> { return this.#inner.readSnapshot(name); }
  deleteSnapshot(name: string): Promise<void> { return this.#inner.deleteSnapshot(name); }
  snapshots(): Promise<string[]> { return this.#inner.snapshots(); }
  close(): Promise<void> { return this.#inner.close(); }
}
