// A pool typed by its module's exports (`ReactorPool.create<Exports>`): a call's name, arguments and
// result are checked at compile time (`npm run typecheck` covers this file: every `@ts-expect-error`
// must meet an error) and agree with what the call resolves with at run time.

import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  SessionLostError, type ReactorPool, type ReactorPoolError, type ReferenceReactor, type Session, type SessionLostEvent, type WasmResult,
} from '../dist/src/index.js';
import { KITCHEN, REACTOR, fixture } from './helpers/fixtures.js';
import { createPool, rejection } from './helpers/pool.js';
import type { TypedExportsExports } from './fixtures/typed-exports.exports.js';

const TYPED = fixture('typed-exports.wasm');
const BUFFERS = fixture('buffers.wasm');

/** The buffers fixture's exports, as `reactor-pool types` describes them (inline: one test needs it). */
interface BufferExports {
  malloc(p0: number): number;
  free(p0: number): undefined;
  reverse(p0: number, p1: number): bigint;
  total(p0: number, p1: number): number;
  live(): number;
}

describe('a pool typed by its exports', () => {
  it('types each result as the call resolves with it: numbers, bigints, tuples, undefined', async () => {
    const pool = await createPool<TypedExportsExports>({ module: TYPED, workers: 1 });
    expectTypeOf(pool).toEqualTypeOf<ReactorPool<TypedExportsExports>>();
    const session = pool.session('s');
    expectTypeOf(session).toEqualTypeOf<Session<TypedExportsExports>>();

    const inc = await session.call('inc', 1);
    expectTypeOf(inc).toEqualTypeOf<number>();
    expect(inc).toBe(21);
    const wide = await session.call('add64', 2n ** 40n);
    expectTypeOf(wide).toEqualTypeOf<bigint>();
    expect(wide).toBe(2n ** 40n + 21n);
    const half = await session.call('half', 3);
    expectTypeOf(half).toEqualTypeOf<number>();
    expect(half).toBe(1.5);
    const pair = await session.call('pair', 7);
    expectTypeOf(pair).toEqualTypeOf<[number, bigint, number]>();
    expect(pair).toEqual([7, 7n, 7]);
    const nothing = await session.call('nothing');
    expectTypeOf(nothing).toEqualTypeOf<undefined>();
    expect(nothing).toBeUndefined();
    expectTypeOf(await session.call('get-state')).toEqualTypeOf<number>();
    expect(await session.call('get-state')).toBe(21);
  });

  it('refuses at compile time what the pool refuses at run time: a wrong name, argument count or type', async () => {
    const pool = await createPool<TypedExportsExports>({ module: TYPED, workers: 1 });
    const session = pool.session('s');
    // @ts-expect-error: no such export
    expect((await rejection(session.call('nope'))).code).toBe('ERR_UNKNOWN_EXPORT');
    // @ts-expect-error: v128: JavaScript cannot call it, so the description leaves it out
    expect((await rejection(session.call('lanes', 0))).code).toBe('ERR_INVALID_ARGUMENT');
    // @ts-expect-error: the pool runs `_initialize` itself
    expect((await rejection(session.call('_initialize'))).code).toBe('ERR_UNKNOWN_EXPORT');
    // @ts-expect-error: an i64 takes a bigint
    expect((await rejection(session.call('add64', 1))).code).toBe('ERR_INVALID_ARGUMENT');
    // @ts-expect-error: an i32 takes a number
    expect((await rejection(session.call('inc', 1n))).code).toBe('ERR_INVALID_ARGUMENT');
    // @ts-expect-error: one argument too few
    expect((await rejection(session.call('mix', 1))).code).toBe('ERR_INVALID_ARGUMENT');
    // @ts-expect-error: one argument too many
    expect((await rejection(session.call('inc', 1, 2))).code).toBe('ERR_INVALID_ARGUMENT');
    // @ts-expect-error: a buffer fills two i32 parameters, not an i32 and an f64
    expect((await rejection(session.call('mix', 'ab'))).code).toBe('ERR_INVALID_ARGUMENT');
    // @ts-expect-error: no unchecked result type any more: the description says what it is
    expect(await session.call<string>('inc', 1)).toBe(21);
    // @ts-expect-error: no such call option (the runtime refuses it too)
    expect(() => session.with({ timeout: 5, retries: 2 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    // @ts-expect-error: bytes and strings are read from an export returning one i64 only
    expect((await rejection(session.with({ result: 'string' }).call('inc', 1))).code).toBe('ERR_INVALID_ARGUMENT');
  });

  it('takes a Uint8Array or a string for two i32 parameters in a row (pointer, length)', () => {
    // Types only: the typed-exports fixture has no allocator (the buffers fixture below runs them).
    const calls = (session: Session<TypedExportsExports>): unknown[] => [
      session.call('span', 'text'),
      session.call('span', new Uint8Array(2)),
      session.call('span', 1, 2),
      session.callMany('span', [['ab'], [1, 2], 'cd']),
    ];
    expectTypeOf(calls).returns.toEqualTypeOf<unknown[]>();
  });

  it("types `with({ result })` results: 'string' as string, 'bytes' as Uint8Array; and the pool's `results` option", async () => {
    const pool = await createPool<BufferExports, { reverse: 'string' }>({ module: BUFFERS, workers: 1, results: { reverse: 'string' } });
    const session = pool.session('b');
    const text = await session.call('reverse', 'stressed');
    expectTypeOf(text).toEqualTypeOf<string>();
    expect(text).toBe('desserts');
    const bytes = await session.with({ result: 'bytes' }).call('reverse', Uint8Array.of(1, 2));
    expectTypeOf(bytes).toEqualTypeOf<Uint8Array>();
    expect([...bytes]).toEqual([2, 1]);
    const packed = await session.with({ result: 'value', timeout: 1000 }).call('reverse', 'abc');
    expectTypeOf(packed).toEqualTypeOf<bigint>();
    expect(packed & 0xffffffffn).toBe(3n);
    const many = await session.with({ result: 'bytes' }).callMany('reverse', ['ab', [Uint8Array.of(3)]]);
    expectTypeOf(many).toEqualTypeOf<Uint8Array[]>();
    expect(many.map((b) => [...b])).toEqual([[98, 97], [3]]);
    const strings = await session.callMany('reverse', ['ab']);
    expectTypeOf(strings).toEqualTypeOf<string[]>();
    expect(strings).toEqual(['ba']);
    expectTypeOf(await session.call('total', 'ab')).toEqualTypeOf<number>();
    // One allocation left: the buffer the 'value' read above handed to the caller.
    expect(await session.call('live')).toBe(1);
  });

  it('a `results` option that names an export not returning one i64 does not compile', async () => {
    const error = await rejection(createPool<BufferExports, { total: 'string' }>({
      module: BUFFERS,
      // @ts-expect-error: `total` returns an i32, which cannot be read as a buffer
      results: { total: 'string' },
    }));
    expect(error.code).toBe('ERR_INVALID_OPTION');
    // A typed pool's modes are given with its exports type, else none may be set: `reverse` would be
    // typed bigint and resolve with a string.
    const untold = await createPool<BufferExports>({
      module: BUFFERS,
      // @ts-expect-error: 'string' is not the mode the type says (none)
      results: { reverse: 'string' },
    });
    expect(await untold.session('u').call('reverse', 'ab')).toBe('ba');
  });

  it('types callMany: tuples or single arguments in, an array of results out; typed arrays by the result type', async () => {
    const pool = await createPool<TypedExportsExports>({ module: TYPED, workers: 1 });
    const session = pool.session('m');
    const list = await session.callMany('inc', [[1], 2]);
    expectTypeOf(list).toEqualTypeOf<number[]>();
    expect(list).toEqual([21, 23]);
    const ints = await session.callMany('inc', new Int32Array([1]));
    expectTypeOf(ints).toEqualTypeOf<Int32Array>();
    expect([...ints]).toEqual([24]);
    const floats = await session.callMany('half', new Float32Array([3]));
    expectTypeOf(floats).toEqualTypeOf<Float32Array>();
    expect(floats).toBeInstanceOf(Float32Array);
    const wide = await session.callMany('add64', new BigInt64Array([1n]));
    expectTypeOf(wide).toEqualTypeOf<BigInt64Array>();
    expect(wide).toBeInstanceOf(BigInt64Array);
    const pairs = await session.callMany('pair', [1, [2]]);
    expectTypeOf(pairs).toEqualTypeOf<[number, bigint, number][]>();
    expect(pairs).toEqual([[1, 1n, 1], [2, 2n, 2]]);
    // @ts-expect-error: an i64 parameter takes a BigInt64Array, not an Int32Array
    expect((await rejection(session.callMany('add64', new Int32Array([1])))).code).toBe('ERR_INVALID_ARGUMENT');
    // @ts-expect-error: two parameters: a typed array cannot carry them
    expect((await rejection(session.callMany('mix', new Float64Array([1])))).code).toBe('ERR_INVALID_ARGUMENT');
    // @ts-expect-error: a tuple of the wrong type
    expect((await rejection(session.callMany('inc', [[1n]]))).code).toBe('ERR_INVALID_ARGUMENT');
  });

  it('ships the reference reactor\'s description as ReferenceReactor', async () => {
    const pool = await createPool<ReferenceReactor>({ module: REACTOR, workers: 1 });
    const alice = pool.session('alice');
    const n = await alice.call('inc', 1);
    expectTypeOf(n).toEqualTypeOf<number>();
    expect(n).toBe(21);
    expectTypeOf(() => alice.callMany('inc', [1, 2])).returns.resolves.toEqualTypeOf<number[]>();
    expect(await alice.callMany('inc', [1, 2])).toEqual([22, 24]);
    // @ts-expect-error: the reference reactor exports `inc` alone
    expect((await rejection(alice.call('dec', 1))).code).toBe('ERR_UNKNOWN_EXPORT');
  });
});

describe('a pool without an exports type', () => {
  it('types results honestly: any export, any arguments, every result a call can resolve with', async () => {
    const pool = await createPool({ module: TYPED, workers: 1 });
    const session = pool.session('u');
    const result = await session.call('pair', 3);
    expectTypeOf(result).toEqualTypeOf<WasmResult>();
    expectTypeOf(result).toEqualTypeOf<number | bigint | undefined | (number | bigint)[]>();
    expect(result).toEqual([3, 3n, 3]);
    expectTypeOf(() => session.with({ result: 'string' }).call('anything')).returns.resolves.toEqualTypeOf<string>();
    expectTypeOf(() => session.callMany('inc', [1, [2], 'ab'])).returns.resolves.toEqualTypeOf<WasmResult[]>();
    expectTypeOf(() => session.callMany('inc', new Int32Array(1))).returns.resolves
      .toEqualTypeOf<Int32Array | Float32Array | Float64Array | BigInt64Array>();
    // @ts-expect-error: no unchecked result type: call<number>() is not a cast
    expect(await session.call<number>('inc', 1)).toBe(21);
    // @ts-expect-error: an argument is a number, a bigint or a buffer
    expect((await rejection(session.call('inc', {}))).code).toBe('ERR_INVALID_ARGUMENT');
  });

  it("infers the `results` option's modes", async () => {
    const pool = await createPool({ module: BUFFERS, workers: 1, results: { reverse: 'bytes' } });
    const session = pool.session('r');
    const bytes = await session.call('reverse', 'ab');
    expectTypeOf(bytes).toEqualTypeOf<Uint8Array>();
    expect([...bytes]).toEqual([98, 97]);
    expectTypeOf(await session.call('live')).toEqualTypeOf<WasmResult>();
  });
});

describe('error causes', () => {
  it("types SessionLostError's cause and the sessionLost event's as the pool's own errors", async () => {
    expectTypeOf<SessionLostError['cause']>().toEqualTypeOf<ReactorPoolError | undefined>();
    expectTypeOf<ReactorPoolError['cause']>().toEqualTypeOf<ReactorPoolError | undefined>();
    expectTypeOf<SessionLostEvent['cause']>().toEqualTypeOf<ReactorPoolError>();
    const pool = await createPool({ module: KITCHEN, workers: 1 });
    const session = pool.session('l');
    expect((await rejection(session.call('quit', 3))).code).toBe('ERR_REACTOR_EXIT');
    const lost = await session.call('inc', 1).then(() => undefined, (error: unknown) => error);
    expect(lost).toBeInstanceOf(SessionLostError);
    if (!(lost instanceof SessionLostError)) return;
    // Typed: no cast to read the cause's code.
    expect(lost.cause?.code).toBe('ERR_REACTOR_EXIT');
    expect(lost.cause?.exitCode).toBe(3);
  });
});
