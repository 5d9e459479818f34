// Call latencies for the load test, kept in logarithmic buckets 1% wide: memory stays a few KiB however
// long a run lasts (an array of every sample would grow by millions per minute), and a percentile read
// from a bucket's upper edge overstates the true value by at most 1%.

const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
/** Microseconds; anything faster counts as 1 µs. */
const FLOOR_US = 1;
/** Buckets up to 1.01^2100 µs (about 20 minutes); slower calls count in the last one. */
const BUCKETS = 2101;

export class LatencyHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #maxMs = 0;

  get count(): number {
    return this.#count;
  }

  record(ms: number): void {
    const us = Math.max(ms * 1000, FLOOR_US);
    const bucket = Math.min(Math.ceil(Math.log(us / FLOOR_US) / LOG_GROWTH), BUCKETS - 1);
    this.#counts[bucket] = (this.#counts[bucket] as number) + 1;
    this.#count++;
    if (ms > this.#maxMs) this.#maxMs = ms;
  }

  /** The latency (ms) at or below which `fraction` (0–1] of the calls finished; null before any call. */
  percentile(fraction: number): number | null {
    if (this.#count === 0) return null;
    const rank = Math.ceil(fraction * this.#count);
    let seen = 0;
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      seen += this.#counts[bucket] as number;
      if (seen >= rank) return Math.min((FLOOR_US * GROWTH ** bucket) / 1000, this.#maxMs);
    }
    return this.#maxMs;
  }

  /** The slowest call (ms), exactly; null before any call. */
  get maxMs(): number | null {
    return this.#count === 0 ? null : this.#maxMs;
  }
}
