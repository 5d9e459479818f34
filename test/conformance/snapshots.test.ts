// Conformance: every toolchain's reactor continues exactly from a snapshot, on another worker and in
// another pool: its counter, its allocator (bytes and strings still round-trip), its runtime (Go's
// globals are restored with its memory), and `_initialize` does not run again.

import { describe, expect, it } from 'vitest';
import { OutputCollector } from '../helpers/fixtures.js';
import { createPool, keysOn } from '../helpers/pool.js';
import { MODULES } from './modules.js';

describe.each(MODULES)('$name reactor', (module) => {
  it('can be snapshotted', async () => {
    const pool = await createPool({ module: module.path, workers: 1 });
    expect(pool.spec.snapshot).toEqual({ possible: true, reasons: [] });
  });

  it('continues exactly on another worker, with bytes and strings still working', async () => {
    const stdout = new OutputCollector();
    const pool = await createPool({ module: module.path, workers: 2, stdout: stdout.callback, stderr: stdout.callback });
    const a = pool.session('a');
    expect(await a.callMany('inc', [1, 2])).toEqual([21, 23]);
    expect(await a.with({ result: 'string' }).call('greet', 'Ada')).toBe('hello, Ada!');
    const bytes = await a.snapshot();
    const [key] = keysOn(pool, a.workerId === 0 ? 1 : 0, 1, 'moved-');
    const b = pool.session(key as string);
    await b.restore(bytes);
    expect(b.workerId).not.toBe(a.workerId);
    expect(await b.call('inc', 1)).toBe(24);
    expect(await b.with({ result: 'string' }).call('greet', 'Zoë 🌍')).toBe('hello, Zoë 🌍!');
    expect(await b.call('total', new Uint8Array([1, 2, 3]))).toBe(6);
    const reversed = await b.with({ result: 'bytes' }).call('reverse', new Uint8Array([1, 2, 3]));
    expect([...reversed]).toEqual([3, 2, 1]);
    // The original is untouched, and the restored session printed nothing of a start.
    expect(await a.call('inc', 0)).toBe(23);
    expect(stdout.of(key as string)).toBe('');
  });

  it('restores into a fresh pool, and a snapshot of the restored session restores too', async () => {
    const one = await createPool({ module: module.path, workers: 1 });
    const a = one.session('a');
    await a.call('inc', 5);
    const first = await a.snapshot();
    await one.close();
    const two = await createPool({ module: module.path, workers: 1 });
    const b = two.session('b');
    await b.restore(first);
    expect(await b.call('inc', 5)).toBe(30);
    const second = await b.snapshot();
    const c = two.session('c');
    await c.restore(second);
    expect(await c.call('inc', 1)).toBe(31);
    expect(await b.call('inc', 0)).toBe(30);
  });
});
