// Times one scenario with tinybench: an iteration performs a known number of operations, and
// tinybench's samples become ops per second, a margin of error and latency percentiles.

import { Bench } from 'tinybench';
import type { LatencySummary } from './results.js';
import { summarizeLatency } from './stats.js';

/** How long each scenario is measured. */
export interface MeasurePlan {
  /** Smoke-test mode: tiny counts, no warm-up budget. */
  readonly quick: boolean;
  /** Measuring time per scenario, in milliseconds (tinybench `time`). */
  readonly timeMs: number;
  /** Warm-up time per scenario, in milliseconds; 0 for none. */
  readonly warmupMs: number;
  /** Minimum measured iterations (tinybench `iterations`). */
  readonly minIterations: number;
}

/** The full run: 5 s of measuring per scenario after a short warm-up (about 1.5 minutes in all on 2 cores). */
export const FULL_PLAN: MeasurePlan = { quick: false, timeMs: 5000, warmupMs: 500, minIterations: 5 };

/** `--quick`: two iterations per scenario, one warm-up iteration, no time budget. */
export const QUICK_PLAN: MeasurePlan = { quick: true, timeMs: 0, warmupMs: 0, minIterations: 2 };

/** What {@link measure} found. */
export interface Measured {
  readonly opsPerSecond: number;
  readonly rme: number;
  readonly samples: number;
  readonly ops: number;
  readonly latencyMs: LatencySummary;
}

/**
 * Runs `iteration` under tinybench until the plan's time and iteration minimums are met and
 * returns the rate. `opsPerIteration` is how many calls (or activations) one iteration performs.
 * Throws what the iteration throws.
 */
export async function measure(
  name: string, iteration: () => unknown, opsPerIteration: number, plan: MeasurePlan, async: boolean,
  /** Runs before each iteration, outside its timing (e.g. hibernating the session the iteration wakes). */
  beforeEach?: () => Promise<void>,
): Promise<Measured> {
  const bench = new Bench({
    name,
    time: plan.timeMs,
    iterations: plan.minIterations,
    warmup: true,
    warmupTime: plan.warmupMs,
    warmupIterations: plan.quick ? 1 : plan.minIterations,
    retainSamples: true,
    throws: true,
  });
  bench.add(name, iteration, beforeEach === undefined ? { async } : { async, beforeEach });
  await bench.run();
  const task = bench.getTask(name);
  const result = task?.result;
  if (result === undefined || result.state === 'errored') throw result?.error ?? new Error(`${name}: no result`);
  if (result.state !== 'completed') throw new Error(`${name}: tinybench ended in state ${result.state}`);
  const runs = result.latency.samplesCount;
  const ops = runs * opsPerIteration;
  return {
    opsPerSecond: ops / (result.totalTime / 1000),
    rme: result.latency.rme,
    samples: runs,
    ops,
    latencyMs: summarizeLatency(result.latency.samples ?? []),
  };
}
