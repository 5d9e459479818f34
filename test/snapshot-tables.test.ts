// Snapshots of a module whose funcref table changes at run time (table.set, table.grow, table.fill,
// table.copy): the table's size and every element come back, in another session and another pool.

import { describe, expect, it } from 'vitest';
import { fixture } from './helpers/fixtures.js';
import { createPool, keysOn, rejection } from './helpers/pool.js';

const CALLBACKS = fixture('callbacks.wasm');
const HOST_FUNCTION = fixture('table-host-function.wasm');
const [ADD1, DOUBLE, SQUARE, NEGATE, NULL] = [0, 1, 2, 3, 99];

describe('snapshots of changing tables', () => {
  it('the module can be snapshotted; its tables and table functions are exported for it', async () => {
    const pool = await createPool({ module: CALLBACKS, workers: 1 });
    expect(pool.spec.snapshot).toEqual({ possible: true, reasons: [] });
    expect(pool.spec.exports.map((e) => e.name)).not.toContain('__rp_table_0');
  });

  it('call_indirect gives the same results after a restore into another session, on another worker', async () => {
    const pool = await createPool({ module: CALLBACKS, workers: 2 });
    const a = pool.session('a');
    // After `_initialize`: add1 in slot 0, double in slot 1.
    expect(await a.callMany('call_slot', [[0, 5], [1, 5]])).toEqual([6, 10]);
    expect(await a.call('grow', 3)).toBe(2);
    await a.callMany('set_callback', [[0, SQUARE], [1, NULL], [3, NEGATE]]);
    await a.call('copy_slot', 0, 4);
    const bytes = await a.snapshot();
    const [key] = keysOn(pool, a.workerId === 0 ? 1 : 0, 1, 'b-');
    const b = pool.session(key as string);
    await b.restore(bytes);
    expect(b.workerId).not.toBe(a.workerId);
    expect(await b.call('size')).toBe(5);
    expect(await b.callMany('call_slot', [[0, 7], [3, 7], [4, 7]])).toEqual([49, -7, 49]);
    // Null slots stay null: calling one traps.
    for (const slot of [1, 2]) {
      expect((await rejection(b.call('call_slot', slot, 1))).code).toBe('ERR_REACTOR_TRAP');
    }
    // The restored instance changes its table on its own: a is untouched.
    await b.call('set_callback', 2, ADD1);
    expect(await b.call('call_slot', 2, 1)).toBe(2);
    expect((await rejection(a.call('call_slot', 2, 1))).code).toBe('ERR_REACTOR_TRAP');
  });

  it('restores into a fresh pool, grown size and filled slots kept, and a snapshot of the restored session restores too', async () => {
    const one = await createPool({ module: CALLBACKS, workers: 1 });
    const a = one.session('a');
    expect(await a.call('grow', 4)).toBe(2);
    await a.call('fill_negate', 2, 3);
    await a.call('set_callback', 0, DOUBLE);
    const first = await a.snapshot();
    await one.close();
    const two = await createPool({ module: CALLBACKS, workers: 1 });
    const b = two.session('b');
    await b.restore(first);
    expect(await b.call('size')).toBe(6);
    expect(await b.callMany('call_slot', [[0, 4], [1, 4], [2, 4], [4, 4]])).toEqual([8, 8, -4, -4]);
    expect((await rejection(b.call('call_slot', 5, 4))).code).toBe('ERR_REACTOR_TRAP');
    await b.call('grow', 1);
    await b.call('set_callback', 6, SQUARE);
    const second = await b.snapshot();
    const c = two.session('c');
    await c.restore(second);
    expect(await c.call('size')).toBe(7);
    expect(await c.callMany('call_slot', [[6, 3], [0, 3]])).toEqual([9, 6]);
  });

  it('a snapshot of a table holding a host function fails clearly; the session goes on', async () => {
    const pool = await createPool({ module: HOST_FUNCTION, workers: 1 });
    expect(pool.spec.snapshot.possible).toBe(true);
    const a = pool.session('a');
    expect(await a.call('inc')).toBe(1);
    const error = await rejection(a.snapshot());
    expect(error.code).toBe('ERR_NOT_SNAPSHOTTABLE');
    expect(error.message).toMatch(/element 0 of table 0 holds a function that is not one of the module's own/);
    expect(await a.call('inc')).toBe(2);
  });
});
