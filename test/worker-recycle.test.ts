// `pool.recycleWorker(id)`: gives back the memory a worker's instances grew by replacing its thread
// once its running calls finish. Its sessions move out by snapshot and wake on the new thread at their
// next call; where the pool cannot snapshot, they are lost (ERR_WORKER_RECYCLED). Other workers untouched.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SessionHibernatedEvent, SessionLostEvent, WorkerFailedEvent } from '../dist/src/index.js';
import { KITCHEN } from './helpers/fixtures.js';
import { createPool, keysOn, rejection } from './helpers/pool.js';

let directory: string | undefined;
afterEach(async () => {
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  directory = undefined;
});

describe('recycleWorker', () => {
  it('lets running calls finish, then replaces the thread; its sessions move by snapshot and none is lost', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 2, memoryLimit: 2 ** 30 });
    const lost: SessionLostEvent[] = [];
    const hibernated: SessionHibernatedEvent[] = [];
    pool.on('sessionLost', (event) => lost.push(event));
    pool.on('sessionHibernated', (event) => hibernated.push(event));
    const [grown, idle, fresh] = keysOn(pool, 0, 3, 'r0-') as [string, string, string];
    const [other] = keysOn(pool, 1, 1, 'r1-') as [string];
    await pool.session(grown).call('grow', 20);
    expect(await pool.session(idle).call('inc', 1)).toBe(21);
    expect(await pool.session(other).call('inc', 2)).toBe(22);

    const running = pool.session(grown).callMany('inc', new Int32Array(100_000).fill(1));
    const recycled = pool.recycleWorker(0);
    // Accepted before the recycle: runs to the end with its exact results, then the session moves.
    expect((await running).at(-1)).toBe(20 + 100_000);
    // Made while recycling: held, then runs on the session's restored instance on the new thread.
    const queued = pool.session(grown).call('inc', 1);
    const started = pool.session(fresh).call('inc', 3);
    await recycled;
    expect(await queued).toBe(20 + 100_000 + 1);
    expect(await started).toBe(23);
    expect(lost).toEqual([]);
    expect(hibernated.map((event) => event.key).sort()).toEqual([grown, idle].sort());
    expect(pool.session(idle).hibernated).toBe(true);
    expect(await pool.session(idle).call('inc', 0)).toBe(21);
    expect(pool.session(idle).hibernated).toBe(false);
    expect(await pool.session(other).call('inc', 0)).toBe(22);
  });

  it('where the pool cannot snapshot (preopened directories), its sessions are lost; the others keep their state', async () => {
    directory = await mkdtemp(join(tmpdir(), 'rp-recycle-'));
    // A memory limit makes stats().memoryPerWorker exact after every batch.
    const pool = await createPool({ module: KITCHEN, workers: 2, memoryLimit: 2 ** 30, wasi: { preopens: { '/data': directory } } });
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
