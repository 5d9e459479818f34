// Conformance: bytes and strings round-trip through every toolchain's reactor and allocator
// convention (malloc/free, alloc/dealloc, cabi_realloc), and the pool frees what it allocates.

import { describe, expect, it } from 'vitest';
import { createPool } from '../helpers/pool.js';
import { asNumber } from '../helpers/results.js';
import { MODULES } from './modules.js';

describe.each(MODULES)('$name reactor', (module) => {
  it(`is detected as exporting ${module.allocator}`, async () => {
    const pool = await createPool({ module: module.path, workers: 1 });
    expect(pool.allocator).toBe(module.allocator);
  });

  it('takes bytes and strings in and gives them back, in call and callMany', async () => {
    const pool = await createPool({ module: module.path, workers: 1 });
    const session = pool.session('buffers');
    expect(await session.call('total', new Uint8Array([1, 2, 3, 250]))).toBe(256);
    expect(await session.call('total', '')).toBe(0);
    const reversed = await session.with({ result: 'bytes' }).call('reverse', new Uint8Array([1, 2, 3]));
    expect([...reversed]).toEqual([3, 2, 1]);
    const greet = session.with({ result: 'string' });
    expect(await greet.call('greet', 'Ada')).toBe('hello, Ada!');
    expect(await greet.call('greet', 'Zoë 🌍')).toBe('hello, Zoë 🌍!');
    expect(await greet.callMany('greet', ['a', ['b'], ''])).toEqual(['hello, a!', 'hello, b!', 'hello, !']);
    const big = new Uint8Array(100_000).map((_, i) => i % 251);
    const back = await session.with({ result: 'bytes' }).call('reverse', big);
    expect(back.length).toBe(big.length);
    expect(back[0]).toBe(big[big.length - 1]);
    // State is untouched by buffer calls and the instance still works.
    expect(await session.call('inc', 1)).toBe(21);
  });

  it('frees what it allocates (and, where the allocator can, what it is returned)', async () => {
    const pool = await createPool({ module: module.path, workers: 1 });
    const session = pool.session('leaks');
    await session.call('total', 'warm-up');
    await session.with({ result: 'string' }).call('greet', 'warm-up');
    const baseline = asNumber(await session.call('allocated'));
    for (let i = 0; i < 50; i++) {
      await session.call('total', 'x'.repeat(i));
      await session.with({ result: 'string' }).call('greet', 'y'.repeat(i));
      await session.with({ result: 'bytes' }).call('reverse', new Uint8Array(i));
    }
    const after = asNumber(await session.call('allocated'));
    if (module.freesResults) expect(after).toBe(baseline);
    else expect(after).toBeLessThanOrEqual(baseline + 2 * 49); // one scratch buffer, grown to the largest input
  });

  it('frees empty results too: a thousand of them leave allocated() at its baseline', async () => {
    const pool = await createPool({ module: module.path, workers: 1 });
    const session = pool.session('empty');
    const bytes = session.with({ result: 'bytes' });
    await bytes.call('reverse', 'warm-up');
    const baseline = await session.call('allocated');
    for (let i = 0; i < 1_000; i++) expect((await bytes.call('reverse', '')).length).toBe(0);
    const many = await bytes.callMany('reverse', Array.from({ length: 1_000 }, () => new Uint8Array(0)));
    expect(many.every((r) => r.length === 0)).toBe(true);
    expect(await session.call('allocated')).toBe(baseline);
  });
});
