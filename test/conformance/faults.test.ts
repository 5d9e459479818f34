// Conformance: a trap, an exit and an unknown export give their codes for every toolchain's reactor;
// an exit loses only its own session, which restarts from 20 after reset().

import { describe, expect, it } from 'vitest';
import { createPool, rejection } from '../helpers/pool.js';
import { MODULES } from './modules.js';

describe.each(MODULES)('$name reactor', (module) => {
  it('reports a trap (or, for Go, the exit its runtime makes of a panic)', async () => {
    const pool = await createPool({ module: module.path, workers: 1 });
    const session = pool.session('boom');
    expect(await session.call('inc', 1)).toBe(21);
    const error = await rejection(session.call('boom'));
    expect(error).toMatchObject({ ...module.boom, exportName: 'boom', sessionKey: 'boom' });
    if (module.boom.code === 'ERR_REACTOR_TRAP') {
      // The instance stays (onTrap 'keep'), and the write made before the trap persists.
      expect(await session.call('inc', 0)).toBe(1021);
    } else {
      expect(session.lost).toBe(true);
    }
  });

  it('reports proc_exit with its code and loses only that session', async () => {
    const pool = await createPool({ module: module.path, workers: 1 });
    const other = pool.session('other');
    expect(await other.call('inc', 5)).toBe(25);
    const quitter = pool.session('quitter');
    const error = await rejection(quitter.call('quit', 7));
    expect(error).toMatchObject({ code: 'ERR_REACTOR_EXIT', exitCode: 7 });
    expect((await rejection(quitter.call('inc', 1))).code).toBe('ERR_SESSION_LOST');
    expect(await other.call('inc', 0)).toBe(25);
    await quitter.reset();
    expect(await quitter.call('inc', 1)).toBe(21);
  });

  it('refuses an unknown export with ERR_UNKNOWN_EXPORT, and _initialize as reserved', async () => {
    const pool = await createPool({ module: module.path, workers: 1 });
    expect((await rejection(pool.session('u').call('nope'))).code).toBe('ERR_UNKNOWN_EXPORT');
    expect((await rejection(pool.session('u').call('_initialize'))).code).toBe('ERR_UNKNOWN_EXPORT');
    expect(await pool.session('u').call('inc', 1)).toBe(21);
  });
});
