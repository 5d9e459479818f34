// A call held while its session wakes (or while it waits for room) honours its AbortSignal as a
// queued call does: it rejects at once with ERR_ABORTED and runs nothing; the session carries on.

import { describe, expect, it } from 'vitest';
import { REACTOR } from './helpers/fixtures.js';
import { CountingStore } from './helpers/counting-store.js';
import { nextEvent } from './helpers/pool-events.js';
import { createPool, rejection } from './helpers/pool.js';

describe('aborting a call held behind a wake', () => {
  it('rejects ERR_ABORTED at once, before the store answers; nothing of it runs', async () => {
    const store = new CountingStore();
    const pool = await createPool({ module: REACTOR, workers: 1, store, idleTimeout: 5 });
    const a = pool.session('a');
    const hibernated = nextEvent(pool, 'sessionHibernated', ({ key }) => key === 'a');
    expect(await a.call('inc', 1)).toBe(21);
    await hibernated;
    let release = (): void => {};
    store.interfere('get', 'a', new Promise<void>((resolve) => { release = resolve; }));
    const controller = new AbortController();
    const held = a.with({ signal: controller.signal }).call('inc', 100);
    await store.called('get', 'a');
    controller.abort(new Error('changed my mind'));
    const error = await rejection(held);
    expect(error.code).toBe('ERR_ABORTED');
    expect(error.message).toMatch(/changed my mind/);
    release();
    // The wake went on: the session is restored, and the aborted call never ran.
    expect(await a.call('inc', 0)).toBe(21);
    expect(pool.stats().pending).toBe(0);
  });
});
