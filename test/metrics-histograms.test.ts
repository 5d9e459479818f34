// pool.metrics(): calls counted by outcome (settled ones timed, refused ones only counted), call
// duration and queue wait histograms whose cumulative bucket counts agree with their totals, lifecycle
// counts, per-worker figures; and the 1% histogram read at arbitrary bounds. Seeded samples.

import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../dist/src/latency-histogram.js';
import { seeded } from '../dist/src/seeded-random.js';
import { tickNow } from '../dist/src/tick-clock.js';
import { KITCHEN, REACTOR } from './helpers/fixtures.js';
import { createPool, rejection, terminateWorker } from './helpers/pool.js';

describe('the latency histogram read at bounds', () => {
  it('counts each bound within 1% of the exact cumulative count, and keeps sum and count exact', () => {
    const random = seeded(7);
    const histogram = new LatencyHistogram();
    const samples = Array.from({ length: 20_000 }, () => 0.001 * 10 ** (random() * 6));
    for (const ms of samples) histogram.record(ms);
    const bounds = [0.01, 0.025, 0.1, 1, 2.5, 10, 100];
    const snapshot = histogram.snapshot(bounds);
    expect(snapshot.boundsMs).toEqual(bounds);
    expect(snapshot.count).toBe(samples.length);
    expect(snapshot.sumMs).toBeCloseTo(samples.reduce((a, b) => a + b, 0), 6);
    bounds.forEach((bound, i) => {
      const counted = snapshot.counts[i] as number;
      // A sample counts against a bound once its 1% bucket's upper edge is at or below it.
      expect(counted, String(bound)).toBeLessThanOrEqual(samples.filter((ms) => ms <= bound).length);
      expect(counted, String(bound)).toBeGreaterThanOrEqual(samples.filter((ms) => ms <= bound / 1.01).length);
    });
    expect([...snapshot.counts]).toEqual([...snapshot.counts].sort((a, b) => a - b));
    expect(snapshot.p50Ms as number).toBeLessThanOrEqual(snapshot.p99Ms as number);
    expect(snapshot.maxMs).toBe(Math.max(...samples));
  });

  it('records repeated samples (one clock reading per tick) like distinct ones', () => {
    const once = new LatencyHistogram();
    const repeated = new LatencyHistogram();
    for (const ms of [0.5, 0.5, 0.5, 2, 2, 0.5]) repeated.record(ms);
    for (const ms of [0.5, 2, 0.5, 0.5, 2, 0.5]) once.record(ms);
    expect(repeated.snapshot([0.6, 3])).toEqual(once.snapshot([0.6, 3]));
  });

  it('reads the clock once per tick', async () => {
    const first = tickNow();
    expect(tickNow()).toBe(first);
    await new Promise((resolve) => setImmediate(resolve));
    expect(tickNow()).toBeGreaterThanOrEqual(first);
  });
});

describe('pool.metrics()', () => {
  it('counts calls by outcome and times those that were queued', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 2, maxQueuePerSession: 3 });
    const a = pool.session('a');
    const b = pool.session('b');
    for (let round = 0; round < 25; round++) await Promise.all([a.call('inc', 1), b.call('inc', 1)]);
    expect(await a.callMany('inc', [1, 2, 3])).toHaveLength(3);
    expect((await rejection(a.call('boom'))).code).toBe('ERR_REACTOR_TRAP');
    expect((await rejection(a.call('nope'))).code).toBe('ERR_UNKNOWN_EXPORT');
    // Three places per session: the fourth call made in the same tick is refused at once.
    const burst = [b.call('inc', 0), b.call('inc', 0), b.call('inc', 0), b.call('inc', 0)];
    expect((await rejection(burst[3] as Promise<unknown>)).code).toBe('ERR_QUEUE_FULL');
    await Promise.all(burst.slice(0, 3));

    const metrics = pool.metrics([0.001, 1000, 1e9]);
    expect(metrics.calls).toEqual({ ok: 54, ERR_QUEUE_FULL: 1, ERR_REACTOR_TRAP: 1, ERR_UNKNOWN_EXPORT: 1 });
    // Timed: every call that reached a job (ok and the trap); refused ones are only counted.
    for (const histogram of [metrics.callDuration, metrics.queueWait]) {
      expect(histogram.count).toBe(55);
      expect(histogram.boundsMs).toEqual([0.001, 1000, 1e9]);
      expect(histogram.counts[2]).toBe(55);
      expect(histogram.sumMs).toBeGreaterThanOrEqual(0);
    }
    // Each call was sent before it settled.
    expect(metrics.queueWait.sumMs).toBeLessThanOrEqual(metrics.callDuration.sumMs);
    expect(metrics.callDuration.maxMs as number).toBeGreaterThan(0);
    expect(metrics).toMatchObject({
      sessions: { live: 2, unstarted: 0, hibernated: 0, lost: 0, stored: 0 },
      sessionsCreated: 2, sessionsClosed: 0, instances: 2, instancesCreated: 2, losses: 0, pending: 0,
      workerStarts: 2, workerFailures: 0, workerRecycles: 0,
    });
    expect(metrics.workers.map((w) => w.id)).toEqual([0, 1]);
    expect(metrics.workers.reduce((sum, w) => sum + w.sessions, 0)).toBe(2);
    // Every operation answered: 50 + 1 + 1 + 3 calls (the starts travel with the first calls).
    expect(metrics.workers.reduce((sum, w) => sum + w.operations, 0)).toBe(55);
    for (const worker of metrics.workers) {
      expect(worker.busySeconds).toBeGreaterThanOrEqual(0);
      if (worker.operations > 0) expect(worker.busySeconds).toBeGreaterThan(0);
    }
  });

  it('counts sessions by state and lifecycle events: losses, failures, recycles, closes', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 1, onTrap: 'lose' });
    const a = pool.session('a');
    pool.session('idle');
    await a.call('inc', 1);
    expect((await rejection(a.call('boom'))).code).toBe('ERR_REACTOR_TRAP');
    expect(pool.metrics().sessions).toEqual({ live: 0, unstarted: 1, hibernated: 0, lost: 1, stored: 0 });
    expect((await rejection(a.call('inc', 1))).code).toBe('ERR_SESSION_LOST');
    await a.reset();
    await a.call('inc', 1);
    await terminateWorker(pool, 0);
    await pool.recycleWorker(0);
    await a.reset();
    await pool.session('idle').close();
    const metrics = pool.metrics();
    expect(metrics).toMatchObject({
      sessions: { live: 1, unstarted: 0, hibernated: 0, lost: 0, stored: 0 },
      sessionsCreated: 2, sessionsClosed: 1, losses: 2, instancesCreated: 3,
      workerStarts: 3, workerFailures: 1, workerRecycles: 1,
    });
    expect(metrics.calls).toEqual({ ok: 2, ERR_REACTOR_TRAP: 1, ERR_SESSION_LOST: 1 });
  });

  it('counts hibernations and restores', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1, maxActiveSessions: 1 });
    let hibernated = 0;
    pool.on('sessionHibernated', () => hibernated++);
    const a = pool.session('a');
    const b = pool.session('b');
    await a.call('inc', 1);
    await b.call('inc', 1);
    expect(await a.call('inc', 1)).toBe(22);
    const metrics = pool.metrics();
    expect(metrics.hibernations).toBeGreaterThanOrEqual(1);
    expect(metrics.hibernations).toBe(hibernated);
    expect(metrics.restores).toBe(1);
    expect(metrics.sessions.live + metrics.sessions.hibernated).toBe(2);
  });
});
