// maxActiveMemory: once the linear memory of the active instances (as the workers count it) passes the
// cap, the least recently used idle sessions hibernate until it is under the cap; a busy session
// stays; the hibernated ones wake with their state, memory size included.

import { describe, expect, it } from 'vitest';
import { KITCHEN } from './helpers/fixtures.js';
import type { KitchenExports } from './fixtures/kitchen.exports.js';
import { until } from './helpers/pool-events.js';
import { createPool } from './helpers/pool.js';

const PAGE = 65_536;
const GROWTH = 64; // pages each session grows by: far more than it starts with

describe('hibernation past maxActiveMemory', () => {
  it('hibernates the least recently used idle sessions until the memory is under the cap, never a busy one', async () => {
    const probe = await createPool<KitchenExports>({ module: KITCHEN, workers: 1 });
    const base = await probe.session('probe').call('grow', 0);
    await probe.close();
    const size = (base + GROWTH) * PAGE; // one grown session
    const cap = 3.5 * size;
    const pool = await createPool<KitchenExports>({ module: KITCHEN, workers: 1, maxActiveMemory: cap });
    const order: string[] = [];
    pool.on('sessionHibernated', ({ key }) => order.push(key));
    const idle = ['s0', 's1', 's2', 's3'].map((key) => pool.session(key));
    const hot = pool.session('hot');
    expect(await Promise.all(idle.map((session, i) => session.call('inc', i)))).toEqual([20, 21, 22, 23]);

    // `hot` is never without a call in flight while the others sit idle.
    let reached = false;
    let hotTotal = 20;
    const busy = (async () => {
      while (!reached) expect(await hot.call('inc', 1)).toBe(++hotTotal);
    })();
    // All grow in one tick: the total passes the cap at once (five grown sessions, room for three and a half).
    expect(await Promise.all([...idle, hot].map((session) => session.call('grow', GROWTH)))).toEqual(Array<number>(5).fill(base));
    const memory = (): number => pool.stats().memoryPerWorker.reduce((sum, bytes) => sum + bytes, 0);
    try {
      await until(pool, () => memory() <= cap && order.length > 0, `memory at most ${cap} bytes`);
    } finally {
      reached = true;
      await busy;
    }

    expect(order).not.toContain('hot');
    expect(order.length).toBeGreaterThanOrEqual(2);
    // Least recently used first: all were used since they started, so the clock takes them in order.
    expect(order).toEqual(['s0', 's1', 's2', 's3'].slice(0, order.length));
    expect(hot.hibernated).toBe(false);
    const stats = pool.stats();
    expect(stats.hibernatedSessions).toBe(order.length);
    expect(stats.activeSessions).toBe(5 - order.length);
    expect(memory()).toBeLessThanOrEqual(cap);

    // Their state survives, their grown memory with it.
    for (const [i, session] of idle.entries()) {
      expect(await session.call('inc', 100)).toBe(120 + i);
      expect(await session.call('grow', 0)).toBe(base + GROWTH);
    }
    expect(await hot.call('inc', 0)).toBe(hotTotal);
  });
});
