// Host functions: a plug-in's imports outside WASI are served by the `hostFunctions` module, each call
// with a context naming the calling session (with isolation 'worker' too, where one instance serves many).

import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fixture } from './helpers/fixtures.js';
import { createPool } from './helpers/pool.js';

const MODULE = fixture('host-functions.wasm');
const HOST = fixture('host-functions.mjs');

describe('host functions: calls', () => {
  it('calls the host function the module imports, with its arguments, and returns its result', async () => {
    const pool = await createPool({ module: MODULE, workers: 2, hostFunctions: HOST });
    const session = pool.session('a');
    expect(await session.call('add', 2, 3)).toBe(5);
    expect(await session.call('add', 0x7fffffff, 1)).toBe(-0x80000000);
    expect(await session.call('bump', 10)).toBeGreaterThan(10);
  });

  it('accepts a file: URL too', async () => {
    const pool = await createPool({ module: MODULE, workers: 1, hostFunctions: pathToFileURL(HOST) });
    expect(await pool.session('a').call('add', 40, 2)).toBe(42);
  });

  for (const isolation of ['session', 'worker'] as const) {
    it(`gives each call its own session's key (isolation '${isolation}')`, async () => {
      const pool = await createPool({ module: MODULE, workers: 2, isolation, hostFunctions: HOST });
      const keys = ['k', 'key-22', 'a-much-longer-session-key', 'é'];
      // Interleaved on the same workers: each call sees its own key, never the previous call's.
      const lengths = await Promise.all(keys.flatMap((key) => [pool.session(key).call('key_len'), pool.session(key).call('key_len')]));
      expect(lengths).toEqual(keys.flatMap((key) => [key.length, key.length]));
      const greeting = await pool.session('é').with({ result: 'string' }).call('greet', 'world');
      expect(greeting).toBe('hello world from é');
    });
  }
});
