// pool.sessions(): every session with its state (live, unstarted, hibernated, lost; stored for a
// durable pool's sessions not open), worker, call count, last call time and stored snapshot size.

import { describe, expect, it } from 'vitest';
import { KITCHEN, REACTOR } from './helpers/fixtures.js';
import { durableDir } from './helpers/durable-dir.js';
import { createPool, rejection } from './helpers/pool.js';

describe('pool.sessions()', () => {
  it('lists open sessions in the order they were opened, with their state and counters', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 2, onTrap: 'lose' });
    const before = Date.now();
    const a = pool.session('a');
    const lost = pool.session('lost');
    pool.session('new');
    await a.call('inc', 1);
    await a.callMany('inc', [1, 2]);
    expect((await rejection(lost.call('boom'))).code).toBe('ERR_REACTOR_TRAP');
    const after = Date.now();
    const list = pool.sessions();
    expect(list.map(({ key, state, workerId, calls, storedBytes }) => ({ key, state, workerId, calls, storedBytes }))).toEqual([
      { key: 'a', state: 'live', workerId: a.workerId, calls: 2, storedBytes: undefined },
      { key: 'lost', state: 'lost', workerId: lost.workerId, calls: 1, storedBytes: undefined },
      { key: 'new', state: 'unstarted', workerId: pool.session('new').workerId, calls: 0, storedBytes: undefined },
    ]);
    const lastCallAt = list[0]?.lastCallAt as number;
    // Read once per tick from a monotonic clock: within the test's wall-clock window, give or take a millisecond.
    expect(lastCallAt).toBeGreaterThanOrEqual(before - 1);
    expect(lastCallAt).toBeLessThanOrEqual(after + 1);
    expect(list[2]?.lastCallAt).toBeUndefined();
    await pool.session('new').close();
    expect(pool.sessions().map((s) => s.key)).toEqual(['a', 'lost']);
  });

  it('gives a hibernated session its snapshot size', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1, maxActiveSessions: 1 });
    const bytes = new Promise<number>((resolve) => pool.once('sessionHibernated', (event) => resolve(event.bytes)));
    await pool.session('a').call('inc', 1);
    await pool.session('b').call('inc', 1);
    const stored = await bytes;
    expect(pool.sessions()).toEqual([
      expect.objectContaining({ key: 'a', state: 'hibernated', workerId: 0, calls: 1, storedBytes: stored }),
      expect.objectContaining({ key: 'b', state: 'live', workerId: 0, calls: 1, storedBytes: undefined }),
    ]);
  });

  it('lists a durable pool\'s stored sessions that are not open, and counts them in metrics()', async () => {
    const dir = await durableDir();
    const first = await createPool({ module: REACTOR, workers: 1, durability: { dir } });
    await first.session('kept').call('inc', 5);
    await first.session('other').call('inc', 1);
    await first.close();
    const pool = await createPool({ module: REACTOR, workers: 1, durability: { dir } });
    pool.session('other');
    expect(pool.sessions()).toEqual([
      expect.objectContaining({ key: 'other', state: 'hibernated', calls: 0 }),
      { key: 'kept', state: 'stored', workerId: undefined, calls: 0, lastCallAt: undefined, storedBytes: undefined },
    ]);
    expect(pool.metrics().sessions).toEqual({ live: 0, unstarted: 0, hibernated: 1, lost: 0, stored: 1 });
    expect(await pool.session('kept').call('inc', 0)).toBe(25);
    expect(pool.sessions().map((s) => [s.key, s.state])).toEqual([['other', 'hibernated'], ['kept', 'live']]);
  });
});
