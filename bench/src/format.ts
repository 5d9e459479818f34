// How numbers and rows read in the console table, the markdown summary and the chart:
// rates with SI suffixes, ratios with ×, latencies in µs or ms, one row of cells per scenario.

import type { BenchRun, ScenarioResult } from './results.js';
import { baselineRatios } from './targets.js';

/** `414M`, `82.0M`, `870k`, `40.1k`, `950`: three significant digits. */
export function formatRate(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return '—';
  const units: [number, string][] = [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [size, suffix] of units) {
    if (value >= size) return `${toSignificant(value / size)}${suffix}`;
  }
  return toSignificant(value);
}

/** `1,234×`, `23.4×`, `0.21×`, `0.00012×`. */
export function formatRatio(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return '—';
  if (value >= 1000) return `${Math.round(value).toLocaleString('en-US')}×`;
  // Small ratios (a baseline against the in-thread limit) keep two significant digits: 0.00012×.
  return `${value > 0 && value < 0.01 ? value.toPrecision(2) : toSignificant(value)}×`;
}

/** `62.1 µs`, `1.23 ms`, `—`. */
export function formatMs(value: number | null | undefined): string {
  if (value == null || !Number.isFinite(value)) return '—';
  return value < 1 ? `${toSignificant(value * 1000)} µs` : `${toSignificant(value)} ms`;
}

/** `950 B`, `1.21 KiB`, `3.40 MiB`. */
export function formatBytes(value: number): string {
  if (!Number.isFinite(value)) return '—';
  if (value < 1024) return `${Math.round(value)} B`;
  return value < 1024 ** 2 ? `${toSignificant(value / 1024)} KiB` : `${toSignificant(value / 1024 ** 2)} MiB`;
}

function toSignificant(value: number): string {
  if (value === 0) return '0';
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(value))));
  return value.toFixed(Math.min(digits, 2));
}

/** The columns of the results table, in order. */
export const COLUMNS = [
  'scenario', 'workers', 'ops/s', '±', 'per worker', 'p50', 'p99', 'correct', '× naive', '× comlink', '× bare ring', '× direct', '× wazero',
] as const;

/** One scenario's cells, in {@link COLUMNS} order. */
export function rowCells(row: ScenarioResult, run: BenchRun): string[] {
  const ratios = baselineRatios(row, run.scenarios);
  const isLatency = row.id.startsWith('latency-');
  // The cluster's per-call row keeps each call's latency under load: shown beside its rate.
  const showsLatency = isLatency || row.id === 'per-call-cluster';
  const throughputRatio = (value: number | null): string => (isLatency || row.unit !== 'calls' ? '' : formatRatio(value));
  const unit = row.unit === 'activations' ? ' act/s' : '';
  return [
    row.title,
    row.workers === 0 ? 'main' : String(row.workers),
    row.status === 'ok' ? `${formatRate(row.opsPerSecond)}${unit}` : row.status,
    row.rme === null ? '' : `${row.rme.toFixed(1)}%`,
    row.status === 'ok' && row.workers > 0 && !isLatency ? formatRate((row.opsPerSecond ?? 0) / row.workers) : '',
    showsLatency ? formatMs(row.latencyMs?.p50) : '',
    showsLatency ? formatMs(row.latencyMs?.p99) : '',
    row.correct === null ? 'skipped' : row.correct ? 'yes' : 'NO',
    throughputRatio(ratios['naive-piscina']),
    throughputRatio(ratios.comlink),
    throughputRatio(ratios['bare-ring']),
    throughputRatio(ratios.direct),
    throughputRatio(ratios.wazero),
  ];
}

/** `AMD EPYC (2 cores, 2 available), 23.5 GiB, Node v20.20.2, linux x64, go1.26.8 linux/amd64, load 0.12 at start, 2025-11-23` */
export function machineLine(run: BenchRun): string {
  const m = run.machine;
  const go = m.go === null ? '' : `, ${m.go.replace(/^go version /, '')}`;
  return `${m.cpuModel} (${m.cores} cores, ${m.availableParallelism} available), ${m.totalMemoryGiB} GiB, Node ${m.node}, ${m.platform} ${m.arch}${go}, load ${m.loadAverage.toFixed(2)} at start, ${run.date.slice(0, 10)}`;
}
