// Empty buffer results do not leak: what the pool frees is exactly what the module's allocator
// allocated. With alloc/dealloc an empty result from alloc(0) is freed with dealloc(ptr, 0); a null
// pointer is never freed; with malloc/free an empty result is freed like any other.

import { describe, expect, it } from 'vitest';
import { fixture } from './helpers/fixtures.js';
import { createPool } from './helpers/pool.js';

const ALLOC_DEALLOC = fixture('alloc-dealloc.wasm');
const MALLOC_FREE = fixture('buffers.wasm');
const CALLS = 2_000;

describe('empty buffer results', () => {
  it('with alloc/dealloc: thousands of empty results from alloc(0) leave the live allocations at their baseline', async () => {
    const pool = await createPool({ module: ALLOC_DEALLOC, workers: 1 });
    expect(pool.allocator).toBe('alloc');
    const session = pool.session('empty');
    const bytes = session.with({ result: 'bytes' });
    // The fixture's dealloc traps unless it is given the size alloc was: a leak or a wrong size both show.
    expect([...await bytes.call('echo', new Uint8Array([1, 2, 3]))]).toEqual([1, 2, 3]);
    expect(await session.call('live')).toBe(0);
    for (let i = 0; i < CALLS; i++) expect((await bytes.call('echo', new Uint8Array(0))).length).toBe(0);
    expect(await session.call('live')).toBe(0);
    const many = await session.with({ result: 'string' }).callMany('echo', Array.from({ length: CALLS }, () => ''));
    expect(many.every((s) => s === '')).toBe(true);
    expect(await session.call('live')).toBe(0);
  });

  it('with alloc/dealloc: an empty result with a null pointer is read and never freed', async () => {
    const pool = await createPool({ module: ALLOC_DEALLOC, workers: 1 });
    const session = pool.session('null');
    // dealloc(0, 0) would trap in this fixture (it reads the size stored before the pointer, at -4).
    const results = await session.with({ result: 'bytes' }).callMany('none', Array.from({ length: CALLS }, () => []));
    expect(results.every((r) => r.length === 0)).toBe(true);
    expect(await session.call('live')).toBe(0);
  });

  it('with malloc/free: thousands of empty results leave the live allocations at their baseline', async () => {
    const pool = await createPool({ module: MALLOC_FREE, workers: 1 });
    expect(pool.allocator).toBe('malloc');
    const session = pool.session('empty');
    const strings = session.with({ result: 'string' });
    for (let i = 0; i < CALLS; i++) expect(await strings.call('reverse', '')).toBe('');
    expect(await session.call('live')).toBe(0);
    expect(await strings.callMany('reverse', Array.from({ length: CALLS }, () => ''))).toEqual(Array.from({ length: CALLS }, () => ''));
    expect(await session.call('live')).toBe(0);
  });
});
