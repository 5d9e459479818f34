// maxInstances: the pool holds at most that many live instances. A call that would start one more
// rejects at once with ERR_INSTANCE_LIMIT (retryable); nothing runs, no session is lost, and the
// count stays exact through closes, losses, resets and dead workers.

import { describe, expect, it } from 'vitest';
import { InstanceLimitError, ReactorPool, type Session } from '../dist/src/index.js';
import { seeded } from '../dist/src/seeded-random.js';
import { KITCHEN, OutputCollector } from './helpers/fixtures.js';
import { createPool, keysOn, rejection, terminateWorker } from './helpers/pool.js';

describe('maxInstances', () => {
  it('refuses the start past the cap at once; the others keep their state; a close makes room', async () => {
    const started = new OutputCollector();
    const pool = await createPool({ module: KITCHEN, workers: 2, maxInstances: 3, maxActiveSessions: Infinity, stderr: started.callback });
    const [a, b, c] = ['a', 'b', 'c'].map((key) => pool.session(key)) as [Session, Session, Session];
    expect(await Promise.all([a.call('inc', 1), b.call('inc', 2), c.call('inc', 3)])).toEqual([21, 22, 23]);
    expect(pool.stats().instances).toBe(3);

    const d = pool.session('d');
    const refused = d.call('inc', 4);
    expect(pool.stats().pending).toBe(0); // refused before anything was queued
    const error = await rejection(refused);
    expect(error).toBeInstanceOf(InstanceLimitError);
    expect(error).toMatchObject({ code: 'ERR_INSTANCE_LIMIT', retryable: true, limit: 3, sessionKey: 'd' });
    expect((await rejection(d.callMany('inc', [1, 2]))).code).toBe('ERR_INSTANCE_LIMIT');
    expect((await rejection(d.reset())).code).toBe('ERR_INSTANCE_LIMIT');
    expect(d.lost).toBe(false);
    expect(started.of('d')).toBe(''); // its `_initialize` never ran
    expect(pool.stats()).toMatchObject({ instances: 3, lostSessions: 0, pending: 0 });

    // A reset replaces an instance (one out, one in): allowed at the cap.
    await b.reset();
    expect(await Promise.all([a.call('inc', 0), b.call('inc', 0), c.call('inc', 0)])).toEqual([21, 20, 23]);

    await a.close();
    expect(pool.stats().instances).toBe(2);
    expect(await d.call('inc', 4)).toBe(24);
    expect(pool.stats().instances).toBe(3);
    expect((await rejection(pool.session('a').call('inc', 1))).code).toBe('ERR_INSTANCE_LIMIT');
  });

  it('frees the places of lost sessions, and counts their reset again', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 1, maxInstances: 2, maxActiveSessions: Infinity, onTrap: 'lose' });
    const [a, b, c] = ['a', 'b', 'c'].map((key) => pool.session(key)) as [Session, Session, Session];
    await a.call('inc', 1);
    await b.call('inc', 1);
    expect((await rejection(a.call('boom'))).code).toBe('ERR_REACTOR_TRAP');
    expect(pool.stats().instances).toBe(1);
    expect(await c.call('inc', 5)).toBe(25);
    const refused = await rejection(a.reset());
    expect(refused.code).toBe('ERR_INSTANCE_LIMIT');
    expect(a.lost).toBe(true); // still lost, as before the refused reset
    await c.close();
    await a.reset();
    expect(await a.call('inc', 2)).toBe(22);
    expect(pool.stats().instances).toBe(2);
  });

  it("with isolation 'worker', counts one instance per worker", async () => {
    const pool = await createPool({ module: KITCHEN, workers: 2, isolation: 'worker', maxInstances: 1 });
    const [first, second] = keysOn(pool, 0, 2, 'w0-').map((key) => pool.session(key)) as [Session, Session];
    const elsewhere = pool.session(keysOn(pool, 1, 1, 'w1-')[0] as string);
    expect(await first.call('inc', 1)).toBe(21);
    expect(await second.call('inc', 1)).toBe(22);
    expect(pool.stats().instances).toBe(1);
    expect((await rejection(elsewhere.call('inc', 1))).code).toBe('ERR_INSTANCE_LIMIT');
    await pool.recycleWorker(0);
    expect(pool.stats().instances).toBe(0);
    expect(await elsewhere.call('inc', 1)).toBe(21);
  });

  it('refuses a maxInstances that is not a positive integer or Infinity', async () => {
    for (const bad of [0, -1, 2.5, '10', null]) {
      const error = await rejection(ReactorPool.create({ module: KITCHEN, workers: 1, maxInstances: bad as number }));
      expect(error.code).toBe('ERR_INVALID_OPTION');
      expect(error.message).toContain('maxInstances');
    }
  });
});

