// What a cluster member reports of itself (`member.metrics()`): types only, apart from the member so
// that the Prometheus adapter's declarations do not reach the NATS client's.

import type { PoolMetrics } from '../pool-metrics.js';

/** Counters of one partition's serving, summed into the member's metrics. */
export interface ServingCounts {
  batches: number;
  operations: number;
  /** Batches answered `moved` (this member was not serving the partition). */
  moved: number;
  /** Operations answered "send again" (the journal refused them, or the pool stopped under them). */
  resent: number;
}

/** A member's running figures: each owned partition's pool metrics, and what it served. */
export interface MemberMetrics {
  readonly memberId: string;
  /** Every partition served now, with its pool's metrics. */
  readonly partitions: readonly { readonly partition: number; readonly epoch: number; readonly pool: PoolMetrics }[];
  /** Since the member joined, over every partition it served. */
  readonly served: Readonly<ServingCounts>;
  readonly acquired: number;
  readonly released: number;
  readonly lost: number;
}
