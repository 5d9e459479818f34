// Worker of the raw round-trip baseline: a plain worker thread that answers each posted number
// `n` with `inc(n)`. Nothing between the message and the call.

import { parentPort, workerData } from 'node:worker_threads';
import { loadWasi, startReactor } from './wasi-host.js';

const { module } = workerData as { module: WebAssembly.Module };
const inc = startReactor(await loadWasi(), module);
const port = parentPort;
if (port === null) throw new Error('echo-worker.js must run in a worker thread');
port.on('message', (n: number) => port.postMessage(inc(n)));
