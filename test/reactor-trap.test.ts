import { describe, expect, it } from 'vitest';
import { ReactorTrapError } from '../dist/src/index.js';
import { KITCHEN } from './helpers/fixtures.js';
import { createPool, rejection } from './helpers/pool.js';

describe('ERR_REACTOR_TRAP', () => {
  it('rejects the trapping call with the export name and trap message, and keeps the instance', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 2 });
    const a = pool.session('a');
    const b = pool.session('b');
    expect(await a.call('inc', 1)).toBe(21);
    expect(await b.call('inc', 5)).toBe(25);
    const error = await rejection(a.call('boom'));
    expect(error).toBeInstanceOf(ReactorTrapError);
    expect(error.code).toBe('ERR_REACTOR_TRAP');
    expect(error['exportName']).toBe('boom');
    expect(error['sessionKey']).toBe('a');
    expect(error.message).toMatch(/`boom`.*trapped: unreachable/);
    // boom adds 1000 before trapping: writes made before a trap persist, and the session goes on.
    expect(a.lost).toBe(false);
    expect(await a.call('inc', 0)).toBe(1021);
    expect(await b.call('inc', 0)).toBe(25);
  });

  it('stops callMany at the trapping item and says how many completed', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 1 });
    const s = pool.session('s');
    const error = await rejection(s.callMany('boom', [[], [], []]));
    expect(error.code).toBe('ERR_REACTOR_TRAP');
    expect(error['completed']).toBe(0);
    expect(error.message).toMatch(/call 0 of 3 in callMany/);
    // Only the first boom ran (it adds 1000, then traps).
    expect(await s.call('get')).toBe(1020);
  });

  it('traps in calls queued behind each other do not disturb the calls around them', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 1 });
    const s = pool.session('s');
    const results = await Promise.allSettled([s.call('inc', 1), s.call('boom'), s.call('inc', 1)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[2] as PromiseFulfilledResult<number>).value).toBe(1022);
  });
});
