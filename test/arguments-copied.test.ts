// Arguments are taken when the call is made: changing a typed array, a list or a buffer right after
// `call`/`callMany` returns (same tick, before the batch is sent) changes nothing about what runs.

import { describe, expect, it } from 'vitest';
import { KITCHEN, REACTOR, fixture } from './helpers/fixtures.js';
import { createPool } from './helpers/pool.js';
import { typedArray } from './helpers/results.js';

describe('arguments are copied when the call is made', () => {
  it('a Uint8Array changed after call and callMany: the calls see the bytes of call time', async () => {
    const pool = await createPool({ module: fixture('buffers.wasm'), workers: 1 });
    const session = pool.session('bytes');
    const bytes = Uint8Array.of(1, 2, 3);
    const single = session.call('total', bytes);
    const many = session.callMany('total', [bytes, [bytes]]);
    const reversed = session.with({ result: 'bytes' }).call('reverse', bytes);
    bytes.fill(100);
    expect(await single).toBe(6);
    expect(await many).toEqual([6, 6]);
    expect([...(await reversed)]).toEqual([3, 2, 1]);
    expect(await session.call('live')).toBe(0);
  });

  it('an Int32Array refilled between two callMany runs each with its own contents', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1 });
    const session = pool.session('reused');
    const list = Int32Array.of(1, 1);
    const first = session.callMany('inc', list);
    list.fill(5);
    const second = session.callMany('inc', list);
    list.fill(1000);
    expect([...(await first)]).toEqual([21, 22]);
    expect([...(await second)]).toEqual([27, 32]);
    expect(await session.call('inc', 0)).toBe(32);
  });

  it('a BigInt64Array and a view into a larger buffer: exactly the view, as it was', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 1 });
    const session = pool.session('i64');
    const backing = BigInt64Array.of(9n, 1n, 2n, 9n);
    const view = backing.subarray(1, 3);
    const sums = session.callMany('add64', view).then(typedArray(BigInt64Array));
    backing.fill(1000n);
    expect([...(await sums)]).toEqual([1n, 3n]);
  });

  it('an array of tuples whose tuples and items are replaced: the values of call time', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1 });
    const session = pool.session('tuples');
    const tuple: number[] = [1];
    const list: (number | number[])[] = [tuple, [2], 3];
    const results = session.callMany('inc', list as number[][]);
    tuple[0] = 1000;
    list[1] = [2000];
    list[2] = 3000;
    list.push(4000);
    expect(await results).toEqual([21, 23, 26]);
  });

  it('a bigint replaced by a number after the call does not trap or lose the session', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 1, onTrap: 'lose' });
    const session = pool.session('swap');
    const tuple: (bigint | number)[] = [1n];
    const list: (bigint | number | (bigint | number)[])[] = [tuple, 2n];
    const results = session.callMany('add64', list as bigint[]);
    tuple[0] = 1;
    list[1] = 2;
    expect(await results).toEqual([1n, 3n]);
    expect(session.lost).toBe(false);
    expect(await session.call('add64', 0n)).toBe(3n);
  });
});
