// idleTimeout: a session left without operations hibernates (its state goes to the store, its instance
// is dropped) and its next operation restores it exactly, without running `_initialize` again; a
// session whose calls keep coming never hibernates.

import { describe, expect, it } from 'vitest';
import { OutputCollector, REACTOR } from './helpers/fixtures.js';
import { nextEvent } from './helpers/pool-events.js';
import { createPool } from './helpers/pool.js';

describe('hibernation after idleTimeout', () => {
  it('hibernates an idle session and wakes it with its exact state on the next call, again and again', async () => {
    const stderr = new OutputCollector();
    const pool = await createPool({ module: REACTOR, workers: 2, idleTimeout: 30, stderr: stderr.callback });
    const a = pool.session('a');
    const events: string[] = [];
    pool.on('sessionHibernated', ({ key }) => events.push(`hibernated ${key}`));
    pool.on('sessionRestored', ({ key }) => events.push(`restored ${key}`));

    let total = 20;
    for (let round = 1; round <= 3; round++) {
      const hibernated = nextEvent(pool, 'sessionHibernated', ({ key }) => key === 'a');
      expect(await a.call('inc', round)).toBe((total += round));
      expect(a.hibernated).toBe(false);
      const { bytes } = await hibernated;
      expect(bytes).toBeGreaterThan(0);
      expect(a.hibernated).toBe(true);
      expect(pool.stats()).toMatchObject({ sessions: 1, instances: 0, activeSessions: 0, hibernatedSessions: 1, hibernatedBytes: bytes });

      const restored = nextEvent(pool, 'sessionRestored', ({ key }) => key === 'a');
      expect(await a.call('inc', 100)).toBe((total += 100));
      expect(await restored).toEqual({ key: 'a', workerId: a.workerId });
      expect(a.hibernated).toBe(false);
      expect(pool.stats()).toMatchObject({ instances: 1, activeSessions: 1, hibernatedSessions: 0, hibernatedBytes: 0 });
    }
    expect(events).toEqual(['hibernated a', 'restored a', 'hibernated a', 'restored a', 'hibernated a', 'restored a']);
    // The instance started once: restores do not run `_initialize`.
    expect(stderr.of('a')).toBe('s = 20\n');
  });

  it('wakes a hibernated session for a callMany and a snapshot too, in order', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1, idleTimeout: 30 });
    const a = pool.session('a');
    let hibernated = nextEvent(pool, 'sessionHibernated');
    await a.call('inc', 2);
    await hibernated;
    expect(await a.callMany('inc', [1, 2, 3])).toEqual([23, 25, 28]);
    hibernated = nextEvent(pool, 'sessionHibernated');
    await hibernated;
    const bytes = await a.snapshot();
    expect(a.hibernated).toBe(false);
    const b = pool.session('b');
    await b.restore(bytes);
    expect(await b.call('inc', 0)).toBe(28);
  });

  it('does not hibernate a session whose calls keep coming, while an idle sibling hibernates', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1, idleTimeout: 30 });
    const hibernatedKeys: string[] = [];
    pool.on('sessionHibernated', ({ key }) => hibernatedKeys.push(key));
    const idle = pool.session('idle');
    const busy = pool.session('busy');
    await Promise.all([idle.call('inc', 1), busy.call('inc', 1)]);

    let siblingHibernated = false;
    void nextEvent(pool, 'sessionHibernated', ({ key }) => key === 'idle').then(() => { siblingHibernated = true; });
    let total = 21;
    let calls = 0;
    // Each call is made as soon as the one before settles: the session is never without work when a sweep looks.
    while (!siblingHibernated) {
      expect(await busy.call('inc', 1)).toBe(++total);
      calls++;
    }
    expect(calls).toBeGreaterThan(0);
    expect(hibernatedKeys).toEqual(['idle']);
    expect(busy.hibernated).toBe(false);
    expect(idle.hibernated).toBe(true);
    expect(pool.stats()).toMatchObject({ activeSessions: 1, hibernatedSessions: 1, instances: 1 });
    expect(await idle.call('inc', 0)).toBe(21);
  });
});
