// The baselines the pool is compared with, each on plain worker threads running the same reactor:
// piscina with one task per call, comlink with one message per call, and a raw postMessage round trip.

import type { Worker } from 'node:worker_threads';
import { wrap, type Remote } from 'comlink';
import { Piscina } from 'piscina';
import { RunningTotals } from './check.js';
import { loadNodeEndpoint } from './comlink-endpoint.js';
import { measure } from './measure.js';
import type { ScenarioResult } from './results.js';
import { WINDOW, headOf, measuredResult, roundRobinInc, windowed, type ScenarioContext } from './scenario.js';
import { untagThread } from './thread-tag.js';
import { WorkerGroup } from './worker-group.js';

const NAIVE_WORKER = new URL('./naive-piscina-worker.js', import.meta.url).href;
const COMLINK_WORKER = new URL('./comlink-worker.js', import.meta.url);
const ECHO_WORKER = new URL('./echo-worker.js', import.meta.url);

/** `piscina.run(n)` per call, {@link WINDOW} in flight; each thread's results checked as a running total. */
export async function naivePiscinaScenario(ctx: ScenarioContext, workers: number): Promise<ScenarioResult> {
  const piscina = new Piscina<number, number>({
    filename: NAIVE_WORKER, minThreads: workers, maxThreads: workers, workerData: { module: ctx.module },
  });
  try {
    // A thread runs its tasks one at a time and answers in order, so its results are a running total.
    const slotByThread = new Map<number, number>();
    const totals = new RunningTotals(256, ctx.initial);
    let counter = 0;
    const issue = (): Promise<void> => {
      const n = (counter++ % 13) + 1;
      return piscina.run(n).then((tagged) => {
        const { threadId, value } = untagThread(tagged);
        let slot = slotByThread.get(threadId);
        if (slot === undefined) slotByThread.set(threadId, (slot = slotByThread.size % totals.sessions));
        totals.check(slot, totals.advance(slot, n), value);
      });
    };
    const calls = ctx.sizes.naiveCalls;
    const measured = await measure('naive piscina', () => windowed(calls, WINDOW, issue), calls, ctx.plan, true);
    return measuredResult(
      headOf('naive-piscina', workers), measured, totals,
      `one piscina.run() per call, ${WINDOW} in flight; each thread's results checked as its running total`,
    );
  } finally {
    await piscina.destroy();
  }
}

/** One comlink call per message to workers exposing `inc`, {@link WINDOW} in flight, round-robin. */
export async function comlinkScenario(ctx: ScenarioContext, workers: number): Promise<ScenarioResult> {
  const nodeEndpoint = await loadNodeEndpoint();
  const group = new WorkerGroup(COMLINK_WORKER, workers, () => ({ module: ctx.module }));
  return group.run(async () => {
    const remotes: Remote<{ inc(n: number): number }>[] = group.workers.map((worker) => wrap(nodeEndpoint(worker)));
    const totals = new RunningTotals(workers, ctx.initial);
    // Each worker is a session: its fresh instance must answer inc(0) with the initial value.
    await checkEach(remotes.map((remote) => remote.inc(0)), totals);
    const issue = roundRobinInc(remotes.length, totals, (w, n) => (remotes[w] as Remote<{ inc(n: number): number }>).inc(n));
    const calls = ctx.sizes.comlinkCalls;
    const measured = await measure('comlink', () => windowed(calls, WINDOW, issue), calls, ctx.plan, true);
    await checkEach(remotes.map((remote) => remote.inc(0)), totals);
    return measuredResult(
      headOf('comlink', workers), measured, totals,
      `one comlink call per message, ${WINDOW} in flight round-robin over ${workers} workers; every result checked`,
    );
  });
}

/** One `postMessage` round trip at a time to a plain worker that calls `inc` and posts the result back. */
export async function postMessageLatencyScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const group = new WorkerGroup(ECHO_WORKER, 1, () => ({ module: ctx.module }));
  const worker = group.workers[0] as Worker;
  let pending: ((value: number) => void) | undefined;
  worker.on('message', (value: number) => {
    const resolve = pending;
    pending = undefined;
    resolve?.(value);
  });
  const roundTrip = (n: number): Promise<number> => new Promise<number>((resolve) => {
    pending = resolve;
    worker.postMessage(n);
  });
  return group.run(async () => {
    const totals = new RunningTotals(1, ctx.initial);
    totals.checkFinal(0, await roundTrip(0));
    const iteration = async (): Promise<void> => {
      const want = totals.advance(0, 1);
      totals.check(0, want, await roundTrip(1));
    };
    const measured = await measure('latency postMessage', iteration, 1, ctx.plan, true);
    totals.checkFinal(0, await roundTrip(0));
    return measuredResult(
      headOf('latency-postmessage', 1), measured, totals,
      'one round trip in flight to a plain worker_thread calling inc; every result checked',
    );
  });
}

/** Checks that each of `results` (one per session, in order) equals that session's total. */
async function checkEach(results: readonly Promise<number>[], totals: RunningTotals): Promise<void> {
  (await Promise.all(results)).forEach((got, s) => totals.checkFinal(s, got));
}
