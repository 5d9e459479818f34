// The shape of a benchmark run: what each scenario measured and whether its results were right.
// Written as JSON (bench/results/*.json) and read by the report writers and the chart.

/** Per-iteration latency percentiles, in milliseconds. */
export interface LatencySummary {
  readonly mean: number;
  readonly min: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/** What one scenario measured. */
export interface ScenarioResult {
  /** Stable id: `direct`, `naive-piscina`, `comlink`, `bare-ring`, `per-call`, `bulk`, `latency-pool`, … */
  readonly id: ScenarioId;
  /** What the row is called in tables and the chart. */
  readonly title: string;
  /** Worker threads used; 0 for scenarios that run in the calling thread. */
  readonly workers: number;
  /** `ok`, `skipped` (not run, e.g. no Go toolchain) or `failed` (threw). */
  readonly status: 'ok' | 'skipped' | 'failed';
  /** Every checked result matched its session's running total; `null` when skipped. */
  readonly correct: boolean | null;
  /** Calls (or activations) per second. */
  readonly opsPerSecond: number | null;
  /** `calls` or `activations`: what an op is. */
  readonly unit: 'calls' | 'activations';
  /** Relative margin of error of the mean iteration time, in percent. */
  readonly rme: number | null;
  /** Measured iterations (tinybench samples). */
  readonly samples: number;
  /** Ops in the measured iterations. */
  readonly ops: number;
  /** Results compared with their expected value (warm-up and final checks included). */
  readonly checked: number;
  /** Latency of one iteration; for the latency scenarios that is one call, and for `per-call-cluster` each call under load. */
  readonly latencyMs: LatencySummary | null;
  /** Why it was skipped or failed, or the first wrong result; otherwise what was measured. */
  readonly note: string;
  /** The recovery scenario's own figures. */
  readonly recovery?: RecoveryFigures;
}

/** What recovery after kill -9 took (the `recovery-durable` scenario). */
export interface RecoveryFigures {
  /** Durable sessions the killed process left. */
  readonly sessions: number;
  /** Milliseconds `ReactorPool.create` took on the directory (open and scan). */
  readonly openMs: number;
  /** Milliseconds until every session's first call had answered (each rebuilt on that call). */
  readonly answeredMs: number;
  /** Bytes of journal and snapshots in the directory after the kill. */
  readonly bytes: number;
  readonly bytesPerSession: number;
}

/** Every scenario id, in report order. */
export const SCENARIO_IDS = [
  'direct', 'naive-piscina', 'comlink', 'bare-ring', 'per-call', 'bulk',
  'latency-pool', 'latency-postmessage', 'activations-pool', 'activations-raw', 'wazero',
  'per-call-durable', 'latency-durable', 'recovery-durable', 'per-call-cluster', 'latency-cluster',
] as const;

/** A scenario id. */
export type ScenarioId = (typeof SCENARIO_IDS)[number];

/** Facts about the machine and runtime, recorded with every run. */
export interface MachineFacts {
  readonly cpuModel: string;
  readonly cores: number;
  readonly availableParallelism: number;
  readonly totalMemoryGiB: number;
  readonly platform: string;
  readonly arch: string;
  readonly node: string;
  readonly v8: string;
  /** 1-minute load average when the run started: other work on the machine skews every figure. */
  readonly loadAverage: number;
  /** `go version` output when the wazero host ran. */
  readonly go: string | null;
}

/** One headline ratio and the benchmark's target for it. */
export interface TargetCheck {
  readonly name: string;
  readonly ratio: number | null;
  /** `ms`: `ratio` and `target` are milliseconds, not a ratio. */
  readonly unit?: 'ms';
  /** `>=` ratios must reach `target`; `<=` ratios must stay under it. */
  readonly comparison: '>=' | '<=';
  readonly target: number;
  /** `pass`, `short`, or `n/a` when a side was skipped or failed. */
  readonly verdict: 'pass' | 'short' | 'n/a';
}

/** A whole run. */
export interface BenchRun {
  readonly schema: 1;
  readonly date: string;
  readonly quick: boolean;
  readonly module: string;
  /** Worker threads of the headline scenarios. */
  readonly workers: number;
  /** Worker counts of the scaling series. */
  readonly scaling: readonly number[];
  readonly command: string;
  readonly durationSeconds: number;
  readonly machine: MachineFacts;
  readonly scenarios: readonly ScenarioResult[];
  readonly targets: readonly TargetCheck[];
  /** Every scenario that ran was correct. */
  readonly correct: boolean;
}
