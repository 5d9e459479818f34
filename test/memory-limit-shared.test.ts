// memoryLimit and stats() hold for a shared memory too: its buffer never detaches when it grows,
// so its size must be read afresh, not from a cached buffer.

import { describe, expect, it } from 'vitest';
import { fixture } from './helpers/fixtures.js';
import { createPool, rejection } from './helpers/pool.js';

const SHARED = fixture('shared-memory.wasm');
const PAGE = 65_536;

describe('memoryLimit with a shared memory', () => {
  it('rejects the call that grew past the limit and loses the session', async () => {
    const pool = await createPool({ module: SHARED, workers: 1, memoryLimit: 4 * PAGE });
    expect(pool.spec.memory?.shared).toBe(true);
    const greedy = pool.session('greedy');
    const modest = pool.session('modest');
    expect(await modest.call('inc', 2)).toBe(22);
    expect(await greedy.call('grow', 3)).toBe(1);
    expect(await greedy.call('inc', 1)).toBe(21);
    const error = await rejection(greedy.call('grow', 1));
    expect(error).toMatchObject({ code: 'ERR_MEMORY_LIMIT', exportName: 'grow', limit: 4 * PAGE });
    expect(error.message).toContain(`${5 * PAGE} bytes`);
    expect(greedy.lost).toBe(true);
    expect(await modest.call('inc', 0)).toBe(22);
  });

  it('counts a callMany that grows it', async () => {
    const pool = await createPool({ module: SHARED, workers: 1, memoryLimit: 4 * PAGE });
    const error = await rejection(pool.session('s').callMany('grow', [2, 2]));
    expect(error).toMatchObject({ code: 'ERR_MEMORY_LIMIT', completed: 2 });
  });

  it('reports its size in stats() after every batch', async () => {
    const pool = await createPool({ module: SHARED, workers: 1, memoryLimit: 2 ** 30 });
    const session = pool.session('s');
    expect(await session.call('grow', 0)).toBe(1);
    expect(pool.stats().memoryPerWorker).toEqual([PAGE]);
    expect(await session.call('grow', 399)).toBe(1);
    expect(pool.stats().memoryPerWorker).toEqual([400 * PAGE]);
  });
});
