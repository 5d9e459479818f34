// The pool option `results` declares once how an export's result is read ('value', 'bytes',
// 'string'); `call` and `callMany` use it, `session.with({ result })` overrides it per call, and
// a name the module cannot honour is refused at create with ERR_INVALID_OPTION naming it.

import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, ReactorPool } from '../dist/src/index.js';
import { KITCHEN, fixture } from './helpers/fixtures.js';
import { createPool, rejection } from './helpers/pool.js';
import { asBigInt } from './helpers/results.js';

const BUFFERS = fixture('buffers.wasm');

describe('the results option', () => {
  it("reads a 'string' export as a string in call and callMany, and frees its buffers", async () => {
    const pool = await createPool({ module: BUFFERS, workers: 1, results: { reverse: 'string' } });
    const session = pool.session('s');
    expect(await session.call('reverse', 'stressed')).toBe('desserts');
    expect(await session.callMany('reverse', ['abc', ['xyz'], Uint8Array.of(104, 105)])).toEqual(['cba', 'zyx', 'ih']);
    // Other exports keep their plain values.
    expect(await session.call('total', 'ab')).toBe(97 + 98);
    expect(await session.call('live')).toBe(0);
  });

  it("reads a 'bytes' export as a Uint8Array; with({ result }) overrides it per call", async () => {
    const pool = await createPool({ module: BUFFERS, workers: 1, results: { reverse: 'bytes' } });
    const session = pool.session('b');
    const bytes = await session.call('reverse', Uint8Array.of(1, 2, 3));
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect([...bytes]).toEqual([3, 2, 1]);
    expect(await session.with({ result: 'string' }).call('reverse', 'ab')).toBe('ba');
    expect(await session.with({ signal: new AbortController().signal }).call('reverse', 'ab')).toEqual(Uint8Array.of(98, 97));
    expect(await session.call('live')).toBe(0);
    // 'value' returns the packed pointer << 32 | length, as without the option (the buffer is then the caller's).
    const packed = await session.with({ result: 'value' }).call('reverse', 'abc').then(asBigInt);
    expect(typeof packed).toBe('bigint');
    expect(packed & 0xffffffffn).toBe(3n);
  });

  it("refuses a typed array list for a 'bytes' export (its results are buffers)", async () => {
    const pool = await createPool({ module: BUFFERS, workers: 1, results: { reverse: 'bytes' } });
    const error = await rejection(pool.session('t').callMany('reverse', Int32Array.of(1)));
    expect(error.code).toBe('ERR_INVALID_ARGUMENT');
  });

  const refusals: [string, unknown, string, RegExp][] = [
    ['not an object', 'string', BUFFERS, /`results` to be an object .* got `"string"` \(string\)/],
    ['an array', ['reverse'], BUFFERS, /`results` to be an object/],
    ['an unknown mode', { reverse: 'text' }, BUFFERS, /`results.reverse` to be 'value', 'bytes' or 'string', got `"text"`/],
    ['an unknown export', { nope: 'string' }, BUFFERS, /`results.nope` is 'string', but cannot call `nope`: no such export/],
    ['a memory', { memory: 'value' }, BUFFERS, /`results.memory` .* it is a memory, not a function/],
    ['_initialize', { _initialize: 'value' }, KITCHEN, /`results._initialize` .* run by the pool itself/],
    ['an export returning an i32', { total: 'bytes' }, BUFFERS, /`results.total` is 'bytes', but result 'bytes' needs an export returning one i64/],
    ['a module without an allocator', { add64: 'string' }, KITCHEN, /`results.add64` is 'string', but .*needs an allocator export/],
  ];
  for (const [what, results, module, message] of refusals) {
    it(`refuses ${what} at create with ERR_INVALID_OPTION`, async () => {
      const error = await rejection(ReactorPool.create({ module, workers: 1, results: results as never }));
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error.code).toBe('ERR_INVALID_OPTION');
      expect(error.message).toMatch(message);
    });
  }

  it('accepts, for a compiled module (no signatures), the names that exist and refuses the others', async () => {
    const module = await WebAssembly.compile(await readFile(BUFFERS));
    const unknown = await rejection(ReactorPool.create({ module, workers: 1, results: { nope: 'bytes' } }));
    expect(unknown.code).toBe('ERR_INVALID_OPTION');
    const pool = await createPool({ module, workers: 1, results: { reverse: 'string', total: 'value' } });
    // A compiled module offers no allocator the pool can trust, so the buffer read is refused per call.
    expect((await rejection(pool.session('c').call('reverse', 0, 0))).code).toBe('ERR_NO_ALLOCATOR');
    expect(await pool.session('c').call('live')).toBe(0);
  });
});
