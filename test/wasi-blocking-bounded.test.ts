// poll_oneoff sleeps with Atomics.wait, which terminating the worker interrupts: a guest asking to
// sleep for a minute is stopped by callTimeout like a tight loop, and destroy() never waits for it.

import { describe, expect, it } from 'vitest';
import { load32, load64, SURFACE } from './helpers/guest-memory.js';
import { createPool, rejection } from './helpers/pool.js';

const MINUTE_NS = 60_000_000_000n;

describe('blocking WASI calls are bounded', () => {
  it('a minute-long poll_oneoff sleep under a 200 ms timeout rejects ERR_CALL_TIMEOUT; other sessions carry on', async () => {
    // The timeout is per call (the same watchdog as callTimeout): a pool-wide 200 ms would also bound
    // create()'s probe, which a loaded machine can take longer than that just to start a thread.
    const pool = await createPool({ module: SURFACE, workers: 2 });
    const sleeper = pool.session('sleeper');
    const other = pool.session([...Array(64).keys()].map((i) => `other-${i}`).find((key) => pool.session(key).workerId !== sleeper.workerId) as string);
    await other.call('store32', 4096, 77);
    const error = await rejection(sleeper.with({ timeout: 200 }).call('sleep', MINUTE_NS));
    expect(error.code).toBe('ERR_CALL_TIMEOUT');
    expect(error['limit']).toBe(200);
    expect(await other.call('load32', 4096)).toBe(77);
    await sleeper.reset();
    expect(await sleeper.call('call_sched_yield')).toBe(0);
  });

  it('destroy() resolves while a guest sleeps for a minute, rejecting its call ERR_POOL_CLOSED', async () => {
    const pool = await createPool({ module: SURFACE, workers: 1 });
    const sleeper = pool.session('sleeper');
    await sleeper.call('call_sched_yield');
    const sleeping = rejection(sleeper.call('sleep', MINUTE_NS));
    await pool.destroy();
    expect((await sleeping).code).toBe('ERR_POOL_CLOSED');
  });

  it('a short sleep returns its clock event', async () => {
    const pool = await createPool({ module: SURFACE, workers: 1 });
    const session = pool.session('a');
    expect(await session.call('sleep', 1_000_000n)).toBe(0);
    expect(await load32(session, 96)).toBe(1);
    expect(await load64(session, 64)).toBe(42n);
    expect(await session.call('load16', 64 + 8)).toBe(0);
    expect(await session.call('load8', 64 + 10)).toBe(0);
  });

  it('an absolute deadline in the past fires at once, without sleeping', async () => {
    const pool = await createPool({ module: SURFACE, workers: 1, callTimeout: 5_000 });
    const session = pool.session('a');
    await session.call('store64', 0, 9n);
    await session.call('store8', 8, 0);
    await session.call('store32', 16, 1); // monotonic
    await session.call('store64', 24, 1n); // 1 ns after the clock's origin: long past
    await session.call('store16', 40, 1); // abstime
    expect(await session.call('call_poll_oneoff', 0, 64, 1, 96)).toBe(0);
    expect(await load32(session, 96)).toBe(1);
    expect(await load64(session, 64)).toBe(9n);
  });
});
