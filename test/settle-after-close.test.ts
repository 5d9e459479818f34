// After close() or destroy() every method settles: session.close() resolves (the instance went with
// the threads), call/callMany/reset reject ERR_POOL_CLOSED, recycleWorker rejects, stats() works.

import { describe, expect, it } from 'vitest';
import { KITCHEN } from './helpers/fixtures.js';
import { createPool, rejection, terminateWorker } from './helpers/pool.js';

// A method that never settles can only be caught by a deadline; this one is far above a normal run.
const NEVER_SETTLES = { timeout: 10_000 };

describe('every method settles after the pool stopped', () => {
  for (const stop of ['close', 'destroy'] as const) {
    it(`after ${stop}()`, NEVER_SETTLES, async () => {
      const pool = await createPool({ module: KITCHEN, workers: 2 });
      const used = pool.session('used');
      const placed = pool.session('placed'); // no instance yet
      expect(await used.call('inc', 1)).toBe(21);
      await pool[stop]();
      const closing = used.close(); // its instance's drop used to wait forever in a stopped worker's outbox
      for (const method of [() => used.call('inc', 1), () => used.callMany('inc', [1]), () => used.reset(), () => placed.call('inc', 1)]) {
        expect((await rejection(method())).code).toBe('ERR_POOL_CLOSED');
      }
      expect((await rejection(pool.recycleWorker(0))).code).toBe('ERR_POOL_CLOSED');
      expect(pool.stats()).toMatchObject({ workers: 2, sessions: 1, pending: 0, instances: 0 });

      await expect(closing).resolves.toBeUndefined();
      await expect(placed.close()).resolves.toBeUndefined();
      expect(pool.stats()).toMatchObject({ sessions: 0, pending: 0 });
      expect((await rejection(used.call('inc', 1))).code).toBe('ERR_POOL_CLOSED');
      await pool.close();
      await pool.destroy();
    });
  }

  it('after the pool stopped by itself (restart limit)', NEVER_SETTLES, async () => {
    const pool = await createPool({ module: KITCHEN, workers: 1, maxRestarts: 0 });
    const session = pool.session('s');
    expect(await session.call('inc', 1)).toBe(21);
    const failed = new Promise((resolve) => pool.once('failed', resolve));
    const spinning = rejection(pool.session('spinner').call('spin'));
    await terminateWorker(pool, 0);
    await failed;
    await spinning;
    await expect(session.close()).resolves.toBeUndefined();
    expect((await rejection(session.call('inc', 1))).code).toBe('ERR_POOL_CLOSED');
    expect(pool.stats().pending).toBe(0);
  });

  it('a session closed while close() drains still drops its instance and resolves', NEVER_SETTLES, async () => {
    const pool = await createPool({ module: KITCHEN, workers: 1 });
    const session = pool.session('s');
    const calls = [session.call('inc', 1), session.call('inc', 2)];
    const closing = pool.close();
    const sessionClosed = session.close();
    expect(await Promise.all(calls)).toEqual([21, 23]);
    await expect(sessionClosed).resolves.toBeUndefined();
    await closing;
    expect(pool.stats()).toMatchObject({ sessions: 0, pending: 0 });
  });
});
