import { describe, expect, it } from 'vitest';
import { REACTOR } from './helpers/fixtures.js';
import { createPool } from './helpers/pool.js';

describe("isolation 'session'", () => {
  it('gives every session its own instance, even on the same worker', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1 });
    const keys = ['a', 'b', 'c', 'd'];
    for (const [i, key] of keys.entries()) expect(await pool.session(key).call('inc', i + 1)).toBe(21 + i);
    for (const [i, key] of keys.entries()) expect(await pool.session(key).call('inc', 0)).toBe(21 + i);
  });

  it('returns the same handle for the same key', async () => {
    const pool = await createPool({ module: REACTOR, workers: 2 });
    expect(pool.session('x')).toBe(pool.session('x'));
  });

  it('reset() starts a fresh instance after the calls made before it', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1 });
    const s = pool.session('s');
    const before = s.call('inc', 5);
    const reset = s.reset();
    const after = s.call('inc', 1);
    expect(await before).toBe(25);
    await reset;
    expect(await after).toBe(21);
  });

  it('close() forgets the key: the next handle for it starts from 20', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1 });
    const first = pool.session('k');
    expect(await first.call('inc', 10)).toBe(30);
    await first.close();
    const err = await first.call('inc', 1).catch((e: { code: string }) => e);
    expect(err).toMatchObject({ code: 'ERR_SESSION_CLOSED' });
    const second = pool.session('k');
    expect(second).not.toBe(first);
    expect(await second.call('inc', 1)).toBe(21);
    expect(pool.stats().sessions).toBe(1);
  });
});
