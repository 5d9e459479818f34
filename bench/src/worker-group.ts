// Plain worker threads for the baselines (not piscina): started together, watched while a scenario
// runs so that a dead worker fails it at once, and terminated when it ends.

import { Worker } from 'node:worker_threads';

/** Plain worker threads that must stay up while a scenario runs. */
export class WorkerGroup {
  readonly workers: Worker[];
  /** Rejects if a worker fails or exits before {@link run} ends. */
  readonly failed: Promise<never>;
  #stopping = false;

  /** Starts `count` workers running `file`; worker `i` gets `workerData(i)`. */
  constructor(file: URL, count: number, workerData: (index: number) => unknown) {
    this.workers = Array.from({ length: count }, (_, i) => new Worker(file, { workerData: workerData(i) }));
    this.failed = new Promise<never>((_, reject) => {
      for (const worker of this.workers) {
        worker.once('error', reject);
        worker.once('exit', (code) => {
          if (!this.#stopping) reject(new Error(`a baseline worker exited with code ${code}`));
        });
      }
    });
    this.failed.catch(() => undefined); // observed through `run`
  }

  /** Runs `body`, failing fast if a worker dies, then terminates the workers. */
  async run<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await Promise.race([body(), this.failed]);
    } finally {
      this.#stopping = true;
      await Promise.all(this.workers.map((worker) => worker.terminate()));
    }
  }
}
