import { describe, expect, it } from 'vitest';
import { PoolClosedError, ReactorPool } from '../dist/src/index.js';
import { KITCHEN, REACTOR } from './helpers/fixtures.js';
import { rejection } from './helpers/pool.js';

describe('close() and destroy()', () => {
  it('close() drains every accepted call, then refuses new ones with ERR_POOL_CLOSED', async () => {
    const pool = await ReactorPool.create({ module: REACTOR, workers: 2, stderr: 'ignore' });
    const calls = Array.from({ length: 200 }, (_, i) => pool.session(`s${i % 20}`).call('inc', 1));
    const closed = pool.close();
    const refused = await rejection(pool.session('s0').call('inc', 1));
    expect(refused).toBeInstanceOf(PoolClosedError);
    expect(refused.code).toBe('ERR_POOL_CLOSED');
    await closed;
    const results = await Promise.all(calls);
    expect(results.slice(-20)).toEqual(new Array(20).fill(30));
    expect(() => pool.session('new')).toThrow(PoolClosedError);
    await pool.close(); // idempotent
  });

  it('destroy() rejects what is pending with ERR_POOL_CLOSED', async () => {
    const pool = await ReactorPool.create({ module: REACTOR, workers: 1, stderr: 'ignore' });
    const calls = Array.from({ length: 50 }, () => pool.session('s').call('inc', 1));
    const settling = Promise.allSettled(calls);
    await pool.destroy();
    const settled = await settling;
    for (const result of settled) {
      if (result.status === 'rejected') expect((result.reason as { code: string }).code).toBe('ERR_POOL_CLOSED');
    }
    expect(settled.some((r) => r.status === 'rejected')).toBe(true);
  });

  it('destroy() ends a close() that is waiting on a call that never returns', async () => {
    const pool = await ReactorPool.create({ module: KITCHEN, workers: 1, stderr: 'ignore' });
    const spinning = pool.session('s').call('spin').catch((error: unknown) => error);
    const closing = pool.close();
    await pool.destroy();
    await closing;
    expect(await spinning).toBeInstanceOf(PoolClosedError);
  });
});
