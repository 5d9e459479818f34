import { describe, expect, it } from 'vitest';
import { REACTOR } from './helpers/fixtures.js';
import { createPool } from './helpers/pool.js';

describe("isolation 'worker'", () => {
  it('shares one instance among the sessions placed on a worker', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1, isolation: 'worker' });
    expect(pool.isolation).toBe('worker');
    expect(await pool.session('alice').call('inc', 1)).toBe(21);
    expect(await pool.session('bob').call('inc', 1)).toBe(22);
    expect(await pool.session('alice').callMany('inc', [1, 1])).toEqual([23, 24]);
  });

  it('keeps one instance per worker: the per-worker sums add up', async () => {
    const pool = await createPool({ module: REACTOR, workers: 2, isolation: 'worker' });
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    await Promise.all(keys.map((key) => pool.session(key).call('inc', 1)));
    const totals = await Promise.all([0, 1].map(async (worker) => {
      const key = keys.find((k) => pool.session(k).workerId === worker);
      return key === undefined ? 20 : pool.session(key).call('inc', 0);
    }));
    const perWorker = pool.stats().sessionsPerWorker;
    expect(totals).toEqual(perWorker.map((n) => 20 + n));
  });

  it('does not wipe shared state when a live session resets', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1, isolation: 'worker' });
    expect(await pool.session('a').call('inc', 5)).toBe(25);
    await pool.session('b').reset();
    expect(await pool.session('a').call('inc', 0)).toBe(25);
  });
});
