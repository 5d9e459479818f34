// The benchmark's bare SharedArrayBuffer ring baseline (bench/src/bare-ring-*.ts, compiled by
// npm run build:bench): results come back in order and right, a full ring refuses at once, and a
// scenario whose results are wrong says so. Never timings.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RING_SLOTS, allocateRing, type BareRingWorkerData } from '../dist/bench/src/bare-ring-layout.js';
import { RingChannel } from '../dist/bench/src/bare-ring-channel.js';
import { bareRingScenario } from '../dist/bench/src/bare-ring-scenario.js';
import { QUICK_PLAN } from '../dist/bench/src/measure.js';
import { PER_CALL_SESSIONS, QUICK_SIZES, WINDOW, type ScenarioContext } from '../dist/bench/src/scenario.js';
import { WorkerGroup } from '../dist/bench/src/worker-group.js';
import { REACTOR } from './helpers/fixtures.js';

const BARE_RING_WORKER = new URL('../dist/bench/src/bare-ring-worker.js', import.meta.url);
const module = new WebAssembly.Module(readFileSync(REACTOR));
/** What `inc(0)` returns on a fresh instance of the bundled reactor. */
const INITIAL = 20;

function context(initial: number): ScenarioContext {
  return { modulePath: REACTOR, module, initial, plan: QUICK_PLAN, sizes: QUICK_SIZES };
}

describe('bare SharedArrayBuffer ring baseline', () => {
  it('answers a whole ring of calls made in one tick in order, on per-session instances, and refuses one more', async () => {
    const ring = allocateRing();
    const group = new WorkerGroup(BARE_RING_WORKER, 1, (): BareRingWorkerData => ({ module, ring, sessions: 2 }));
    await group.run(async () => {
      const channel = new RingChannel(ring);
      // Session 0 gets inc(1) each time, session 1 inc(2): two running totals interleaved in one ring.
      const calls = Array.from({ length: RING_SLOTS }, (_, i) => channel.call(i % 2, (i % 2) + 1));
      await expect(channel.call(0, 1)).rejects.toThrow(`bare ring full: ${RING_SLOTS} calls unanswered`);
      const order: number[] = [];
      calls.forEach((call, i) => void call.then(() => order.push(i)));
      const got = await Promise.all(calls);
      expect(got).toEqual(Array.from({ length: RING_SLOTS }, (_, i) => INITIAL + (i % 2 === 0 ? i / 2 + 1 : (i + 1))));
      expect(order).toEqual(Array.from({ length: RING_SLOTS }, (_, i) => i));
      // The ring has drained: its slots are reused (sequence numbers past RING_SLOTS) and totals go on.
      expect(await Promise.all([channel.call(0, 0), channel.call(1, 0)])).toEqual([INITIAL + RING_SLOTS / 2, INITIAL + RING_SLOTS]);
    });
  });

  it.each([1, 2])('runs the per-call window over %i worker(s) with every result checked and correct', async (workers) => {
    const result = await bareRingScenario(context(INITIAL), workers);
    expect({ id: result.id, workers: result.workers, status: result.status, correct: result.correct, note: result.note })
      .toEqual({ id: 'bare-ring', workers, status: 'ok', correct: true, note: expect.stringContaining(`${WINDOW} calls in flight over ${PER_CALL_SESSIONS} sessions`) });
    // Every measured call, plus inc(0) on every session before and after (warm-up calls are checked too).
    expect(result.checked).toBeGreaterThanOrEqual(result.ops + 2 * PER_CALL_SESSIONS);
    expect(result.opsPerSecond).toBeGreaterThan(0);
  });

  it('reports wrong results as wrong', async () => {
    const result = await bareRingScenario(context(INITIAL + 1), 2);
    expect(result.status).toBe('ok');
    expect(result.correct).toBe(false);
    expect(result.note).toMatch(/^WRONG: \d+ result\(s\), first: session 0: expected 21, got 20$/);
  });
});
