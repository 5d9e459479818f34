// The entry of a reactor worker thread (a piscina task handler). Its one task attaches the thread to
// its slot: the request and response rings calls travel through, the side port for what is too big
// for them, and the control channel (comlink) for everything off the call path.

import { threadId, workerData } from 'node:worker_threads';
import { expose } from 'comlink';
import { nodeEndpoint } from '../src/control-channel.js';
import type { AttachResult, AttachTask, WorkerControl, WorkerData } from '../src/protocol.js';
import { Ring } from '../src/ring.js';
import { BatchServer } from './batch-server.js';
import { countMemory, probe } from './operations.js';

let server: BatchServer | undefined;

export default async function handleTask(task: AttachTask): Promise<AttachResult> {
  const control: WorkerControl = { probe, countMemory };
  expose(control, await nodeEndpoint(task.control));
  // A second attach replaces the first (which the main thread gave up on): only the latest rings are served.
  server?.stop();
  server = new BatchServer(new Ring(task.requests), new Ring(task.responses), task.side, (workerData as WorkerData).poll);
  // Runs for the thread's life; a throw there is a bug of the pool, and ends the thread visibly.
  server.run().catch((error: unknown) => {
    setImmediate(() => {
      throw error;
    });
  });
  return { thread: threadId };
}