/** What the model knows of a key: no instance yet, a live one with its running total, or lost. */
type KeyState = { readonly kind: 'none' } | { readonly kind: 'live'; total: number } | { readonly kind: 'lost' };

describe('maxInstances: the count stays exact (seeded random open/close/lose/reset/kill against a model)', () => {
  const SEED = Number(process.env['INSTANCE_LIMIT_SEED'] ?? 7);
  const CAP = 4;
  const KEYS = Array.from({ length: 12 }, (_, i) => `k${i}`);
  // Weighted so that the cap is often reached between the events that free places.
  const ACTIONS = [...Array<'call'>(8).fill('call'), 'boom', 'reset', 'reset', 'close', 'close', 'kill'] as const;

  it(`seed ${SEED}`, async () => {
    const pool = await createPool({ module: KITCHEN, workers: 2, maxInstances: CAP, maxActiveSessions: Infinity, onTrap: 'lose', maxRestarts: 1_000 });
    const next = seeded(SEED);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
    const model = new Map<string, KeyState>(KEYS.map((key) => [key, { kind: 'none' }]));
    const live = (): number => [...model.values()].filter((state) => state.kind === 'live').length;
    const outcome = async (promise: Promise<unknown>): Promise<unknown> => {
      try {
        return await promise;
      } catch (error) {
        return (error as { code: string }).code;
      }
    };
    const steps: string[] = [];
    const seen = { refused: 0, lost: 0, kills: 0, closes: 0 };

    for (let step = 0; step < 300; step++) {
      const key = pick(KEYS);
      const state = model.get(key) as KeyState;
      const session = pool.session(key);
      const action = pick(ACTIONS);
      steps.push(`${action} ${key}`);
      const full = live() >= CAP;
      if (action === 'call') {
        const n = 1 + Math.floor(next() * 9);
        const got = await outcome(session.call('inc', n));
        if (state.kind === 'lost') expect(got).toBe('ERR_SESSION_LOST');
        else if (state.kind === 'live') expect(got).toBe((state.total += n));
        else if (full) {
          expect(got).toBe('ERR_INSTANCE_LIMIT');
          seen.refused++;
        } else {
          expect(got).toBe(20 + n);
          model.set(key, { kind: 'live', total: 20 + n });
        }
      } else if (action === 'boom') {
        const got = await outcome(session.call('boom'));
        if (state.kind === 'lost') expect(got).toBe('ERR_SESSION_LOST');
        else if (state.kind === 'none' && full) expect(got).toBe('ERR_INSTANCE_LIMIT');
        else {
          expect(got).toBe('ERR_REACTOR_TRAP');
          model.set(key, { kind: 'lost' });
          seen.lost++;
        }
      } else if (action === 'reset') {
        const got = await outcome(session.reset());
        if (state.kind !== 'live' && full) expect(got).toBe('ERR_INSTANCE_LIMIT');
        else {
          expect(got).toBeUndefined();
          model.set(key, { kind: 'live', total: 20 });
        }
      } else if (action === 'close') {
        await session.close();
        model.set(key, { kind: 'none' });
        seen.closes++;
      } else {
        const worker = session.workerId;
        const replaced = new Promise((resolve) => pool.once('workerFailed', resolve));
        await terminateWorker(pool, worker);
        await replaced;
        seen.kills++;
        for (const other of KEYS) {
          if (model.get(other)?.kind === 'live' && pool.session(other).workerId === worker) model.set(other, { kind: 'lost' });
        }
      }
      const stats = pool.stats();
      expect({ step, instances: stats.instances, lost: stats.lostSessions, pending: stats.pending }, steps.slice(-5).join(', '))
        .toEqual({ step, instances: live(), lost: [...model.values()].filter((s) => s.kind === 'lost').length, pending: 0 });
    }
    // The run went through every kind of event, the cap included.
    for (const count of Object.values(seen)) expect(count).toBeGreaterThan(3);
  });
});
