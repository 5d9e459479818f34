// What every scenario shares: the context it runs in, the work sizes of a full and a quick run,
// the in-flight window that keeps N calls outstanding, and how a measurement becomes a result row.

import type { RunningTotals } from './check.js';
import type { MeasurePlan, Measured } from './measure.js';
import type { ScenarioId, ScenarioResult } from './results.js';

/** Work per tinybench iteration (and a few fixed shapes), by run kind. */
export interface WorkSizes {
  /** `inc(1)` calls per iteration of the in-thread loop. */
  readonly directCalls: number;
  /** Calls per iteration of the naive piscina baseline. */
  readonly naiveCalls: number;
  /** Calls per iteration of the comlink baseline. */
  readonly comlinkCalls: number;
  /** Calls per iteration of the per-call API scenario. */
  readonly perCallCalls: number;
  /** Calls per iteration of the bare SharedArrayBuffer ring baseline. */
  readonly bareRingCalls: number;
  /** `callMany` batches of {@link BULK_BATCH} per iteration of the bulk scenario. */
  readonly bulkBatches: number;
  /** New sessions per iteration of the pool activation scenario. */
  readonly poolActivations: number;
  /** New instances per iteration of the raw activation scenario. */
  readonly rawActivations: number;
  /** Calls per round and rounds of the wazero host. */
  readonly wazeroCalls: number;
  readonly wazeroRounds: number;
  /** Durable sessions the recovery scenario's child builds before it is killed. */
  readonly recoverySessions: number;
  /** Calls per iteration of the cluster's per-call scenario. */
  readonly clusterCalls: number;
}

/** Calls in flight in the per-call scenarios (naive piscina, comlink, bare ring, reactor-pool per call). */
export const WINDOW = 1000;
/** Sessions the per-call scenario spreads its window over. */
export const PER_CALL_SESSIONS = 100;
/** Calls per `callMany` in the bulk scenario. */
export const BULK_BATCH = 4096;
/** Bulk batches in flight per worker. */
export const BULK_IN_FLIGHT_PER_WORKER = 4;

/** Sizes of the full run: iterations of roughly 2–200 ms each on a 2-core machine, long enough that filling and draining the window is a few percent at most. */
export const FULL_SIZES: WorkSizes = {
  directCalls: 1_000_000,
  naiveCalls: 10_000,
  comlinkCalls: 8_000,
  perCallCalls: 100_000,
  bareRingCalls: 100_000,
  bulkBatches: 512,
  poolActivations: 256,
  rawActivations: 128,
  wazeroCalls: 20_000_000,
  wazeroRounds: 5,
  recoverySessions: 10_000,
  clusterCalls: 10_000,
};

/** Sizes of `--quick`: enough to exercise and check every path, nothing more. */
export const QUICK_SIZES: WorkSizes = {
  directCalls: 10_000,
  naiveCalls: 1_500,
  comlinkCalls: 1_500,
  perCallCalls: 3_000,
  bareRingCalls: 3_000,
  bulkBatches: 8,
  poolActivations: 20,
  rawActivations: 10,
  wazeroCalls: 100_000,
  wazeroRounds: 1,
  recoverySessions: 300,
  clusterCalls: 500,
};

/** What a scenario runs against. */
export interface ScenarioContext {
  /** Path of the reactor (the pool loads it itself, with full signature checks). */
  readonly modulePath: string;
  /** The reactor compiled once, for the in-thread and baseline scenarios. */
  readonly module: WebAssembly.Module;
  /** What `inc(0)` returns on a fresh instance (20 for the bundled reactor). */
  readonly initial: number;
  readonly plan: MeasurePlan;
  readonly sizes: WorkSizes;
}

/** The fixed part of a result row. */
export interface ScenarioHead {
  readonly id: ScenarioId;
  readonly title: string;
  readonly workers: number;
  readonly unit: 'calls' | 'activations';
}

/** What each scenario is called in tables and the chart. */
const TITLES: Record<ScenarioId, string> = {
  'direct': 'direct in-thread inc()',
  'naive-piscina': 'naive piscina (run per call)',
  'comlink': 'comlink (message per call)',
  'bare-ring': 'bare SAB ring (promise per call)',
  'per-call': 'reactor-pool per-call',
  'bulk': 'reactor-pool bulk',
  'latency-pool': 'latency: reactor-pool call',
  'latency-postmessage': 'latency: raw postMessage',
  'activations-pool': 'activations: reactor-pool',
  'activations-raw': 'activations: raw in-thread',
  'wazero': 'Go + wazero loop',
  'per-call-durable': 'reactor-pool per-call, durable',
  'latency-durable': 'latency: durable call',
  'recovery-durable': 'recovery after kill -9 (first calls)',
  'per-call-cluster': 'cluster per-call (2 members, NATS)',
  'latency-cluster': 'latency: cluster call',
};

/** The head of scenario `id` run on `workers` threads (0: the calling thread). */
export function headOf(id: ScenarioId, workers: number): ScenarioHead {
  // A recovered session's first call is an activation: from its journal instead of `_initialize`.
  return { id, title: TITLES[id], workers, unit: id.startsWith('activations-') || id === 'recovery-durable' ? 'activations' : 'calls' };
}

/**
 * An issuer of `inc(n)` calls spread round-robin over `targets` (sessions or workers), each result
 * checked against that target's running total. `call(target, n)` sends one call.
 */
export function roundRobinInc(
  targets: number, totals: RunningTotals, call: (target: number, n: number) => Promise<unknown>,
): () => Promise<void> {
  let counter = 0;
  return () => {
    const i = counter++;
    const target = i % targets;
    const n = (i % 13) + 1;
    const want = totals.advance(target, n);
    return call(target, n).then((got) => totals.check(target, want, got));
  };
}

/**
 * Issues `total` operations, keeping `window` of them in flight: each settled one starts the next.
 * Resolves when all have settled; rejects on the first rejection.
 */
export function windowed(total: number, window: number, issue: () => Promise<unknown>): Promise<void> {
  return new Promise((resolve, reject) => {
    let issued = 0;
    let settled = 0;
    const onSettled = (): void => {
      settled++;
      if (issued < total) start();
      else if (settled === total) resolve();
    };
    const start = (): void => {
      issued++;
      issue().then(onSettled, reject);
    };
    if (total === 0) resolve();
    for (let k = 0; k < Math.min(window, total); k++) start();
  });
}

/** A measured scenario's row: correct iff no checked result was wrong. */
export function measuredResult(head: ScenarioHead, measured: Measured, totals: RunningTotals, note: string): ScenarioResult {
  return {
    ...head,
    status: 'ok',
    correct: totals.ok && totals.checked > 0,
    opsPerSecond: measured.opsPerSecond,
    rme: measured.rme,
    samples: measured.samples,
    ops: measured.ops,
    checked: totals.checked,
    latencyMs: measured.latencyMs,
    note: totals.firstWrong === undefined ? note : `WRONG: ${totals.wrong} result(s), first: ${totals.firstWrong}`,
  };
}

/** The row of a scenario that threw (`failed`) or could not run here (`skipped`). */
export function unmeasuredResult(head: ScenarioHead, status: 'failed' | 'skipped', note: string): ScenarioResult {
  return {
    ...head,
    status,
    correct: status === 'skipped' ? null : false,
    opsPerSecond: null,
    rme: null,
    samples: 0,
    ops: 0,
    checked: 0,
    latencyMs: null,
    note,
  };
}
