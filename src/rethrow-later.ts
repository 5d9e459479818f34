// How the pool surfaces an application's error (a throwing event listener or output callback):
// as an uncaught exception, the way Node surfaces a throwing listener, but only after the pool has done its work.

import type { EventEmitter } from 'node:events';

export function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

/**
 * Emits `name` on `emitter` without letting a throwing listener stop its caller: every listener runs
 * (with `emitter` as `this`), and a listener's error is re-thrown later ({@link rethrowLater}).
 */
export function notifyListeners(emitter: EventEmitter, name: string, args: readonly unknown[]): void {
  for (const listener of emitter.rawListeners(name) as ((...values: unknown[]) => void)[]) {
    try {
      listener.apply(emitter, args as unknown[]);
    } catch (error) {
      rethrowLater(error);
    }
  }
}
