// Worker of the naive piscina baseline: one reactor instance per thread, one `inc` per task,
// which is what a piscina user gets without batching (one structured-clone message per call).

import { threadId, workerData } from 'node:worker_threads';
import { tagWithThread } from './thread-tag.js';
import { loadWasi, startReactor } from './wasi-host.js';

const { module } = workerData as { module: WebAssembly.Module };
const inc = startReactor(await loadWasi(), module);

/** One task: `inc(n)`, tagged with this thread's id. */
export default function incTask(n: number): number {
  return tagWithThread(threadId, inc(n));
}
