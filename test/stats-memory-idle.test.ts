// stats().memoryPerWorker catches up while the pool is idle: without a memoryLimit the worker
// recounts on its own shortly after work ran, not only after a later batch.

import { describe, expect, it } from 'vitest';
import type { ReactorPool } from '../dist/src/index.js';
import { KITCHEN } from './helpers/fixtures.js';
import type { KitchenExports } from './fixtures/kitchen.exports.js';
import { createPool } from './helpers/pool.js';

const PAGE = 65_536;

/** Polls stats() (a bounded number of times) until the worker's figure is `bytes`; returns the last figure. */
async function waitForMemory(pool: Pick<ReactorPool, 'stats'>, bytes: number): Promise<number | undefined> {
  let figure = pool.stats().memoryPerWorker[0];
  for (let poll = 0; poll < 500 && figure !== bytes; poll++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    figure = pool.stats().memoryPerWorker[0];
  }
  return figure;
}

describe('stats().memoryPerWorker while idle', () => {
  it('reflects a growth with no further call', async () => {
    const pool = await createPool<KitchenExports>({ module: KITCHEN, workers: 1 });
    const session = pool.session('s');
    const pages = await session.call('grow', 0);
    // Right after the previous call: a count made only after batches, at most every 200 ms, misses it.
    expect(await session.call('grow', 300)).toBe(pages);
    expect(await waitForMemory(pool, (pages + 300) * PAGE)).toBe((pages + 300) * PAGE);
  });

  it('drops to what is left after sessions close, and to 0 when the worker is recycled', async () => {
    const pool = await createPool<KitchenExports>({ module: KITCHEN, workers: 1 });
    const keep = pool.session('keep');
    const pages = await keep.call('grow', 0);
    const big = pool.session('big');
    await big.call('grow', 100);
    expect(await waitForMemory(pool, (2 * pages + 100) * PAGE)).toBe((2 * pages + 100) * PAGE);
    await big.close();
    expect(await waitForMemory(pool, pages * PAGE)).toBe(pages * PAGE);
    await pool.recycleWorker(0);
    expect(pool.stats().memoryPerWorker).toEqual([0]);
  });
});
