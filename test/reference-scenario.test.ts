import { describe, expect, it } from 'vitest';
import { OutputCollector, REACTOR } from './helpers/fixtures.js';
import { createPool } from './helpers/pool.js';

describe('the reference scenario', () => {
  it('runs _initialize once, then inc(1) = 21 and inc(21) = 42 on the same live instance', async () => {
    const stderr = new OutputCollector();
    const pool = await createPool({ module: REACTOR, workers: 1, stderr: stderr.callback });
    const session = pool.session('seed');
    expect(await session.call('inc', 1)).toBe(21);
    expect(await session.call('inc', 21)).toBe(42);
    expect(stderr.of('seed')).toBe('s = 20\n');
  });

  it('follows the contract: sessions, callMany in order, reset, close', async () => {
    const pool = await createPool({ module: REACTOR, workers: 2, isolation: 'session' });
    const alice = pool.session('alice');
    expect(await alice.call('inc', 1)).toBe(21);
    expect(await alice.call('inc', 21)).toBe(42);
    expect(await pool.session('bob').call('inc', 1)).toBe(21);
    expect(await alice.callMany('inc', [1, 2, 3])).toEqual([43, 45, 48]);
    await alice.reset();
    expect(await alice.call('inc', 1)).toBe(21);
    await pool.close();
  });

  it('accepts the module as bytes, an ArrayBuffer, a file URL and a compiled module', async () => {
    const { readFile } = await import('node:fs/promises');
    const { pathToFileURL } = await import('node:url');
    const bytes = await readFile(REACTOR);
    const inputs = [
      new Uint8Array(bytes),
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
      pathToFileURL(REACTOR),
      await WebAssembly.compile(bytes),
    ];
    for (const module of inputs) {
      const pool = await createPool({ module, workers: 1 });
      const session = pool.session('k');
      expect(await session.call('inc', 1)).toBe(21);
      expect(await session.call('inc', 21)).toBe(42);
    }
  });
});
