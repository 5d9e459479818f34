// pool.close() while sessions hibernate, wake or wait for room: every operation accepted before the
// close settles with its exact result (held operations are drained, not dropped), later ones are
// refused, and the store is left holding only the sessions still hibernated.

import { describe, expect, it } from 'vitest';
import type { Session } from '../dist/src/index.js';
import { seeded } from '../dist/src/seeded-random.js';
import { CountingStore, hold } from './helpers/counting-store.js';
import { REACTOR } from './helpers/fixtures.js';
import { nextEvent } from './helpers/pool-events.js';
import { createPool, rejection } from './helpers/pool.js';

describe('close() during hibernation', () => {
  it('drains calls held behind a wake and behind a hibernation under way', async () => {
    const store = new CountingStore();
    const pool = await createPool({ module: REACTOR, workers: 1, maxActiveSessions: 1, store });
    const [a, b] = [pool.session('a'), pool.session('b')];
    await a.call('inc', 1);
    const hibernated = nextEvent(pool, 'sessionHibernated');
    await b.call('inc', 2);
    expect((await hibernated).key).toBe('a');

    const reading = hold();
    const writing = hold();
    store.interfere('get', 'a', reading.promise);
    store.interfere('set', 'b', writing.promise);
    // a starts waking (its get held); c's start pushes b out (its set held); calls are made on a and b meanwhile.
    const calls: Promise<unknown>[] = [a.call('inc', 10), a.callMany('inc', [1, 1])];
    await store.called('get', 'a');
    calls.push(pool.session('c').call('inc', 4));
    await store.called('set', 'b');
    calls.push(b.call('inc', 3));
    const closed = pool.close();
    expect((await rejection(a.call('inc', 1))).code).toBe('ERR_POOL_CLOSED');
    expect((await rejection(Promise.resolve().then(() => pool.session('d')))).code).toBe('ERR_POOL_CLOSED');
    writing.release();
    reading.release();
    expect(await Promise.all(calls)).toEqual([31, [32, 33], 24, 25]);
    await closed;
    // b hibernated, then woke for its held call: nothing stale is left in the store.
    expect(store.calls.filter((call) => call.endsWith(' b'))).toEqual(['set b', 'get b', 'delete b']);
    expect([...store.snapshots.keys()]).toEqual([]);
    expect(store.overlaps).toEqual([]);
  });

  it('drains starts waiting for room at maxInstances', async () => {
    const pool = await createPool({ module: REACTOR, workers: 2, maxInstances: 2 });
    const sessions = Array.from({ length: 12 }, (_, i) => pool.session(`s${i}`));
    const calls = sessions.map((session, i) => session.call('inc', i));
    const closed = pool.close();
    expect(await Promise.all(calls)).toEqual(sessions.map((_, i) => 20 + i));
    await closed;
  });

  it('settles every call made before close exactly, for a seeded crowd of sessions hibernating and waking', async () => {
    const next = seeded(Number(process.env['HIBERNATION_CLOSE_SEED'] ?? 5));
    const store = new CountingStore();
    const pool = await createPool({ module: REACTOR, workers: 2, maxActiveSessions: 2, maxInstances: 3, idleTimeout: 0, store });
    const sessions = Array.from({ length: 16 }, (_, i) => pool.session(`s${i}`));
    const totals = sessions.map(() => 20);
    // A first round, so that most sessions are hibernated or hibernating when the second starts.
    await Promise.all(sessions.map((session, i) => session.call('inc', i)));
    totals.forEach((_, i) => { totals[i] = 20 + i; });
    const calls: { promise: Promise<unknown>; expected: number }[] = [];
    for (let op = 0; op < 80; op++) {
      const i = Math.floor(next() * sessions.length);
      const n = 1 + Math.floor(next() * 9);
      calls.push({ promise: (sessions[i] as Session).call('inc', n), expected: (totals[i] = (totals[i] as number) + n) });
    }
    const closed = pool.close();
    expect(await Promise.all(calls.map(({ promise }) => promise))).toEqual(calls.map(({ expected }) => expected));
    await closed;
    expect(store.overlaps).toEqual([]);
    // Only the sessions still hibernated at the end have a snapshot left.
    const hibernated = sessions.filter((session) => session.hibernated).map((session) => session.key).sort();
    expect([...store.snapshots.keys()].sort()).toEqual(hibernated);
  });
});
