// The load test's latency histogram: percentiles within 1% above the exact ones (never below), the
// maximum exact, and bounded memory whatever the sample count. Seeded samples.

import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../dist/src/latency-histogram.js';
import { seeded } from '../dist/src/seeded-random.js';

describe('the load test latency histogram', () => {
  it('reads each percentile at most 1% above the exact value', () => {
    const random = seeded(42);
    const histogram = new LatencyHistogram();
    // Log-uniform from 1 µs to 10 s, the range a call's latency spans.
    const samples = Array.from({ length: 50_000 }, () => 0.001 * 10 ** (random() * 7));
    for (const ms of samples) histogram.record(ms);
    const sorted = [...samples].sort((a, b) => a - b);
    for (const fraction of [0.01, 0.5, 0.9, 0.99, 0.999, 1]) {
      const exact = sorted[Math.ceil(fraction * sorted.length) - 1] as number;
      const read = histogram.percentile(fraction) as number;
      expect(read, String(fraction)).toBeGreaterThanOrEqual(exact);
      expect(read / exact, String(fraction)).toBeLessThanOrEqual(1.01);
    }
    expect(histogram.maxMs).toBe(sorted.at(-1));
    expect(histogram.count).toBe(samples.length);
  });

  it('is empty before any call, and clamps sub-microsecond and very slow calls', () => {
    const histogram = new LatencyHistogram();
    expect([histogram.percentile(0.5), histogram.maxMs]).toEqual([null, null]);
    histogram.record(0);
    expect(histogram.percentile(1)).toBe(0);
    histogram.record(1e9);
    expect(histogram.maxMs).toBe(1e9);
    expect(histogram.percentile(1)).toBeGreaterThan(1e6);
  });
});
