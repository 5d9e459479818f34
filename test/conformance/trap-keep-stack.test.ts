// Conformance: onTrap 'keep' keeps C, Rust and Zig reactors usable through many traps deep in
// their stacks: the pool finds each one's stack pointer and puts it back after every trap.

import { describe, expect, it } from 'vitest';
import { createPool, rejection } from '../helpers/pool.js';
import { MODULES } from './modules.js';

// 200 traps 8 frames of 1 KiB down: 1.6 MiB of stack leaked without the restore, the stack is 64 KiB.
const TRAPS = 200;
const DEPTH = 8;

describe.each(MODULES.filter((m) => !m.trapBreaksRuntime))('$name reactor', (module) => {
  it(`stays usable, its stack where it was, after ${TRAPS} kept traps ${DEPTH} frames deep`, async () => {
    const pool = await createPool({ module: module.path, workers: 1 });
    expect(pool.spec.stackPointer).toMatchObject({ found: true, index: 0 });
    const session = pool.session('deep');
    const frame = await session.call('frame');
    for (let i = 0; i < TRAPS; i++) {
      expect((await rejection(session.call('crash', DEPTH))).code).toBe('ERR_REACTOR_TRAP');
      expect((await rejection(session.call('boom'))).code).toBe('ERR_REACTOR_TRAP');
    }
    expect(await session.call('frame')).toBe(frame);
    expect(await session.call('inc', 0)).toBe(20 + TRAPS * 1000);
    expect(await session.with({ result: 'string' }).call('greet', 'again')).toBe('hello, again!');
    const before = await session.call('allocated');
    expect(await session.with({ result: 'bytes' }).callMany('reverse', [new Uint8Array([1, 2]), new Uint8Array(0)]))
      .toEqual([new Uint8Array([2, 1]), new Uint8Array(0)]);
    expect(await session.call('allocated')).toBe(before);
  });
});
