// Bounded restarts: a worker that keeps dying without completing any work stops the pool with
// ERR_RESTART_LIMIT instead of being respawned forever; completed work, timeouts and recycles reset or skip the count.

import { describe, expect, it } from 'vitest';
import type { PoolFailedEvent, ReactorPool } from '../dist/src/index.js';
import { KITCHEN } from './helpers/fixtures.js';
import { createPool, rejection, terminateWorker } from './helpers/pool.js';

/** Kills the worker thread while a call that never returns is running on it, as a crash would. */
async function crashWithCallInFlight(pool: ReactorPool, key: string): Promise<string | undefined> {
  const running = rejection(pool.session(key).call('spin'));
  await terminateWorker(pool, 0);
  return (await running).code;
}

describe('maxRestarts', () => {
  it('stops the pool after maxRestarts + 1 crashes in a row, rejecting what is pending and everything after', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 1, maxRestarts: 2 });
    const failed: PoolFailedEvent[] = [];
    pool.on('failed', (event) => failed.push(event));
    expect(await pool.session('survivor').call('inc', 1)).toBe(21);
    for (let crash = 1; crash <= 2; crash++) {
      expect(await crashWithCallInFlight(pool, `crash-${crash}`)).toBe('ERR_WORKER_FAILED');
      expect(failed).toEqual([]);
    }
    // Queued behind a call that will never return, on the thread that crashes the third time.
    const spinning = rejection(pool.session('last').call('spin'));
    const queued = rejection(pool.session('queued').call('inc', 1));
    await terminateWorker(pool, 0);
    expect((await spinning).code).toBe('ERR_WORKER_FAILED');
    expect(failed.map((event) => event.cause.code)).toEqual(['ERR_RESTART_LIMIT']);
    expect(failed[0]?.cause).toMatchObject({ workerId: 0, limit: 2 });
    expect(failed[0]?.cause.message).toContain('3 times in a row');
    expect(['ERR_WORKER_FAILED', 'ERR_RESTART_LIMIT']).toContain((await queued).code);

    const later = await rejection(pool.session('survivor').call('inc', 1));
    expect(later.code).toBe('ERR_POOL_CLOSED');
    expect((later.cause as { code: string }).code).toBe('ERR_RESTART_LIMIT');
    expect(() => pool.session('brand-new')).toThrow(expect.objectContaining({ code: 'ERR_POOL_CLOSED' }));
    await pool.close();
  });

  it('counts crashes in a row only: completed work in between resets the count', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 1, maxRestarts: 1 });
    const failed: PoolFailedEvent[] = [];
    pool.on('failed', (event) => failed.push(event));
    for (let round = 0; round < 4; round++) {
      expect(await crashWithCallInFlight(pool, `crash-${round}`)).toBe('ERR_WORKER_FAILED');
      expect(await pool.session(`ok-${round}`).call('inc', round)).toBe(20 + round);
    }
    expect(failed).toEqual([]);
  });

  it('does not count threads the pool ended itself (timeouts, recycling)', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 1, maxRestarts: 0, callTimeout: 50 });
    const failed: PoolFailedEvent[] = [];
    pool.on('failed', (event) => failed.push(event));
    for (let round = 0; round < 3; round++) {
      expect((await rejection(pool.session(`runaway-${round}`).call('spin'))).code).toBe('ERR_CALL_TIMEOUT');
      await pool.recycleWorker(0);
    }
    expect(failed).toEqual([]);
    expect(await pool.session('after').call('inc', 1)).toBe(21);
  });

  it('refuses a maxRestarts that is not a whole number', async () => {
    for (const bad of [-1, 1.5, '3', null]) {
      const error = await rejection(createPool({ module: KITCHEN, workers: 1, maxRestarts: bad as number }));
      expect(error.code).toBe('ERR_INVALID_OPTION');
      expect(error.message).toContain('maxRestarts');
    }
  });
});
