// The reactor-pool scenarios, through the package's public API only: the per-call API with a full
// window, the bulk API with typed arrays, one-call-in-flight latency, and session activations.

import { ReactorPool, type ReferenceReactor, type Session } from '../../src/index.js';
import { RunningTotals, prefixSums } from './check.js';
import { measure } from './measure.js';
import type { ScenarioResult } from './results.js';
import {
  BULK_BATCH, BULK_IN_FLIGHT_PER_WORKER, PER_CALL_SESSIONS, WINDOW, headOf, measuredResult, roundRobinInc, windowed,
  type ScenarioContext,
} from './scenario.js';

/** Starts a pool for one scenario and closes it afterwards, whatever happens. */
async function withPool<T>(ctx: ScenarioContext, workers: number, body: (pool: ReactorPool<ReferenceReactor>) => Promise<T>): Promise<T> {
  const pool = await ReactorPool.create<ReferenceReactor>({ module: ctx.modulePath, workers, stdout: 'ignore', stderr: 'ignore' });
  try {
    return await body(pool);
  } finally {
    await pool.close();
  }
}

/** Reads every session's final total with `inc(0)` and checks it. */
async function checkFinals(sessions: readonly Session<ReferenceReactor>[], totals: RunningTotals): Promise<void> {
  const finals = await Promise.all(sessions.map((session) => session.call('inc', 0)));
  finals.forEach((got, s) => totals.checkFinal(s, got));
}

/** `session.call('inc', n)`: {@link WINDOW} calls in flight over {@link PER_CALL_SESSIONS} sessions, refilled as they settle. */
export function perCallScenario(ctx: ScenarioContext, workers: number): Promise<ScenarioResult> {
  return withPool(ctx, workers, async (pool) => {
    const sessions = Array.from({ length: PER_CALL_SESSIONS }, (_, s) => pool.session(`per-call-${s}`));
    const totals = new RunningTotals(sessions.length, ctx.initial);
    const issue = roundRobinInc(sessions.length, totals, (s, n) => (sessions[s] as Session<ReferenceReactor>).call('inc', n));
    const calls = ctx.sizes.perCallCalls;
    const measured = await measure(`per-call ×${workers}`, () => windowed(calls, WINDOW, issue), calls, ctx.plan, true);
    await checkFinals(sessions, totals);
    return measuredResult(
      headOf('per-call', workers), measured, totals,
      `${WINDOW} calls in flight over ${sessions.length} sessions; every result checked`,
    );
  });
}

/** `session.callMany('inc', Int32Array(4096))`: {@link BULK_IN_FLIGHT_PER_WORKER} batches in flight per worker. */
export function bulkScenario(ctx: ScenarioContext, workers: number): Promise<ScenarioResult> {
  return withPool(ctx, workers, async (pool) => {
    const inFlight = BULK_IN_FLIGHT_PER_WORKER * workers;
    const sessions = Array.from({ length: 2 * inFlight }, (_, s) => pool.session(`bulk-${s}`));
    const totals = new RunningTotals(sessions.length, ctx.initial);
    const args = Int32Array.from({ length: BULK_BATCH }, (_, i) => (i % 5) + 1);
    const sums = prefixSums(args);
    const batchSum = sums[sums.length - 1] as number;
    let counter = 0;
    const issue = (): Promise<void> => {
      const s = counter++ % sessions.length;
      const start = totals.expected(s);
      totals.advance(s, batchSum);
      // A fresh copy per batch: the pool may transfer the array it is given.
      return (sessions[s] as Session<ReferenceReactor>).callMany('inc', args.slice()).then((got) => totals.checkBatch(s, start, sums, got));
    };
    const batches = ctx.sizes.bulkBatches;
    const measured = await measure(`bulk ×${workers}`, () => windowed(batches, inFlight, issue), batches * BULK_BATCH, ctx.plan, true);
    await checkFinals(sessions, totals);
    return measuredResult(
      headOf('bulk', workers), measured, totals,
      `callMany of Int32Array(${BULK_BATCH}), ${inFlight} batches in flight over ${sessions.length} sessions; every result checked`,
    );
  });
}

/** One call in flight: `await session.call('inc', 1)`, one call per tinybench sample. */
export function poolLatencyScenario(ctx: ScenarioContext, workers: number): Promise<ScenarioResult> {
  return withPool(ctx, workers, async (pool) => {
    const session = pool.session('latency');
    const totals = new RunningTotals(1, ctx.initial);
    const iteration = async (): Promise<void> => {
      const want = totals.advance(0, 1);
      totals.check(0, want, await session.call('inc', 1));
    };
    const measured = await measure('latency pool', iteration, 1, ctx.plan, true);
    await checkFinals([session], totals);
    return measuredResult(
      headOf('latency-pool', workers), measured, totals,
      'one call in flight (await each); every result checked',
    );
  });
}

/**
 * New sessions' first calls: each activation is `pool.session(newKey).call('inc', 1)` (instance
 * creation and `_initialize` in a worker) followed by `close()`, which keeps memory flat.
 */
export function poolActivationScenario(ctx: ScenarioContext, workers: number): Promise<ScenarioResult> {
  return withPool(ctx, workers, async (pool) => {
    const totals = new RunningTotals(1, ctx.initial);
    const want = (ctx.initial + 1) | 0;
    let counter = 0;
    const activate = async (): Promise<void> => {
      const session = pool.session(`activation-${counter++}`);
      totals.check(0, want, await session.call('inc', 1));
      await session.close();
    };
    const perIteration = ctx.sizes.poolActivations;
    const iteration = (): Promise<unknown> => Promise.all(Array.from({ length: perIteration }, activate));
    const measured = await measure('activations pool', iteration, perIteration, ctx.plan, true);
    return measuredResult(
      headOf('activations-pool', workers), measured, totals,
      `${perIteration} new sessions at a time: first call inc(1) (instance + _initialize), then close(); stderr ignored`,
    );
  });
}
