// Host functions: a plug-in's imports outside WASI are served by the `hostFunctions` module, each call
// with a context naming the calling session (with isolation 'worker' too, where one instance serves many).

import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fixture } from './helpers/fixtures.js';
import { createPool } from './helpers/pool.js';
import { asNumber } from './helpers/results.js';

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

  it('a snapshot restored into another session, and a hibernated session woken, call the host with their own key', async () => {
    const pool = await createPool({ module: MODULE, workers: 2, hostFunctions: HOST, idleTimeout: 1 });
    const hibernated = new Promise<void>((resolve) => {
      pool.on('sessionHibernated', (event) => {
        if (event.key === 'source') resolve();
      });
    });
    const source = pool.session('source');
    expect(await source.call('fill', 2)).toBeGreaterThan(0);
    const state = asNumber(await source.call('state'));
    const copy = pool.session('the-copy');
    await copy.restore(await source.snapshot());
    expect(await copy.call('state')).toBe(state);
    expect(await copy.call('key_len')).toBe('the-copy'.length);
    expect(await copy.with({ result: 'string' }).call('greet', 'me')).toBe('hello me from the-copy');
    await hibernated;
    expect(await source.call('key_len')).toBe('source'.length);
    expect(await source.call('state')).toBe(state);
  });
});
