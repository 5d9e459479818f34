// The load test's report: the JSON document `--json` writes (machine, configuration, throughput,
// latency, failures by code, why the run stopped early) and the lines printed from it.

import { arch, availableParallelism, cpus, platform, totalmem } from 'node:os';
import type { Isolation, TrapPolicy } from '../options.js';
import { failures, type ErrorTally, type LoadOutcome, type PoolStop } from './load-test-run.js';

/** The run's configuration as given on the command line (with defaults filled in). */
export interface LoadTestConfiguration {
  readonly calls: readonly string[];
  readonly sessions: number;
  readonly concurrency: number;
  readonly durationSeconds: number | null;
  readonly totalCalls: number | null;
  readonly workers: number;
  readonly isolation: Isolation;
  /** The pool's `callTimeout`; null: none. */
  readonly callTimeoutMs: number | null;
  /** The pool's `memoryLimit`; null: none. */
  readonly memoryLimitBytes: number | null;
  readonly onTrap: TrapPolicy;
  /** How each called export's result was read (`--result`): `number`, `bytes` or `string`. */
  readonly results: Readonly<Record<string, string>>;
  /** The names of the `--env` variables (their values are left out: they may be secrets). */
  readonly env: readonly string[];
  /** The `--dir` preopens: guest path → host directory. */
  readonly dirs: Readonly<Record<string, string>>;
}

/** The `--json` report. */
export interface LoadTestReport {
  readonly command: 'reactor-pool bench';
  readonly date: string;
  readonly machine: { readonly platform: string; readonly arch: string; readonly cpu: string; readonly cores: number; readonly memoryBytes: number };
  readonly node: string;
  readonly module: string;
  readonly options: LoadTestConfiguration;
  readonly seconds: number;
  /** Calls made; each succeeded or failed. */
  readonly calls: number;
  readonly failed: number;
  /** Why the pool stopped (no calls were made after it), or null if the run reached its bound. */
  readonly stoppedBy: PoolStop | null;
  readonly callsPerSecond: number;
  /** Of the calls that succeeded; null when none did. */
  readonly latencyMs: { readonly p50: number | null; readonly p90: number | null; readonly p99: number | null; readonly max: number | null };
  /** Failed calls by error code, codes in alphabetical order. */
  readonly errors: Readonly<Record<string, ErrorTally>>;
}

export function buildReport(module: string, options: LoadTestConfiguration, outcome: LoadOutcome): LoadTestReport {
  const { seconds, calls, latency, errors } = outcome;
  const cpu = cpus()[0]?.model.trim() ?? 'unknown';
  return {
    command: 'reactor-pool bench',
    date: new Date().toISOString(),
    machine: { platform: platform(), arch: arch(), cpu, cores: availableParallelism(), memoryBytes: totalmem() },
    node: process.version,
    module,
    options,
    seconds,
    calls,
    failed: failures(errors),
    stoppedBy: outcome.stoppedBy ?? null,
    callsPerSecond: seconds > 0 ? calls / seconds : 0,
    latencyMs: { p50: latency.percentile(0.5), p90: latency.percentile(0.9), p99: latency.percentile(0.99), max: latency.maxMs },
    errors: Object.fromEntries([...errors].sort(([a], [b]) => a.localeCompare(b))),
  };
}

/** Calls per second as printed: grouped digits, or a dash before any time passed. */
export function rate(calls: number, seconds: number): string {
  return seconds > 0 ? Math.round(calls / seconds).toLocaleString('en-US') : '–';
}

function ms(value: number | null): string {
  return value === null ? '–' : value.toPrecision(3);
}

const plural = (n: number, word: string): string => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;

/** `64 MiB` for a whole number of MiB (or KiB, GiB), else bytes. */
function size(bytes: number): string {
  for (const [unit, factor] of [['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (bytes % factor === 0) return `${bytes / factor} ${unit}`;
  }
  return `${bytes.toLocaleString('en-US')} bytes`;
}

export function formatReport(r: LoadTestReport): string[] {
  const o = r.options;
  const bound = o.totalCalls === null ? `${o.durationSeconds} s` : plural(o.totalCalls, 'call');
  const errors = Object.entries(r.errors).map(([code, t]) => `${code} ×${t.count}`).join(', ');
  const timeout = o.callTimeoutMs === null ? 'none' : `${o.callTimeoutMs} ms`;
  const memory = o.memoryLimitBytes === null ? 'none' : size(o.memoryLimitBytes);
  return [
    `load test: ${r.module}`,
    `  ${plural(o.workers, 'worker')}, ${plural(o.sessions, 'session')}, ${o.concurrency.toLocaleString('en-US')} in flight, ${bound}; calls: ${o.calls.join(' ')}`,
    `  pool: isolation ${o.isolation}, on trap ${o.onTrap}, call timeout ${timeout}, memory limit ${memory}`,
    `  ${plural(r.calls, 'call')} in ${r.seconds.toFixed(2)} s: ${rate(r.calls, r.seconds)} calls/s`,
    `  latency (ms): p50 ${ms(r.latencyMs.p50)}  p90 ${ms(r.latencyMs.p90)}  p99 ${ms(r.latencyMs.p99)}  max ${ms(r.latencyMs.max)}`,
    `  failed: ${r.failed === 0 ? 'none' : `${r.failed.toLocaleString('en-US')} (${errors})`}`,
    ...(r.stoppedBy === null ? [] : [`  stopped early: the pool stopped (${r.stoppedBy.code}); no calls were made after it`]),
    `  machine: ${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.node}`,
  ];
}
