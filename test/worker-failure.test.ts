import { describe, expect, it } from 'vitest';
import { WorkerFailedError, type SessionLostEvent, type WorkerFailedEvent } from '../dist/src/index.js';
import { KITCHEN } from './helpers/fixtures.js';
import { createPool, keysOn, rejection, terminateWorker } from './helpers/pool.js';

describe('a worker thread that dies', () => {
  it('loses its sessions, idle ones included; other workers never notice; the thread is replaced', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 2 });
    const lost: SessionLostEvent[] = [];
    const failed: WorkerFailedEvent[] = [];
    pool.on('sessionLost', (event) => lost.push(event));
    pool.on('workerFailed', (event) => failed.push(event));
    const [idle, running] = keysOn(pool, 0, 2, 'w0-') as [string, string];
    const [fresh] = keysOn(pool, 0, 1, 'new-') as [string];
    const [other] = keysOn(pool, 1, 1, 'w1-') as [string];
    expect(await pool.session(idle).call('inc', 1)).toBe(21);
    expect(await pool.session(running).call('inc', 2)).toBe(22);
    expect(await pool.session(other).call('inc', 3)).toBe(23);

    // `spin` never returns: only terminating the thread ends it.
    const spinning = pool.session(running).call('spin');
    const wait = pool.session(running).call('inc', 1);
    await terminateWorker(pool, 0);
    const spinError = await rejection(spinning);
    expect(spinError).toBeInstanceOf(WorkerFailedError);
    expect(spinError.code).toBe('ERR_WORKER_FAILED');
    expect((await rejection(wait)).code).toBe('ERR_WORKER_FAILED');

    expect(failed.map((event) => event.workerId)).toEqual([0]);
    expect(lost.map((event) => event.key).sort()).toEqual([idle, running].sort());
    expect(lost.every((event) => event.cause.code === 'ERR_WORKER_FAILED')).toBe(true);
    const idleError = await rejection(pool.session(idle).call('inc', 1));
    expect(idleError.code).toBe('ERR_SESSION_LOST');
    expect((idleError.cause as { code: string }).code).toBe('ERR_WORKER_FAILED');

    // The replacement thread serves new sessions and reset ones; the other worker kept its state.
    expect(await pool.session(fresh).call('inc', 1)).toBe(21);
    await pool.session(idle).reset();
    expect(await pool.session(idle).call('inc', 1)).toBe(21);
    expect(await pool.session(other).call('inc', 0)).toBe(23);
  });

  it("with isolation 'worker', loses every session bound to the shared instance", async () => {
    const pool = await createPool({ module: KITCHEN, workers: 1, isolation: 'worker' });
    expect(await pool.session('a').call('inc', 1)).toBe(21);
    expect(await pool.session('b').call('inc', 1)).toBe(22);
    await terminateWorker(pool, 0);
    expect((await rejection(pool.session('a').call('inc', 1))).code).toBe('ERR_SESSION_LOST');
    expect((await rejection(pool.session('b').call('inc', 1))).code).toBe('ERR_SESSION_LOST');
    await pool.session('a').reset();
    expect(await pool.session('a').call('inc', 1)).toBe(21);
  });

  it('runs out of memory (a reactor printing without end): a real crash, with its reason, handled the same way', async () => {
    const pool = await createPool({
      module: KITCHEN, workers: 2, stdout: () => {}, stderr: () => {}, resourceLimits: { maxOldGenerationSizeMb: 24 },
    });
    const failed: WorkerFailedEvent[] = [];
    pool.on('workerFailed', (event) => failed.push(event));
    const [loud] = keysOn(pool, 0, 1, 'loud-') as [string];
    const [other] = keysOn(pool, 1, 1, 'quiet-') as [string];
    expect(await pool.session(other).call('inc', 4)).toBe(24);
    // Each `say` writes two short lines; three million of them in one callMany outgrow a 24 MB heap.
    const error = await rejection(pool.session(loud).callMany('say', Array.from({ length: 3_000_000 }, (_, i) => i)));
    expect(error.code).toBe('ERR_WORKER_FAILED');
    expect(error.message).toContain('out of memory');
    expect(failed.map((event) => event.workerId)).toEqual([0]);
    expect(pool.session(loud).lost).toBe(true);
    expect(await pool.session(other).call('inc', 0)).toBe(24);
    await pool.session(loud).reset();
    expect(await pool.session(loud).call('inc', 1)).toBe(21);
  });
});
