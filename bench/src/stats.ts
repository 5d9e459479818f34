// Statistics the reports need beyond tinybench's own: percentiles of sorted samples, a latency
// summary, and ratios that stay null when either side is missing.

import type { LatencySummary } from './results.js';

/**
 * The `q`-quantile (0 ≤ q ≤ 1) of ascending `sorted` samples, interpolating linearly between the
 * two nearest ranks. NaN for no samples.
 */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(Math.max(q, 0), 1) * (sorted.length - 1);
  const below = Math.floor(rank);
  const low = sorted[below] as number;
  const high = sorted[Math.min(below + 1, sorted.length - 1)] as number;
  return low + (high - low) * (rank - below);
}

/** Mean, min, p50, p90, p99 and max of ascending `sorted` latency samples (milliseconds). */
export function summarizeLatency(sorted: ArrayLike<number>): LatencySummary {
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i] as number;
  return {
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
    min: sorted[0] ?? Number.NaN,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

/** `numerator / denominator`, or null when either is missing or the denominator is not positive. */
export function ratio(numerator: number | null | undefined, denominator: number | null | undefined): number | null {
  if (numerator == null || denominator == null || !(denominator > 0) || !Number.isFinite(numerator)) return null;
  return numerator / denominator;
}
