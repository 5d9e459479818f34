import { describe, expect, it } from 'vitest';
import { ReactorExitError, SessionLostError, type SessionLostEvent } from '../dist/src/index.js';
import { KITCHEN, fixture } from './helpers/fixtures.js';
import { createPool, rejection } from './helpers/pool.js';

describe('ERR_REACTOR_EXIT and the loss rule', () => {
  it('rejects the exiting call with the exit code; queued and later calls get ERR_SESSION_LOST until reset', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 2 });
    const lost: SessionLostEvent[] = [];
    pool.on('sessionLost', (event) => lost.push(event));
    const a = pool.session('a');
    const b = pool.session('b');
    expect(await a.call('inc', 1)).toBe(21);
    expect(await b.call('inc', 2)).toBe(22);

    const [exit, queued] = await Promise.allSettled([a.call('quit', 3), a.call('inc', 1)]);
    const exitError = (exit as PromiseRejectedResult).reason as ReactorExitError;
    expect(exitError).toBeInstanceOf(ReactorExitError);
    expect(exitError.code).toBe('ERR_REACTOR_EXIT');
    expect(exitError.exitCode).toBe(3);
    expect(exitError.exportName).toBe('quit');
    const queuedError = (queued as PromiseRejectedResult).reason as SessionLostError;
    expect(queuedError).toBeInstanceOf(SessionLostError);
    expect(queuedError.code).toBe('ERR_SESSION_LOST');
    expect((queuedError.cause as ReactorExitError).code).toBe('ERR_REACTOR_EXIT');

    expect(a.lost).toBe(true);
    const later = await rejection(a.call('inc', 1));
    expect(later.code).toBe('ERR_SESSION_LOST');
    expect((later.cause as ReactorExitError).exitCode).toBe(3);
    expect(lost).toHaveLength(1);
    expect(lost[0]?.key).toBe('a');
    expect(lost[0]?.cause.code).toBe('ERR_REACTOR_EXIT');

    expect(await b.call('inc', 0)).toBe(22);
    await a.reset();
    expect(a.lost).toBe(false);
    expect(await a.call('inc', 1)).toBe(21);
  });

  it('proc_exit(0) is still an exit: the instance is gone', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 1 });
    const s = pool.session('s');
    const error = await rejection(s.call('quit', 0));
    expect(error.code).toBe('ERR_REACTOR_EXIT');
    expect(error['exitCode']).toBe(0);
    expect(s.lost).toBe(true);
  });

  it("with isolation 'worker', an exit loses every session on that worker, idle ones included", async () => {
    const pool = await createPool({ module: KITCHEN, workers: 1, isolation: 'worker' });
    const lost: string[] = [];
    pool.on('sessionLost', (event) => lost.push(event.key));
    expect(await pool.session('a').call('inc', 1)).toBe(21);
    expect(await pool.session('b').call('inc', 1)).toBe(22);
    expect((await rejection(pool.session('a').call('quit', 9))).code).toBe('ERR_REACTOR_EXIT');
    expect(lost.sort()).toEqual(['a', 'b']);
    expect((await rejection(pool.session('b').call('inc', 1))).code).toBe('ERR_SESSION_LOST');
    // A session that never called is not lost: it binds to a fresh shared instance.
    expect(await pool.session('c').call('inc', 1)).toBe(21);
    await pool.session('b').reset();
    expect(await pool.session('b').call('inc', 1)).toBe(22);
  });

  it('an _initialize that exits or traps fails the first call with its code and loses the session', async () => {
    for (const [name, code] of [['init-exit.wasm', 'ERR_REACTOR_EXIT'], ['init-trap.wasm', 'ERR_REACTOR_TRAP']] as const) {
      const pool = await createPool({ module: fixture(name), workers: 1 });
      const s = pool.session('s');
      const [first, second] = await Promise.allSettled([s.call('inc', 1), s.call('inc', 1)]);
      const error = (first as PromiseRejectedResult).reason as { code: string; message: string };
      expect(error.code).toBe(code);
      expect(error.message).toMatch(/starting the instance failed/);
      expect(((second as PromiseRejectedResult).reason as { code: string }).code).toBe('ERR_SESSION_LOST');
      expect(s.lost).toBe(true);
      expect((await rejection(s.reset())).code).toBe(code);
    }
  });
});
