// Bytes and strings: a Uint8Array or string argument travels as (pointer, length) through the guest's
// allocator; `with({ result })` reads an i64 (pointer << 32 | length) result; everything is freed and bounds-checked.

import { describe, expect, it } from 'vitest';
import { NoAllocatorError, OutOfBoundsError } from '../dist/src/index.js';
import { KITCHEN, fixture } from './helpers/fixtures.js';
import { createPool, rejection } from './helpers/pool.js';

const BUFFERS = fixture('buffers.wasm');

describe('bytes and strings', () => {
  it('passes Uint8Array and string arguments as (pointer, length) and frees them after the call', async () => {
    const pool = await createPool({ module: BUFFERS, workers: 1 });
    expect(pool.allocator).toBe('malloc');
    const session = pool.session('in');
    expect(await session.call('total', new Uint8Array([1, 2, 3, 250]))).toBe(256);
    expect(await session.call('total', 'AB')).toBe(65 + 66);
    expect(await session.call('total', 'é')).toBe(0xc3 + 0xa9); // UTF-8
    expect(await session.call('total', new Uint8Array(0))).toBe(0);
    // Buffers and numbers mixed: each buffer fills two i32 parameters.
    expect(await session.call('weigh', 'abc', 10, new Uint8Array(5))).toBe(35);
    expect(await session.call('live')).toBe(0);
  });

  it("reads buffer results with with({ result: 'bytes' | 'string' }), in call and callMany, and frees them", async () => {
    const pool = await createPool({ module: BUFFERS, workers: 1 });
    const session = pool.session('out');
    const bytes = session.with({ result: 'bytes' });
    const got = await bytes.call('reverse', new Uint8Array([1, 2, 3]));
    expect(got).toBeInstanceOf(Uint8Array);
    expect([...got]).toEqual([3, 2, 1]);
    expect(await session.with({ result: 'string' }).call('reverse', 'stressed')).toBe('desserts');
    expect(await session.with({ result: 'string' }).callMany('reverse', ['abc', ['xyz'], ''])).toEqual(['cba', 'zyx', '']);
    const many = await bytes.callMany('reverse', [new Uint8Array([9, 8])]);
    expect([...(many[0] as Uint8Array)]).toEqual([8, 9]);
    expect(await session.call('live')).toBe(0);
  });

  it('refuses, with ERR_OUT_OF_BOUNDS, a result outside linear memory; the session carries on', async () => {
    const pool = await createPool({ module: BUFFERS, workers: 1 });
    const session = pool.session('bad');
    const error = await rejection(session.with({ result: 'bytes' }).call('bad'));
    expect(error).toBeInstanceOf(OutOfBoundsError);
    expect(error.code).toBe('ERR_OUT_OF_BOUNDS');
    expect(error.message).toContain('outside the instance');
    expect(session.lost).toBe(false);
    expect(await session.call('total', 'a')).toBe(97);
  });

  it('checks buffers against the signature before anything is sent', async () => {
    const pool = await createPool({ module: BUFFERS, workers: 1 });
    const session = pool.session('checks');
    // A buffer needs an (i32, i32) pair where it stands.
    expect((await rejection(session.call('weigh', 'abc', 'x'))).code).toBe('ERR_INVALID_ARGUMENT');
    expect((await rejection(session.call('live', 'x'))).code).toBe('ERR_INVALID_ARGUMENT');
    // A buffer result needs one i64 result.
    const mode = await rejection(session.with({ result: 'string' }).call('total', 'x'));
    expect(mode.code).toBe('ERR_INVALID_ARGUMENT');
    expect(mode.message).toContain('returning one i64');
    expect(() => session.with({ result: 'text' as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    expect(await session.call('live')).toBe(0);
  });

  it('refuses buffers with ERR_NO_ALLOCATOR when the module exports no allocator', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 1 });
    expect(pool.allocator).toBeUndefined();
    // add64 returns an i64, so it could name a buffer; but nothing could free it.
    const error = await rejection(pool.session('none').with({ result: 'bytes' }).call('add64', 1n));
    expect(error).toBeInstanceOf(NoAllocatorError);
    expect(error.code).toBe('ERR_NO_ALLOCATOR');
    expect(error.message).toContain('malloc + free, alloc + dealloc, or cabi_realloc');
  });
});
