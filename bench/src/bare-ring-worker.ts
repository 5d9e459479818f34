// Worker of the bare-ring baseline: one reactor instance per session it hosts; sleeps in Atomics.wait
// until requests are published, runs them in ring order, publishes their results and wakes the main thread.

import { workerData } from 'node:worker_threads';
import { REQUESTS_PUBLISHED, REQUEST_WORDS, RESPONSES_PUBLISHED, SLOT_MASK, viewsOf, type BareRingWorkerData } from './bare-ring-layout.js';
import { loadWasi, startReactor, type IncFn } from './wasi-host.js';

const { module, ring, sessions } = workerData as BareRingWorkerData;
const WASI = await loadWasi();
const instances: IncFn[] = Array.from({ length: sessions }, () => startReactor(WASI, module));
const { control, requests, responses } = viewsOf(ring);

/** Serves the rings until the main thread terminates this worker (which ends an Atomics.wait too). */
function serve(): void {
  let next = 0;
  for (;;) {
    const published = Atomics.load(control, REQUESTS_PUBLISHED);
    if (published === next) {
      Atomics.wait(control, REQUESTS_PUBLISHED, next);
      continue;
    }
    // Everything published so far is one batch; its results go out together.
    while (next !== published) {
      const slot = next & SLOT_MASK;
      const at = slot * REQUEST_WORDS;
      responses[slot] = (instances[requests[at] as number] as IncFn)(requests[at + 1] as number);
      next = (next + 1) | 0;
    }
    Atomics.store(control, RESPONSES_PUBLISHED, next);
    Atomics.notify(control, RESPONSES_PUBLISHED);
  }
}

serve();
