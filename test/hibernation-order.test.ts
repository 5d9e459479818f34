// Hibernation is transparent under concurrency: a seeded plan of calls, snapshots, restores, resets
// and closes, issued a round at a time in one tick across many sessions, with a small active cap, a
// tiny idleTimeout and a tight maxInstances (so sessions hibernate and wake all through, and operations
// land on sessions hibernated or being hibernated), settles every operation as a model says, per
// session in order; the store ends holding exactly the hibernated sessions, never called twice at once for a key.

import { describe, expect, it } from 'vitest';
import type { Session } from '../dist/src/index.js';
import { seeded } from '../dist/src/seeded-random.js';
import { CountingStore } from './helpers/counting-store.js';
import { REACTOR } from './helpers/fixtures.js';
import { until } from './helpers/pool-events.js';
import { createPool } from './helpers/pool.js';

const SEED = Number(process.env['HIBERNATION_ORDER_SEED'] ?? 20_240_611);
const KEYS = Array.from({ length: 12 }, (_, i) => `k${i}`);
const ROUNDS = 40;
const OPS_PER_ROUND = 24;
const CAP = 3;
const ACTIONS = ['inc', 'inc', 'inc', 'inc', 'inc', 'callMany', 'callMany', 'snapshot', 'snapshot', 'restore', 'restore', 'reset', 'close'] as const;

interface KeyModel {
  /** The state of its instance; undefined before its first operation (it starts at 20 then). */
  total: number | undefined;
}

interface Snapshot {
  readonly bytes: Uint8Array;
  readonly total: number;
}

/** What an operation settled with: its value, or its error's code. */
async function outcome(promise: Promise<unknown>): Promise<unknown> {
  try {
    return await promise;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

describe('hibernation under concurrency', () => {
  it(`keeps every outcome and each session's order (seed ${SEED})`, async () => {
    const store = new CountingStore();
    const pool = await createPool({ module: REACTOR, workers: 2, maxActiveSessions: CAP, maxInstances: CAP + 2, idleTimeout: 1, store });
    const seen = { hibernated: 0, restored: 0, onHibernated: 0 };
    pool.on('sessionHibernated', () => seen.hibernated++);
    pool.on('sessionRestored', () => seen.restored++);
    const next = seeded(SEED);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
    const amount = (): number => 1 + Math.floor(next() * 50);
    const model = new Map<string, KeyModel>(KEYS.map((key) => [key, { total: undefined }]));
    const snapshots: Snapshot[] = [];

    for (let round = 0; round < ROUNDS; round++) {
      const handles = new Map<string, Session>(KEYS.map((key) => [key, pool.session(key)]));
      const closed = new Set<string>();
      const issued: { what: string; promise: Promise<unknown>; expected: unknown }[] = [];
      const taken: { promise: Promise<unknown>; total: number }[] = [];
      // One tick: nothing below awaits.
      for (let op = 0; op < OPS_PER_ROUND; op++) {
        const key = pick(KEYS);
        const session = handles.get(key) as Session;
        const state = model.get(key) as KeyModel;
        if (session.hibernated) seen.onHibernated++;
        const action = pick(ACTIONS);
        const current = state.total ?? 20;
        const isClosed = closed.has(key);
        let what = `${key} ${action}`;
        let promise: Promise<unknown>;
        let expected: unknown;
        if (action === 'inc') {
          const n = amount();
          what += ` ${n}`;
          promise = session.call('inc', n);
          expected = isClosed ? 'ERR_SESSION_CLOSED' : (state.total = current + n);
        } else if (action === 'callMany') {
          const [n1, n2] = [amount(), amount()];
          what += ` ${n1},${n2}`;
          promise = session.callMany('inc', [n1, n2]);
          expected = isClosed ? 'ERR_SESSION_CLOSED' : [current + n1, (state.total = current + n1 + n2)];
        } else if (action === 'snapshot') {
          const snapshot = session.snapshot();
          promise = snapshot.then((bytes) => bytes instanceof Uint8Array);
          if (isClosed) {
            expected = 'ERR_SESSION_CLOSED';
          } else {
            expected = true;
            state.total = current;
            taken.push({ promise: snapshot, total: current });
          }
        } else if (action === 'restore') {
          const from = snapshots.length === 0 ? undefined : pick(snapshots);
          if (from === undefined) continue;
          what += ` ${from.total}`;
          promise = session.restore(from.bytes);
          expected = isClosed ? 'ERR_SESSION_CLOSED' : ((state.total = from.total), undefined);
        } else if (action === 'reset') {
          promise = session.reset();
          expected = isClosed ? 'ERR_SESSION_CLOSED' : ((state.total = 20), undefined);
        } else {
          promise = session.close();
          expected = undefined;
          closed.add(key);
          state.total = undefined;
        }
        issued.push({ what, promise: outcome(promise), expected });
      }
      const outcomes = await Promise.all(issued.map(({ promise }) => promise));
      issued.forEach(({ what, expected }, i) => {
        expect(outcomes[i], `round ${round}, op ${i}: ${what}`).toEqual(expected);
      });
      for (const { promise, total } of taken) snapshots.push({ bytes: await promise as Uint8Array, total });
    }

    // Everything went through: hibernations, wakes, operations on hibernated sessions.
    expect(seen.hibernated).toBeGreaterThan(ROUNDS);
    expect(seen.restored).toBeGreaterThan(ROUNDS);
    expect(seen.onHibernated).toBeGreaterThan(ROUNDS);

    // Each session reads back its model's state.
    for (const key of KEYS) {
      const { total } = model.get(key) as KeyModel;
      const session = pool.session(key);
      if (total !== undefined) expect(await session.call('inc', 0), key).toBe(total);
    }
    const started = KEYS.filter((key) => model.get(key)?.total !== undefined);
    const hibernatedKeys = (): string[] => started.filter((key) => pool.session(key).hibernated);
    // Idle for a millisecond, every session hibernates: the checks below wait for that quiet end, as
    // a hibernation still under way has its snapshot stored before its session counts as hibernated.
    // Stale snapshots leave the store too (their deletes are not waited for by the operations).
    const storedKeys = (): string => [...store.snapshots.keys()].sort().join();
    const all = [...started].sort().join();
    await until(
      pool,
      () => pool.stats().activeSessions === 0 && hibernatedKeys().sort().join() === all && storedKeys() === all,
      'every session hibernated, and the store holding their snapshots only',
    );
    const stats = pool.stats();
    expect([...store.snapshots.keys()].sort()).toEqual(hibernatedKeys().sort());
    expect(stats.hibernatedSessions).toBe(hibernatedKeys().length);
    expect(stats.activeSessions + stats.hibernatedSessions).toBe(started.length);
    expect(stats.instances).toBe(stats.activeSessions);
    expect(stats.lostSessions).toBe(0);
    expect(store.overlaps).toEqual([]);
  });
});
