// Conformance: a trap, an exit and an unknown export give their codes for every toolchain's reactor;
// an exit loses only its own session, which restarts from 20 after reset().

import { describe, expect, it } from 'vitest';
import { createPool, rejection } from '../helpers/pool.js';
import { MODULES } from './modules.js';

describe.each(MODULES)('$name reactor', (module) => {
  it('reports a trap with ERR_REACTOR_TRAP (a Go panic too), with the loss policy the toolchain needs', async () => {
    const keep = await createPool({ module: module.path, workers: 1 });
    const session = keep.session('boom');
    expect(await session.call('inc', 1)).toBe(21);
    const error = await rejection(session.call('boom'));
    expect(error).toMatchObject({ code: 'ERR_REACTOR_TRAP', exportName: 'boom', sessionKey: 'boom' });
    if (!module.trapBreaksRuntime) {
      // The instance stays (onTrap 'keep'), and the write made before the trap persists.
      expect(await session.call('inc', 0)).toBe(1021);
    }
    // With onTrap 'reset' every toolchain comes back clean, its runtime included.
    const reset = await createPool({ module: module.path, workers: 1, onTrap: 'reset' });
    const fresh = reset.session('boom');
    expect(await fresh.call('inc', 1)).toBe(21);
    expect((await rejection(fresh.call('boom'))).code).toBe('ERR_REACTOR_TRAP');
    expect(await fresh.call('inc', 1)).toBe(21);
    expect(await fresh.call('inits')).toBe(1);
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
