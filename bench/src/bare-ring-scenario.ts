// The bare-ring baseline: the per-call API shape (a promise per call, calls of a tick batched) over
// plain worker threads and SharedArrayBuffer rings, nothing else; the ceiling for the pool's per-call path.

import { allocateRing, type BareRingWorkerData } from './bare-ring-layout.js';
import { RingChannel } from './bare-ring-channel.js';
import { RunningTotals } from './check.js';
import { measure } from './measure.js';
import type { ScenarioResult } from './results.js';
import { PER_CALL_SESSIONS, WINDOW, headOf, measuredResult, roundRobinInc, windowed, type ScenarioContext } from './scenario.js';
import { WorkerGroup } from './worker-group.js';

const BARE_RING_WORKER = new URL('./bare-ring-worker.js', import.meta.url);

/**
 * `inc(n)` with {@link WINDOW} calls in flight over {@link PER_CALL_SESSIONS} sessions, driven exactly
 * like the pool's per-call scenario. Session `s` lives on worker `s % workers` (round-robin, so every
 * worker has its share), as that worker's session `⌊s / workers⌋`, on an instance of its own.
 */
export async function bareRingScenario(ctx: ScenarioContext, workers: number): Promise<ScenarioResult> {
  const rings = Array.from({ length: workers }, allocateRing);
  const group = new WorkerGroup(BARE_RING_WORKER, workers, (w): BareRingWorkerData => ({
    module: ctx.module,
    ring: rings[w] as BareRingWorkerData['ring'],
    sessions: Math.ceil((PER_CALL_SESSIONS - w) / workers),
  }));
  return group.run(async () => {
    const channels = rings.map((ring) => new RingChannel(ring));
    const call = (s: number, n: number): Promise<number> => (channels[s % workers] as RingChannel).call((s / workers) | 0, n);
    const totals = new RunningTotals(PER_CALL_SESSIONS, ctx.initial);
    const checkFinals = async (): Promise<void> => {
      const finals = await Promise.all(Array.from({ length: PER_CALL_SESSIONS }, (_, s) => call(s, 0)));
      finals.forEach((got, s) => totals.checkFinal(s, got));
    };
    // Each session's fresh instance must answer inc(0) with the initial value.
    await checkFinals();
    const issue = roundRobinInc(PER_CALL_SESSIONS, totals, call);
    const calls = ctx.sizes.bareRingCalls;
    const measured = await measure(`bare ring ×${workers}`, () => windowed(calls, WINDOW, issue), calls, ctx.plan, true);
    await checkFinals();
    return measuredResult(
      headOf('bare-ring', workers), measured, totals,
      `plain workers, SharedArrayBuffer request/response rings, a promise per call, calls of a tick published with one Atomics.notify, results read after Atomics.waitAsync; ${WINDOW} calls in flight over ${PER_CALL_SESSIONS} sessions (one instance each, round-robin over workers); every result checked`,
    );
  });
}
