// Latencies kept in logarithmic buckets 1% wide: memory stays a few KiB however many samples there are
// (an array of every sample would grow by millions per minute), and a percentile read from a bucket's
// upper edge overstates the true value by at most 1%. The load test and the pool's metrics both use it.

const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
/** Microseconds; anything faster counts as 1 µs. */
const FLOOR_US = 1;
/** Buckets up to 1.01^2100 µs (about 20 minutes); slower samples count in the last one. */
const BUCKETS = 2101;

/** A histogram's totals at one moment (milliseconds). */
export interface LatencySnapshot {
  /** Samples recorded. */
  readonly count: number;
  /** Their sum, in milliseconds. */
  readonly sumMs: number;
  /** The 50th, 90th and 99th percentiles and the maximum, in milliseconds (at most 1% above the exact value); null before any sample. */
  readonly p50Ms: number | null;
  readonly p90Ms: number | null;
  readonly p99Ms: number | null;
  readonly maxMs: number | null;
  /**
   * Cumulative counts at the given upper bounds (ms), as Prometheus buckets are: `counts[i]` samples
   * took at most `boundsMs[i]` (to within 1%: a sample counts against a bound its 1% bucket's upper
   * edge does not pass). Empty unless bounds were asked for.
   */
  readonly boundsMs: readonly number[];
  readonly counts: readonly number[];
}

export class LatencyHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sumMs = 0;
  #maxMs = 0;
  /** The last sample and its bucket: samples timed by one clock reading per tick often repeat. */
  #lastMs = -1;
  #lastBucket = 0;

  get count(): number {
    return this.#count;
  }

  record(ms: number): void {
    let bucket: number;
    if (ms === this.#lastMs) {
      bucket = this.#lastBucket;
    } else {
      const us = Math.max(ms * 1000, FLOOR_US);
      bucket = Math.min(Math.ceil(Math.log(us / FLOOR_US) / LOG_GROWTH), BUCKETS - 1);
      this.#lastMs = ms;
      this.#lastBucket = bucket;
      if (ms > this.#maxMs) this.#maxMs = ms;
    }
    this.#counts[bucket] = (this.#counts[bucket] as number) + 1;
    this.#count++;
    this.#sumMs += ms;
  }

  /** The latency (ms) at or below which `fraction` (0–1] of the samples fall; null before any sample. */
  percentile(fraction: number): number | null {
    if (this.#count === 0) return null;
    const rank = Math.ceil(fraction * this.#count);
    let seen = 0;
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      seen += this.#counts[bucket] as number;
      if (seen >= rank) return Math.min(upperEdgeMs(bucket), this.#maxMs);
    }
    return this.#maxMs;
  }

  /** The slowest sample (ms), exactly; null before any sample. */
  get maxMs(): number | null {
    return this.#count === 0 ? null : this.#maxMs;
  }

  /** The totals now, with cumulative counts at `boundsMs` (ascending). One pass over the buckets. */
  snapshot(boundsMs: readonly number[] = []): LatencySnapshot {
    const counts: number[] = [];
    let seen = 0;
    let bucket = 0;
    for (const bound of boundsMs) {
      while (bucket < BUCKETS && upperEdgeMs(bucket) <= bound * (1 + 1e-9)) seen += this.#counts[bucket++] as number;
      counts.push(seen);
    }
    return {
      count: this.#count,
      sumMs: this.#sumMs,
      p50Ms: this.percentile(0.5),
      p90Ms: this.percentile(0.9),
      p99Ms: this.percentile(0.99),
      maxMs: this.maxMs,
      boundsMs: [...boundsMs],
      counts,
    };
  }
}

/** The upper edge of `bucket`, in ms. */
function upperEdgeMs(bucket: number): number {
  return (FLOOR_US * GROWTH ** bucket) / 1000;
}
