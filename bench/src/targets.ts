// The benchmark's targets (its own goals): headline ratios between scenarios of one run, each judged pass or short.
// Also the per-row ratios to the baselines (naive piscina, comlink, bare ring, direct, wazero) the reports show.

import type { ScenarioId, ScenarioResult, TargetCheck } from './results.js';
import { ratio } from './stats.js';

/** The baselines every throughput row is compared with; `bare-ring` at the row's own worker count. */
export const BASELINES = ['naive-piscina', 'comlink', 'bare-ring', 'direct', 'wazero'] as const satisfies readonly ScenarioId[];

/** A baseline id. */
export type BaselineId = (typeof BASELINES)[number];

/** The measured row of `id` (at `workers` for per-call and bulk), if it ran and was correct. */
export function find(scenarios: readonly ScenarioResult[], id: ScenarioId, workers?: number): ScenarioResult | undefined {
  return scenarios.find((s) => s.id === id && (workers === undefined || s.workers === workers) && s.status === 'ok' && s.correct === true);
}

/**
 * `row`'s ops/s divided by each baseline's (null where either is missing). The bare ring runs at
 * several worker counts and is compared at the row's own; a main-thread row has none.
 */
export function baselineRatios(row: ScenarioResult, scenarios: readonly ScenarioResult[]): Record<BaselineId, number | null> {
  const of = (id: BaselineId, workers?: number): number | null => ratio(row.opsPerSecond, find(scenarios, id, workers)?.opsPerSecond);
  return {
    'naive-piscina': of('naive-piscina'),
    comlink: of('comlink'),
    'bare-ring': row.workers === 0 ? null : of('bare-ring', row.workers),
    direct: of('direct'),
    wazero: of('wazero'),
  };
}

function judge(name: string, value: number | null, comparison: '>=' | '<=', target: number, unit?: 'ms'): TargetCheck {
  const verdict = value === null ? 'n/a' : (comparison === '>=' ? value >= target : value <= target) ? 'pass' : 'short';
  const check: TargetCheck = { name, ratio: value, comparison, target, verdict };
  return unit === undefined ? check : { ...check, unit };
}

/** The benchmark's targets for a run whose headline scenarios used `workers` threads. */
export function evaluateTargets(scenarios: readonly ScenarioResult[], workers: number): TargetCheck[] {
  const ops = (id: ScenarioId, w?: number): number | null => find(scenarios, id, w)?.opsPerSecond ?? null;
  const perCall = ops('per-call', workers);
  const bulk = ops('bulk', workers);
  const naive = ops('naive-piscina');
  const poolActivations = find(scenarios, 'activations-pool');
  const perWorker = poolActivations?.opsPerSecond == null ? null : poolActivations.opsPerSecond / Math.max(poolActivations.workers, 1);
  return [
    judge('per-call vs naive piscina', ratio(perCall, naive), '>=', 100),
    judge(`per-call vs bare ring (${workers} worker${workers === 1 ? '' : 's'} each)`, ratio(perCall, ops('bare-ring', workers)), '>=', 0.75),
    judge('bulk vs naive piscina', ratio(bulk, naive), '>=', 1000),
    judge('bulk vs direct in-thread', ratio(bulk, ops('direct')), '>=', 0.15),
    judge('p50 latency vs raw postMessage', ratio(find(scenarios, 'latency-pool')?.latencyMs?.p50, find(scenarios, 'latency-postmessage')?.latencyMs?.p50), '<=', 1.5),
    judge('activations per worker vs raw', ratio(perWorker, ops('activations-raw')), '>=', 0.8),
    judge('bulk vs wazero loop', ratio(bulk, ops('wazero')), '>=', 1),
    judge('per-call durable vs per-call (same workers)', ratio(ops('per-call-durable', workers), perCall), '>=', 0.5),
    judge('p50 latency of a durable call', find(scenarios, 'latency-durable')?.latencyMs?.p50 ?? null, '<=', 1, 'ms'),
    judge('p50 latency of a cluster call (one session)', find(scenarios, 'latency-cluster')?.latencyMs?.p50 ?? null, '<=', 2, 'ms'),
  ];
}
