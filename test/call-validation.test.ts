import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, UnknownExportError } from '../dist/src/index.js';
import { KITCHEN, fixture } from './helpers/fixtures.js';
import { createPool, rejection } from './helpers/pool.js';

describe('calls checked against the export signatures', () => {
  it('ERR_UNKNOWN_EXPORT for a missing export, a memory, and _initialize', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 1 });
    const s = pool.session('k');
    for (const [name, why] of [['nope', 'no such export'], ['memory', 'a memory, not a function'], ['_initialize', 'run by the pool']]) {
      const error = await rejection(s.call(name as string));
      expect(error).toBeInstanceOf(UnknownExportError);
      expect(error.code).toBe('ERR_UNKNOWN_EXPORT');
      expect(error.message).toContain(why);
      expect(error['exportName']).toBe(name);
    }
  });

  const bad: [string, unknown[], RegExp][] = [
    ['inc', [], /takes 1 argument\(s\) \(i32\), got 0/],
    ['inc', [1, 2], /got 2/],
    ['inc', [1.5], /argument 0 of `inc` to be an integer .* got `1.5` \(number\)/],
    ['inc', [2 ** 32], /got `4294967296`/],
    ['inc', ['1'], /got `"1"` \(string\)/],
    ['inc', [1n], /got `1n` \(bigint\)/],
    ['add64', [1], /a bigint .* \(i64\), got `1` \(number\)/],
    ['add64', [2n ** 64n], /got `18446744073709551616n`/],
    ['scale32', [1n], /a number \(f32\)/],
    ['mix', [1, '2'], /argument 1 of `mix`/],
  ];
  for (const [name, args, message] of bad) {
    it(`ERR_INVALID_ARGUMENT for ${name}(${args.map(String).join(', ')})`, async () => {
      const pool = await createPool({ module: KITCHEN, workers: 1 });
      const error = await rejection(pool.session('k').call(name, ...(args as number[])));
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error.code).toBe('ERR_INVALID_ARGUMENT');
      expect(error.message).toMatch(message);
    });
  }

  it('ERR_INVALID_ARGUMENT for bad callMany lists, naming the item', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 1 });
    const s = pool.session('k');
    expect((await rejection(s.callMany('inc', [1, 2, 'x'] as never))).message).toMatch(/callMany item 2/);
    expect((await rejection(s.callMany('inc', 5 as never))).message).toMatch(/array or a typed array/);
    expect((await rejection(s.callMany('mix', new Float64Array(2)))).message).toMatch(/one parameter and one result/);
    expect((await rejection(s.callMany('inc', new Float64Array([0.5])))).code).toBe('ERR_INVALID_ARGUMENT');
  });

  it('ERR_INVALID_ARGUMENT for a session key that is not a non-empty string', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 1 });
    expect(() => pool.session('')).toThrow(InvalidArgumentError);
    expect(() => pool.session(7 as never)).toThrow(/session key/);
  });

  it('refuses a v128 parameter, which JavaScript cannot pass', async () => {
    const pool = await createPool({ module: fixture('v128.wasm'), workers: 1 });
    expect((await rejection(pool.session('k').call('lanes', 0))).message).toMatch(/v128.*JavaScript cannot pass/);
  });

  it('sends nothing to the worker for a refused call: the session and others stay exact', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 2 });
    const a = pool.session('a');
    const b = pool.session('b');
    expect(await a.call('inc', 1)).toBe(21);
    await rejection(a.call('inc', 'oops'));
    await rejection(a.call('missing'));
    expect(await a.call('inc', 1)).toBe(22);
    expect(await b.call('inc', 2)).toBe(22);
  });
});
