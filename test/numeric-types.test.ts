import { describe, expect, it } from 'vitest';
import { KITCHEN } from './helpers/fixtures.js';
import { createPool } from './helpers/pool.js';
import { asBigInt, typedArray } from './helpers/results.js';

describe('argument and result types', () => {
  it('passes i64 as bigint, f32 and f64 as numbers, and void as undefined', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 1 });
    const s = pool.session('types');
    expect(await s.call('add64', 2n ** 40n).then(asBigInt)).toBe(2n ** 40n);
    expect(await s.call('add64', -1n).then(asBigInt)).toBe(2n ** 40n - 1n);
    expect(await s.call('scale32', 1.25)).toBe(2.5);
    expect(await s.call('mix', 2, 0.5)).toBe(2.5);
    expect(await s.call('nothing')).toBeUndefined();
    expect(await s.call('inc', 0xffffffff)).toBe(19); // u32 range wraps like the wasm JS API
  });

  it('callMany takes tuples, single values and typed arrays (typed results for typed input)', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 1 });
    const s = pool.session('many');
    expect(await s.callMany('mix', [[1, 0.5], [2, 0.25]])).toEqual([1.5, 2.25]);
    expect(await s.callMany('inc', [[1], 2])).toEqual([21, 23]);
    const typed = await s.callMany('inc', new Int32Array([1, 2, 3]));
    expect(typed).toBeInstanceOf(Int32Array);
    expect([...typed]).toEqual([24, 26, 29]);
    const wide = await s.callMany('add64', new BigInt64Array([5n, 6n])).then(typedArray(BigInt64Array));
    expect(wide).toBeInstanceOf(BigInt64Array);
    expect([...wide]).toEqual([5n, 11n]);
    expect(await s.callMany('inc', [])).toEqual([]);
  });
});
