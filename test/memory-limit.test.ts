// `memoryLimit`: an instance whose linear memory grows past it is discarded after the call that
// grew it (ERR_MEMORY_LIMIT, then the loss rule); instances within it are untouched.

import { describe, expect, it } from 'vitest';
import { MemoryLimitError, type SessionLostEvent } from '../dist/src/index.js';
import { KITCHEN } from './helpers/fixtures.js';
import type { KitchenExports } from './fixtures/kitchen.exports.js';
import { createPool, rejection } from './helpers/pool.js';

const PAGE = 65_536;

describe('memoryLimit', () => {
  it('rejects the call that crossed it, loses the session until reset(), and leaves other sessions alone', async () => {
    const pool = await createPool<KitchenExports>({ module: KITCHEN, workers: 1, memoryLimit: 4 * PAGE });
    const lost: SessionLostEvent[] = [];
    pool.on('sessionLost', (event) => lost.push(event));
    const greedy = pool.session('greedy');
    const modest = pool.session('modest');
    expect(await greedy.call('inc', 1)).toBe(21);
    expect(await modest.call('inc', 2)).toBe(22);
    const initialPages = await greedy.call('grow', 0);
    // Up to the limit is fine...
    expect(await greedy.call('grow', 4 - initialPages)).toBe(initialPages);
    expect(await greedy.call('inc', 1)).toBe(22);
    // ...one page more is not.
    const crossing = greedy.call('grow', 1);
    const behind = greedy.call('inc', 1);
    const [error, behindError] = await Promise.all([rejection(crossing), rejection(behind)]);
    expect(error).toBeInstanceOf(MemoryLimitError);
    expect(error).toMatchObject({ code: 'ERR_MEMORY_LIMIT', sessionKey: 'greedy', exportName: 'grow', limit: 4 * PAGE });
    expect(error.message).toContain(`${5 * PAGE} bytes`);
    expect(behindError.code).toBe('ERR_SESSION_LOST');
    expect((behindError.cause as { code: string }).code).toBe('ERR_MEMORY_LIMIT');
    expect(greedy.lost).toBe(true);
    expect(lost.map((event) => [event.key, event.cause.code])).toEqual([['greedy', 'ERR_MEMORY_LIMIT']]);

    expect(await modest.call('inc', 0)).toBe(22);
    await greedy.reset();
    expect(await greedy.call('inc', 1)).toBe(21);
  });

  it('checks after a whole callMany, reporting how many calls completed', async () => {
    const pool = await createPool<KitchenExports>({ module: KITCHEN, workers: 1, memoryLimit: 4 * PAGE });
    const session = pool.session('batch');
    const error = await rejection(session.callMany('grow', [1, 1, 1, 1]));
    expect(error.code).toBe('ERR_MEMORY_LIMIT');
    // The limit is checked after the whole list: all four calls ran.
    expect(error['completed']).toBe(4);
    expect(error.message).toContain('after all 4 calls of the callMany completed');
    expect(session.lost).toBe(true);
  });

  it('refuses an instance that starts above the limit on its first call', async () => {
    const pool = await createPool<KitchenExports>({ module: KITCHEN, workers: 1, memoryLimit: PAGE });
    const error = await rejection(pool.session('big').call('inc', 1));
    expect(error.code).toBe('ERR_MEMORY_LIMIT');
    expect(error.message).toContain('`_initialize`');
  });

  it('reports the linear memory each worker holds in stats(), exactly after every batch when a limit is set', async () => {
    const pool = await createPool<KitchenExports>({ module: KITCHEN, workers: 1, memoryLimit: 2 ** 30 });
    const first = pool.session('a');
    const pages = await first.call('grow', 0);
    expect(pool.stats().memoryPerWorker).toEqual([pages * PAGE]);
    await pool.session('b').call('grow', 3);
    expect(pool.stats().memoryPerWorker).toEqual([(2 * pages + 3) * PAGE]);
    await pool.session('b').close();
    await first.call('nothing');
    expect(pool.stats().memoryPerWorker).toEqual([pages * PAGE]);
  });

  it('refuses limits that are not positive integers of bytes', async () => {
    for (const bad of [0, -1, 1.5, '1mb', null]) {
      const error = await rejection(createPool<KitchenExports>({ module: KITCHEN, workers: 1, memoryLimit: bad as number }));
      expect(error.code).toBe('ERR_INVALID_OPTION');
      expect(error.message).toContain('memoryLimit');
    }
  });
});
