// pool.resize(n): grows or shrinks the pool. Sessions on removed workers move by snapshot (hibernate,
// then wake on a remaining worker) and none is lost, under load; where the pool cannot snapshot they
// are lost by the loss rule. New sessions are placed over the workers that stay.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SessionLostEvent } from '../dist/src/index.js';
import { seeded } from '../dist/src/seeded-random.js';
import { KITCHEN, REACTOR } from './helpers/fixtures.js';
import { createPool, keysOn, rejection } from './helpers/pool.js';

describe('pool.resize', () => {
  it('grows: new sessions are placed on the new workers, the others keep their state', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1 });
    const before = Array.from({ length: 8 }, (_, i) => pool.session(`b${i}`));
    await Promise.all(before.map((s, i) => s.call('inc', i)));
    await pool.resize(3);
    expect(pool.workers).toBe(3);
    expect(pool.stats().sessionsPerWorker).toHaveLength(3);
    const after = Array.from({ length: 30 }, (_, i) => pool.session(`a${i}`));
    expect(new Set(after.map((s) => s.workerId))).toEqual(new Set([0, 1, 2]));
    expect(await Promise.all(after.map((s) => s.call('inc', 1)))).toEqual(after.map(() => 21));
    expect(await Promise.all(before.map((s) => s.call('inc', 0)))).toEqual(before.map((_, i) => 20 + i));
  });

  it('shrinks under load: sessions on removed workers move, none is lost, every result exact (seeded)', async () => {
    const random = seeded(0x2e51);
    const pool = await createPool({ module: REACTOR, workers: 3 });
    const lost: SessionLostEvent[] = [];
    pool.on('sessionLost', (event) => lost.push(event));
    const keys = Array.from({ length: 36 }, (_, i) => `k${i}`);
    const totals = new Map(keys.map((key) => [key, 20]));
    expect(new Set(keys.map((key) => pool.session(key).workerId)).size).toBe(3);
    let running = true;
    let wrong = 0;
    const load = keys.map(async (key) => {
      while (running) {
        const n = Math.floor(random() * 10);
        const expected = (totals.get(key) as number) + n;
        totals.set(key, expected);
        if (await pool.session(key).call('inc', n) !== expected) wrong++;
      }
    });
    await pool.resize(2);
    await pool.resize(1);
    running = false;
    await Promise.all(load);
    expect(wrong).toBe(0);
    expect(lost).toEqual([]);
    expect(pool.workers).toBe(1);
    expect(pool.stats().sessionsPerWorker).toEqual([36]);
    for (const key of keys) {
      const session = pool.session(key);
      expect(await session.call('inc', 0)).toBe(totals.get(key));
      expect(session.workerId).toBe(0);
    }
    // Grown again: worker 0 holds all 36, so the load cap sends new sessions to worker 1.
    await pool.resize(2);
    const fresh = Array.from({ length: 20 }, (_, i) => pool.session(`f${i}`));
    expect(fresh.every((s) => s.workerId === 1)).toBe(true);
    expect(await Promise.all(fresh.map((s) => s.call('inc', 2)))).toEqual(fresh.map(() => 22));
  });

  it('where the pool cannot snapshot, sessions with instances on removed workers are lost, and reset() starts them on a remaining one', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'rp-resize-'));
    try {
      const pool = await createPool({ module: KITCHEN, workers: 2, wasi: { preopens: { '/data': directory } } });
      const [gone] = keysOn(pool, 1, 1, 'g') as [string];
      const [stays] = keysOn(pool, 0, 1, 's') as [string];
      const [idle] = keysOn(pool, 1, 1, 'i') as [string];
      expect(await pool.session(gone).call('inc', 1)).toBe(21);
      expect(await pool.session(stays).call('inc', 2)).toBe(22);
      await pool.resize(1);
      const error = await rejection(pool.session(gone).call('inc', 1));
      expect(error.code).toBe('ERR_SESSION_LOST');
      expect((error.cause as { code?: string }).code).toBe('ERR_WORKER_RECYCLED');
      await pool.session(gone).reset();
      expect(await pool.session(gone).call('inc', 1)).toBe(21);
      expect(pool.session(gone).workerId).toBe(0);
      // A session placed on the removed worker that had not started moves and starts there fresh.
      expect(await pool.session(idle).call('inc', 3)).toBe(23);
      expect(await pool.session(stays).call('inc', 0)).toBe(22);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('refuses a bad count, and shrinking with isolation worker', async () => {
    const pool = await createPool({ module: REACTOR, workers: 2 });
    for (const bad of [0, -1, 1.5, 257, '2', Number.NaN]) {
      const error = await rejection(pool.resize(bad as number));
      expect(error.code).toBe('ERR_INVALID_ARGUMENT');
    }
    const shared = await createPool({ module: REACTOR, workers: 2, isolation: 'worker' });
    expect((await rejection(shared.resize(1))).code).toBe('ERR_INVALID_ARGUMENT');
    await shared.resize(3);
    expect(shared.workers).toBe(3);
  });

  it('close() during a shrink waits for the moves; calls accepted before it settle exactly', async () => {
    const pool = await createPool({ module: REACTOR, workers: 3 });
    const sessions = Array.from({ length: 12 }, (_, i) => pool.session(`z${i}`));
    await Promise.all(sessions.map((s) => s.call('inc', 1)));
    const calls = sessions.map((s) => s.call('inc', 1));
    const shrinking = pool.resize(1);
    const closing = pool.close();
    expect(await Promise.all(calls)).toEqual(sessions.map(() => 22));
    await shrinking;
    await closing;
    expect((await rejection(pool.resize(2))).code).toBe('ERR_POOL_CLOSED');
  });

  it('runs resizes one at a time, in order', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1 });
    const a = pool.session('a');
    await a.call('inc', 5);
    await Promise.all([pool.resize(4), pool.resize(2), pool.resize(3), pool.resize(1)]);
    expect(pool.workers).toBe(1);
    expect(await a.call('inc', 0)).toBe(25);
  });
});
