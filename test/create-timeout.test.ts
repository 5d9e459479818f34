// create()'s callTimeout bounds the module's start (linking runs its start function), never the
// start-up of the worker threads, however slow the machine.

import { describe, expect, it } from 'vitest';
import { KITCHEN, fixture } from './helpers/fixtures.js';
import { createPool, rejection } from './helpers/pool.js';

describe('create() and callTimeout', () => {
  it('does not count thread start-up against a small callTimeout', async () => {
    // Starting two threads takes 80–110 ms here, more on a loaded machine: well over 25 ms, every time.
    // (Linking, which the limit does bound, has taken over 10 ms on a machine loaded by other tests.)
    const pool = await createPool({ module: KITCHEN, workers: 2, callTimeout: 25 });
    expect(await pool.session('s').call('inc', 1)).toBe(21);
  });

  it('still refuses a module whose start function never returns', async () => {
    const error = await rejection(createPool({ module: fixture('start-loop.wasm'), workers: 1, callTimeout: 200 }));
    expect(error.code).toBe('ERR_CALL_TIMEOUT');
    expect(error['limit']).toBe(200);
  });
});
