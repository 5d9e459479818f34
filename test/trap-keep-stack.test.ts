// onTrap 'keep' is safe for LLVM-style modules: a trap skips the epilogue that raises the stack
// pointer again, so the pool puts it back to its value after `_initialize` after every kept trap.

import { describe, expect, it } from 'vitest';
import { fixture } from './helpers/fixtures.js';
import { createPool, rejection } from './helpers/pool.js';

const STACK_POINTER = fixture('stack-pointer.wasm');
const BUFFERS = fixture('buffers.wasm');
const STACK_FREE = fixture('stack-free.wasm');
// The fixture's 64 KiB stack holds 16 of `crash`'s leaked 4 KiB frames.
const TRAPS = 1_000;

describe("onTrap 'keep' and the stack pointer", () => {
  it('finds the stack pointer by its name in the name section', async () => {
    const pool = await createPool({ module: STACK_POINTER, workers: 1 });
    expect(pool.spec.stackPointer).toMatchObject({ found: true, index: 0, foundBy: 'name' });
  });

  it('1,000 kept traps leave the stack pointer at its initial value and later calls working', async () => {
    const pool = await createPool({ module: STACK_POINTER, workers: 1 });
    const session = pool.session('crashy');
    const top = await session.call('stack_pointer');
    expect(top).toBe(65536);
    for (let i = 0; i < TRAPS; i++) {
      const error = await rejection(session.call('crash'));
      expect(error.code).toBe('ERR_REACTOR_TRAP');
      if (i % 100 === 0) expect(await session.call('echo', i)).toBe(i);
    }
    expect(await session.call('stack_pointer')).toBe(top);
    expect(await session.call('echo', 7)).toBe(7);
  });

  it('restores it after a trap inside callMany', async () => {
    const pool = await createPool({ module: STACK_POINTER, workers: 1 });
    const session = pool.session('many');
    for (let i = 0; i < 40; i++) {
      const error = await rejection(session.callMany('crash', [[], []]));
      expect(error).toMatchObject({ code: 'ERR_REACTOR_TRAP', completed: 0 });
    }
    expect(await session.call('stack_pointer')).toBe(65536);
    expect(await session.callMany('echo', [1, 2, 3])).toEqual([1, 2, 3]);
  });

  it('leaves alone a module whose stack pointer it cannot identify (a bump allocator is not one)', async () => {
    const pool = await createPool({ module: BUFFERS, workers: 1 });
    expect(pool.spec.stackPointer).toMatchObject({ found: false });
    expect(pool.spec.exports.some((e) => e.name.startsWith('__rp_'))).toBe(false);
  });

  it('keeps the old behaviour for a module given compiled, and says so in spec.stackPointer', async () => {
    const { readFile } = await import('node:fs/promises');
    const module = await WebAssembly.compile(await readFile(STACK_POINTER));
    const pool = await createPool({ module, workers: 1 });
    expect(pool.spec.stackPointer).toMatchObject({ found: false });
    const session = pool.session('compiled');
    for (let i = 0; i < 3; i++) await rejection(session.call('crash'));
    expect(await session.call('stack_pointer')).toBe(65536 - 3 * 4096);
  });

  it('puts the stack back before freeing a trapped buffer call\'s inputs, so the free works and nothing leaks', async () => {
    const pool = await createPool({ module: STACK_FREE, workers: 1 });
    expect(pool.allocator).toBe('malloc');
    const session = pool.session('deep');
    for (let i = 0; i < 10; i++) {
      const error = await rejection(session.call('crash_with', new Uint8Array([1, 2, 3])));
      expect(error.code).toBe('ERR_REACTOR_TRAP');
    }
    expect(await session.call('live')).toBe(0);
    expect(await session.call('stack_pointer')).toBe(65536);
  });
});
