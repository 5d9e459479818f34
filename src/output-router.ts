// Where the output of reactor instances goes: this process's streams, nowhere, or the application's
// callbacks (told the session key), by the pool's `stdout` and `stderr` options.

import type { OutputTarget } from './options.js';
import type { OutputChunk } from './protocol.js';
import { rethrowLater } from './rethrow-later.js';

export class OutputRouter {
  readonly #stdout: OutputTarget;
  readonly #stderr: OutputTarget;

  constructor(stdout: OutputTarget, stderr: OutputTarget) {
    this.#stdout = stdout;
    this.#stderr = stderr;
  }

  /** Delivers what `key`'s instance wrote; a throwing callback is re-thrown later, never in the way of the call. */
  deliver(key: string, chunks: readonly OutputChunk[]): void {
    for (const [fd, bytes] of chunks) {
      const target = fd === 1 ? this.#stdout : this.#stderr;
      if (target === 'inherit') (fd === 1 ? process.stdout : process.stderr).write(bytes);
      else if (typeof target === 'function') {
        try {
          target(bytes, key);
        } catch (error) {
          rethrowLater(error);
        }
      }
    }
  }
}
