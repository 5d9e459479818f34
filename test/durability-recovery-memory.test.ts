// Durability and memoryLimit: the call that grew an instance past the limit rejects with ERR_MEMORY_LIMIT
// and is not acknowledged; the session is rebuilt to just before it (state and memory size) and continues.

import { describe, expect, it } from 'vitest';
import type { SessionLostEvent } from '../dist/src/index.js';
import { durableDir } from './helpers/durable-dir.js';
import { KITCHEN } from './helpers/fixtures.js';
import type { KitchenExports } from './fixtures/kitchen.exports.js';
import { IncModel } from './helpers/inc-model.js';
import { createPool, rejection } from './helpers/pool.js';

const PAGE = 65_536;

describe('durability: a memory-limit breach', () => {
  it('rejects ERR_MEMORY_LIMIT; the session continues from before it, with the memory it had', async () => {
    const dir = await durableDir();
    const pool = await createPool<KitchenExports>({ module: KITCHEN, workers: 1, memoryLimit: 4 * PAGE, durability: { dir } });
    const lost: SessionLostEvent[] = [];
    pool.on('sessionLost', (event) => lost.push(event));
    const greedy = pool.session('greedy');
    const modest = pool.session('modest');
    expect(await greedy.call('inc', 1)).toBe(21);
    expect(await modest.call('inc', 2)).toBe(22);
    const initialPages = await greedy.call('grow', 0);
    expect(await greedy.call('grow', 4 - initialPages)).toBe(initialPages);
    expect(await greedy.call('inc', 1)).toBe(22);

    const model = new IncModel();
    model.assume('greedy', 22);
    model.assume('modest', 22);
    // The breach, with calls behind it on the same session and on another one (one batch).
    const crossing = greedy.call('grow', 1);
    void model.send(greedy, 3);
    void model.send(modest, 4);
    const error = await rejection(crossing);
    expect(error).toMatchObject({ code: 'ERR_MEMORY_LIMIT', sessionKey: 'greedy', exportName: 'grow', limit: 4 * PAGE });

    await model.verify(pool);
    expect(model.mismatches).toEqual([]);
    expect(model.rejections.has('ERR_SESSION_LOST')).toBe(false);
    expect(greedy.lost).toBe(false);
    expect(lost).toEqual([]);
    expect(pool.stats().lostSessions).toBe(0);
    // Rebuilt with the memory its acknowledged calls grew, not the page the breach added.
    expect(await greedy.call('grow', 0)).toBe(4);
    // The limit still holds on the rebuilt instance, and a breach again loses nothing.
    expect((await rejection(greedy.call('grow', 1))).code).toBe('ERR_MEMORY_LIMIT');
    expect(await greedy.call('inc', 0)).toBe(model.valueOf('greedy'));
    expect(await modest.call('inc', 0)).toBe(model.valueOf('modest'));
    expect(lost).toEqual([]);
  });
});
