// A host function's context reads and writes the calling instance's memory, bounds-checked (a bad
// pointer is ERR_OUT_OF_BOUNDS, never a host crash), and returns bytes to the guest through its allocator.

import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture } from './helpers/fixtures.js';
import { createPool, rejection } from './helpers/pool.js';
import { asNumber } from './helpers/results.js';

const MODULE = fixture('host-functions.wasm');
const HOST = fixture('host-functions.mjs');

describe('host functions: guest memory', () => {
  it('reads a string from guest memory and returns an allocated answer', async () => {
    const pool = await createPool({ module: MODULE, workers: 1, hostFunctions: HOST });
    const greet = pool.session('ann').with({ result: 'string' });
    expect(await greet.call('greet', 'Bob')).toBe('hello Bob from ann');
    expect(await greet.call('greet', 'Zoë')).toBe('hello Zoë from ann');
  });

  it('writes into guest memory', async () => {
    const pool = await createPool({ module: MODULE, workers: 1, hostFunctions: HOST });
    const sum = asNumber(await pool.session('a').call('fill', 4));
    // 4 bytes of (i + 1 + c), c from 0 to 6: between 10 and 34.
    expect(sum).toBeGreaterThanOrEqual(10);
    expect(sum).toBeLessThanOrEqual(34);
  });

  it('a write past the end of memory is ERR_OUT_OF_BOUNDS, naming the host function, and leaves memory untouched', async () => {
    const pool = await createPool({ module: MODULE, workers: 1, hostFunctions: HOST });
    const session = pool.session('a');
    const pages = 2;
    for (const ptr of [pages * 65536 - 3, -1]) {
      const error = await rejection(session.call('poke', ptr));
      expect(error.code).toBe('ERR_OUT_OF_BOUNDS');
      expect(error.message).toContain('host function `env.fill`');
      expect(error.message).toContain("lies outside the instance's 131072-byte linear memory");
    }
    expect(await session.call('add', 1, 1)).toBe(2);
  });

  it('a read past the end, and an alloc without an allocator or a non-bytes value, are coded errors a host function may catch', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rp-host-'));
    const host = join(dir, 'host.mjs');
    await writeFile(host, `export default { env: {
  add: { params: ['i32', 'i32'], results: ['i32'], call(ctx, ptr, len) {
    try { ctx.read(ptr, len); return 0; } catch (error) { return error.code === 'ERR_OUT_OF_BOUNDS' ? -1 : -2; }
  } },
  noise: { params: [], results: ['i32'], call: (ctx) => ctx.memorySize },
  greet: { params: ['i32', 'i32'], results: ['i64'], call: (ctx) => BigInt(ctx.alloc(42)) },
  fill: { params: ['i32', 'i32'], results: ['i32'], call: (ctx, ptr, len) => ctx.read(ptr, len).length },
  fail: { params: [], results: [], call() {} },
  key_len: { params: [], results: ['i32'], call: () => 0 },
} };`);
    const pool = await createPool({ module: MODULE, workers: 1, hostFunctions: host });
    const session = pool.session('a');
    expect(await session.call('add', 0, 16)).toBe(0);
    expect(await session.call('add', 131072 - 8, 16)).toBe(-1);
    expect(await session.call('bump', 0)).toBe(131072);
    const typed = await rejection(session.call('greet', 0, 0));
    expect(typed.code).toBe('ERR_HOST_FUNCTION_FAILED');
    expect(typed.message).toContain('expected a Uint8Array or a string, got `42` (number)');
  });
});
