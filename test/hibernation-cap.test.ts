// maxActiveSessions: past it the least recently used idle sessions hibernate (a second chance for one
// used since the clock hand last passed); at the hard cap `maxInstances` a start waits for room rather
// than failing, unless `maxActiveSessions: Infinity` turned hibernation by count off.

import { describe, expect, it } from 'vitest';
import type { Session } from '../dist/src/index.js';
import { KITCHEN, REACTOR } from './helpers/fixtures.js';
import { nextEvent, until } from './helpers/pool-events.js';
import { createPool, rejection } from './helpers/pool.js';

const keys = (count: number, prefix: string): string[] => Array.from({ length: count }, (_, i) => `${prefix}${i}`);

describe('maxActiveSessions', () => {
  it('keeps every state exact while many more sessions than the cap take turns, and settles at the cap', async () => {
    const CAP = 4;
    const all = keys(60, 's');
    const pool = await createPool({ module: REACTOR, workers: 2, maxActiveSessions: CAP });
    const sessions = all.map((key) => pool.session(key));
    // All in one tick: most starts find every active session busy, and hibernate them once idle.
    expect(await Promise.all(sessions.map((session, i) => session.call('inc', i)))).toEqual(all.map((_, i) => 20 + i));
    expect(await Promise.all(sessions.map((session, i) => session.call('inc', i)))).toEqual(all.map((_, i) => 20 + 2 * i));
    await until(pool, () => pool.stats().activeSessions <= CAP, `activeSessions at most ${CAP}`);
    // Read back one at a time: each wake pushes another session out.
    for (const [i, session] of sessions.entries()) expect(await session.call('inc', 0)).toBe(20 + 2 * i);
    await until(pool, () => pool.stats().activeSessions <= CAP, `activeSessions at most ${CAP}`);
    const stats = pool.stats();
    expect(stats.hibernatedSessions + stats.activeSessions).toBe(all.length);
    expect(stats.instances).toBe(stats.activeSessions);
    expect(sessions.filter((session) => session.hibernated)).toHaveLength(stats.hibernatedSessions);
  });

  it('hibernates the least recently used idle session, giving a used one a second chance', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1, maxActiveSessions: 3 });
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((key) => pool.session(key)) as [Session, Session, Session, Session];
    for (const session of [a, b, c]) await session.call('inc', 1);
    await a.call('inc', 1); // a is used again: b is now the least recently used
    const hibernated = nextEvent(pool, 'sessionHibernated');
    expect(await d.call('inc', 1)).toBe(21);
    expect((await hibernated).key).toBe('b');
    expect([a, b, c, d].map((session) => session.hibernated)).toEqual([false, true, false, false]);
    expect(await Promise.all([a, b, c, d].map((session) => session.call('inc', 0)))).toEqual([22, 21, 21, 21]);
  });

  it('makes starts at maxInstances wait for room: no ERR_INSTANCE_LIMIT, every state exact', async () => {
    const all = keys(50, 's');
    const pool = await createPool({ module: REACTOR, workers: 2, maxInstances: 4, maxActiveSessions: 2 });
    const sessions = all.map((key) => pool.session(key));
    const first = await Promise.allSettled(sessions.map((session, i) => session.call('inc', i)));
    expect(first.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : (outcome.reason as { code: string }).code)))
      .toEqual(all.map((_, i) => 20 + i));
    const again = await Promise.allSettled(sessions.map((session, i) => session.callMany('inc', [i, 0])));
    expect(again.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : (outcome.reason as { code: string }).code)))
      .toEqual(all.map((_, i) => [20 + 2 * i, 20 + 2 * i]));
    expect(pool.stats().instances).toBeLessThanOrEqual(4);
    await until(pool, () => pool.stats().activeSessions <= 2, 'activeSessions at most 2');
    expect(pool.stats().hibernatedSessions).toBe(48);
  });

  it('makes a start at maxInstances wait while the only active session is busy, until its place frees', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 1, maxInstances: 1, callTimeout: 200 });
    const [a, b] = [pool.session('a'), pool.session('b')];
    const spinning = rejection(a.call('spin'));
    const waiting = b.call('inc', 1);
    // a's call ends only by its timeout, which loses a: its place is b's.
    expect((await spinning).code).toBe('ERR_CALL_TIMEOUT');
    expect(await waiting).toBe(21);
    expect(pool.stats()).toMatchObject({ instances: 1, activeSessions: 1, lostSessions: 1 });
  });

  it('settles a start waiting for room when the pool is destroyed', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 1, maxInstances: 1 });
    const [a, b] = [pool.session('a'), pool.session('b')];
    const spinning = rejection(a.call('spin'));
    const waiting = rejection(b.call('inc', 1));
    await pool.destroy();
    expect((await spinning).code).toBe('ERR_POOL_CLOSED');
    expect((await waiting).code).toBe('ERR_POOL_CLOSED');
  });

  it('by default hibernates within maxInstances: a start at the cap waits for the least recently used to hibernate', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1, maxInstances: 2 });
    const [a, b, c] = ['a', 'b', 'c'].map((key) => pool.session(key)) as [Session, Session, Session];
    expect(await a.call('inc', 1)).toBe(21);
    expect(await b.call('inc', 2)).toBe(22);
    expect(await c.call('inc', 3)).toBe(23);
    expect(a.hibernated).toBe(true);
    expect(pool.stats()).toMatchObject({ instances: 2, activeSessions: 2, hibernatedSessions: 1 });
    expect(await a.call('inc', 0)).toBe(21);
    expect(b.hibernated).toBe(true);
  });

  it('with maxActiveSessions: Infinity, refuses a start past maxInstances as without hibernation', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1, maxInstances: 2, maxActiveSessions: Infinity });
    const [a, b, c] = ['a', 'b', 'c'].map((key) => pool.session(key)) as [Session, Session, Session];
    expect(await Promise.all([a.call('inc', 1), b.call('inc', 2)])).toEqual([21, 22]);
    const error = await rejection(c.call('inc', 3));
    expect(error).toMatchObject({ code: 'ERR_INSTANCE_LIMIT', sessionKey: 'c' });
    expect([a.hibernated, b.hibernated, c.hibernated]).toEqual([false, false, false]);
    expect(pool.stats()).toMatchObject({ instances: 2, activeSessions: 2, hibernatedSessions: 0 });
  });
});
