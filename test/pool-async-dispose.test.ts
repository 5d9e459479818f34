// `await using pool = await ReactorPool.create(…)`: leaving the scope closes the pool, draining the
// calls it accepted first, as `pool.close()` does.

import { describe, expect, it } from 'vitest';
import { ReactorPool, type Session } from '../dist/src/index.js';
import { REACTOR } from './helpers/fixtures.js';
import { rejection } from './helpers/pool.js';

describe('pool[Symbol.asyncDispose]', () => {
  it('is close(): the same promise, settled once the pool has stopped', async () => {
    const pool = await ReactorPool.create({ module: REACTOR, workers: 1, stderr: 'ignore' });
    const session = pool.session('a');
    const disposing = pool[Symbol.asyncDispose]();
    expect(disposing).toBe(pool.close());
    await disposing;
    expect((await rejection(session.call('inc', 1))).code).toBe('ERR_POOL_CLOSED');
  });

  it('closes the pool when an `await using` scope ends, after the calls made in it', async () => {
    const sessions: Session[] = [];
    const inFlight: Promise<unknown>[] = [];
    {
      await using pool = await ReactorPool.create({ module: REACTOR, workers: 1, stderr: 'ignore' });
      sessions.push(pool.session('a'));
      inFlight.push(...[1, 2, 3].map((n) => pool.session('a').call('inc', n)));
    }
    // Accepted calls were drained by the close, not cut short.
    expect(await Promise.all(inFlight)).toEqual([21, 23, 26]);
    expect(sessions).toHaveLength(1);
    for (const session of sessions) expect((await rejection(session.call('inc', 1))).code).toBe('ERR_POOL_CLOSED');
  });

  it('closes the pool when the scope ends by an exception, and lets the exception through', async () => {
    const sessions: Session[] = [];
    const failing = async (): Promise<void> => {
      await using pool = await ReactorPool.create({ module: REACTOR, workers: 1, stderr: 'ignore' });
      sessions.push(pool.session('a'));
      await pool.session('a').call('inc', 1);
      throw new Error('the scope failed');
    };
    await expect(failing()).rejects.toThrow('the scope failed');
    expect(sessions).toHaveLength(1);
    for (const session of sessions) expect((await rejection(session.call('inc', 1))).code).toBe('ERR_POOL_CLOSED');
  });
});
