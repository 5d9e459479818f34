// `pool.recycleWorker(id)`: gives back the memory a worker's instances grew by replacing its thread
// once its running calls finish; its sessions are lost (ERR_WORKER_RECYCLED), other workers untouched.

import { describe, expect, it } from 'vitest';
import type { SessionLostEvent, WorkerFailedEvent } from '../dist/src/index.js';
import { KITCHEN } from './helpers/fixtures.js';
import { createPool, keysOn, rejection } from './helpers/pool.js';

describe('recycleWorker', () => {
  it('lets running calls finish, then replaces the thread; its sessions are lost, the others keep their state', async () => {
    // A memory limit makes stats().memoryPerWorker exact after every batch.
    const pool = await createPool({ module: KITCHEN, workers: 2, memoryLimit: 2 ** 30 });
    const lost: SessionLostEvent[] = [];
    const failed: WorkerFailedEvent[] = [];
    pool.on('sessionLost', (event) => lost.push(event));
    pool.on('workerFailed', (event) => failed.push(event));
    const [grown, idle, fresh] = keysOn(pool, 0, 3, 'r0-') as [string, string, string];
    const [other] = keysOn(pool, 1, 1, 'r1-') as [string];
    await pool.session(grown).call('grow', 20);
    expect(await pool.session(idle).call('inc', 1)).toBe(21);
    expect(await pool.session(other).call('inc', 2)).toBe(22);
    const before = pool.stats().memoryPerWorker[0] as number;

    const running = pool.session(grown).callMany('inc', new Int32Array(100_000).fill(1));
    const recycled = pool.recycleWorker(0);
    // Accepted before the recycle: runs to the end with its exact results.
    expect((await running).at(-1)).toBe(20 + 100_000);
    // Queued while recycling: waits, then meets the loss rule (its instance went with the thread)...
    const queued = pool.session(grown).call('inc', 1);
    // ...while a session that never started runs on the new thread.
    const started = pool.session(fresh).call('inc', 3);
    await recycled;
    expect((await rejection(queued)).code).toBe('ERR_SESSION_LOST');
    expect(await started).toBe(23);

    expect(new Map(lost.map((event) => [event.key, event.cause.code]))).toEqual(new Map([
      [grown, 'ERR_WORKER_RECYCLED'],
      [idle, 'ERR_WORKER_RECYCLED'],
    ]));
    expect(failed).toEqual([]);
    expect(pool.stats().memoryPerWorker[0]).toBeLessThan(before);
    expect(await pool.session(other).call('inc', 0)).toBe(22);
    await pool.session(grown).reset();
    expect(await pool.session(grown).call('inc', 1)).toBe(21);
  });

  it('refuses a worker id that does not exist', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 1 });
    for (const bad of [1, -1, 0.5, '0']) {
      expect((await rejection(pool.recycleWorker(bad as number))).code).toBe('ERR_INVALID_ARGUMENT');
    }
  });
});
