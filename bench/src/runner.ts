// Runs the whole benchmark: checks the module, runs every scenario in turn with a progress line
// each, records the machine, and judges the benchmark's targets. Writing files is the caller's job.

import { readFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { ReactorPool, UnknownExportError, type ReferenceReactor } from '../../src/index.js';
import { bareRingScenario } from './bare-ring-scenario.js';
import { comlinkScenario, naivePiscinaScenario, postMessageLatencyScenario } from './baseline-scenarios.js';
import { ClusterScenarios, CLUSTER_PARTITIONS } from './cluster-scenarios.js';
import { durableLatencyScenario, perCallDurableScenario, recoveryScenario } from './durable-scenarios.js';
import { directScenario, rawActivationScenario } from './in-thread-scenarios.js';
import { formatBytes, formatMs, formatRate } from './format.js';
import { FULL_PLAN, QUICK_PLAN } from './measure.js';
import { bulkScenario, perCallScenario, poolActivationScenario, poolLatencyScenario } from './pool-scenarios.js';
import type { BenchRun, MachineFacts, ScenarioResult } from './results.js';
import { FULL_SIZES, QUICK_SIZES, headOf, unmeasuredResult, type ScenarioContext, type ScenarioHead } from './scenario.js';
import { evaluateTargets } from './targets.js';
import { goVersion, wazeroScenario } from './wazero-scenario.js';

/** What to run. */
export interface BenchOptions {
  /** Path of a reactor exporting `inc(i32) -> i32` that adds to a running total. */
  readonly module: string;
  /** Smoke test: tiny counts, correctness only. */
  readonly quick: boolean;
  /** Worker threads of the headline scenarios (baselines, latency, activations, headline per-call and bulk); the bare ring runs at every count of the per-call series. */
  readonly workers: number;
  /** How the run was started, recorded in the results. */
  readonly command: string;
}

/** One scenario waiting to run. */
interface Step {
  readonly head: ScenarioHead;
  readonly run: () => Promise<ScenarioResult>;
}

/**
 * Worker counts of the scaling series: 1…`parallelism` (powers of two and `parallelism` itself
 * above 8), plus `workers`. A quick run only does 1 and `workers`.
 */
export function scalingCounts(parallelism: number, workers: number, quick: boolean): number[] {
  const counts = new Set<number>([1, workers]);
  if (!quick) {
    for (let n = 1; n <= parallelism; n = parallelism <= 8 ? n + 1 : n * 2) counts.add(n);
    counts.add(parallelism);
  }
  return [...counts].sort((a, b) => a - b);
}

/** Checks the module exports `inc(i32) -> i32` and returns what `inc(0)` gives on a fresh instance. */
async function probeModule(path: string): Promise<number> {
  const pool = await ReactorPool.create<ReferenceReactor>({ module: path, workers: 1, stdout: 'ignore', stderr: 'ignore' });
  try {
    const inc = pool.spec.exports.find((e) => e.name === 'inc' && e.kind === 'function');
    const signature = inc?.signature;
    if (signature?.params.join(',') !== 'i32' || signature.results.join(',') !== 'i32') {
      const found = signature === undefined ? 'no function inc' : `inc(${signature.params.join(', ')}) -> (${signature.results.join(', ')})`;
      throw new UnknownExportError(`the benchmark calls inc(i32) -> i32, which ${JSON.stringify(path)} does not export (it has ${found})`, { exportName: 'inc' });
    }
    return await pool.session('probe').call('inc', 0);
  } finally {
    await pool.destroy();
  }
}

function machineFacts(go: string | undefined, loadAverage: number): MachineFacts {
  const cpuList = cpus();
  return {
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    availableParallelism: availableParallelism(),
    totalMemoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    platform: process.platform,
    arch: process.arch,
    node: process.version,
    v8: process.versions.v8,
    loadAverage: Math.round(loadAverage * 100) / 100,
    go: go ?? null,
  };
}

/** `85.1k calls/s ±1.2%, 40 samples, correct` */
function summary(result: ScenarioResult): string {
  if (result.status !== 'ok') return result.note;
  const rate = `${formatRate(result.opsPerSecond)} ${result.unit}/s${result.rme === null ? '' : ` ±${result.rme.toFixed(1)}%`}`;
  const latency = (result.id.startsWith('latency-') || result.id === 'per-call-cluster') && result.latencyMs !== null
    ? `, p50 ${formatMs(result.latencyMs.p50)}, p99 ${formatMs(result.latencyMs.p99)}` : '';
  const recovery = result.recovery === undefined ? ''
    : `, ${result.recovery.sessions} sessions: open ${formatMs(result.recovery.openMs)}, all answered ${formatMs(result.recovery.answeredMs)}, ${formatBytes(result.recovery.bytesPerSession)}/session`;
  return `${rate}${latency}${recovery}, ${result.samples} samples, ${result.correct === true ? 'correct' : `WRONG (${result.note})`}`;
}

/** Runs every scenario on `options.module`, reporting each through `progress`, and returns the run. */
export async function runBench(options: BenchOptions, progress: (line: string) => void): Promise<BenchRun> {
  const started = performance.now();
  const loadAtStart = loadavg()[0] ?? 0;
  const date = new Date().toISOString();
  const plan = options.quick ? QUICK_PLAN : FULL_PLAN;
  const parallelism = availableParallelism();
  const scaling = scalingCounts(parallelism, options.workers, options.quick);
  const initial = await probeModule(options.module);
  const ctx: ScenarioContext = {
    modulePath: options.module,
    module: await WebAssembly.compile(await readFile(options.module)),
    initial,
    plan,
    sizes: options.quick ? QUICK_SIZES : FULL_SIZES,
  };
  const w = options.workers;
  const cluster = new ClusterScenarios(ctx);
  const steps: Step[] = [
    { head: headOf('direct', 0), run: () => directScenario(ctx) },
    { head: headOf('naive-piscina', w), run: () => naivePiscinaScenario(ctx, w) },
    { head: headOf('comlink', w), run: () => comlinkScenario(ctx, w) },
    ...scaling.map((n): Step => ({ head: headOf('bare-ring', n), run: () => bareRingScenario(ctx, n) })),
    ...scaling.map((n): Step => ({ head: headOf('per-call', n), run: () => perCallScenario(ctx, n) })),
    ...scaling.map((n): Step => ({ head: headOf('bulk', n), run: () => bulkScenario(ctx, n) })),
    { head: headOf('latency-pool', w), run: () => poolLatencyScenario(ctx, w) },
    { head: headOf('latency-postmessage', 1), run: () => postMessageLatencyScenario(ctx) },
    { head: headOf('activations-pool', w), run: () => poolActivationScenario(ctx, w) },
    { head: headOf('activations-raw', 0), run: () => rawActivationScenario(ctx) },
    { head: headOf('wazero', 0), run: () => wazeroScenario(ctx, options.quick ? 20_000 : 240_000) },
    { head: headOf('per-call-durable', w), run: () => perCallDurableScenario(ctx, w) },
    { head: headOf('latency-durable', w), run: () => durableLatencyScenario(ctx, w) },
    { head: headOf('recovery-durable', w), run: () => recoveryScenario(ctx, w) },
    { head: headOf('per-call-cluster', CLUSTER_PARTITIONS), run: () => cluster.perCall() },
    { head: headOf('latency-cluster', CLUSTER_PARTITIONS), run: () => cluster.latency() },
  ];

  progress(`reactor-pool bench${options.quick ? ' --quick' : ''}: ${options.module}, ${w} workers, scaling over ${scaling.join(', ')}; ${steps.length} scenarios, inc(0) = ${initial} on a fresh instance`);
  const scenarios: ScenarioResult[] = [];
  for (const [i, step] of steps.entries()) {
    const where = step.head.workers === 0 ? 'main thread' : `${step.head.workers} worker${step.head.workers === 1 ? '' : 's'}`;
    const tag = `[${String(i + 1).padStart(String(steps.length).length)}/${steps.length}]`;
    progress(`${tag} ${step.head.title} (${where}) …`);
    let result: ScenarioResult;
    try {
      result = await step.run();
    } catch (error) {
      result = unmeasuredResult(step.head, 'failed', `failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    scenarios.push(result);
    progress(`${' '.repeat(tag.length)} ${summary(result)}`);
  }
  await cluster.stop();

  return {
    schema: 1,
    date,
    quick: options.quick,
    module: options.module,
    workers: w,
    scaling,
    command: options.command,
    durationSeconds: (performance.now() - started) / 1000,
    machine: machineFacts(await goVersion(), loadAtStart),
    scenarios,
    targets: evaluateTargets(scenarios, w),
    correct: scenarios.every((s) => s.status === 'skipped' || (s.status === 'ok' && s.correct === true)),
  };
}
