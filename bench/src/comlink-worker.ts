// Worker of the comlink baseline: one reactor instance exposed through comlink, so every call
// is one request message and one reply message.

import { parentPort, workerData } from 'node:worker_threads';
import { expose } from 'comlink';
import { loadNodeEndpoint } from './comlink-endpoint.js';
import { loadWasi, startReactor } from './wasi-host.js';

const { module } = workerData as { module: WebAssembly.Module };
const inc = startReactor(await loadWasi(), module);
const nodeEndpoint = await loadNodeEndpoint();
if (parentPort === null) throw new Error('comlink-worker.js must run in a worker thread');
expose({ inc: (n: number): number => inc(n) }, nodeEndpoint(parentPort));
