// The figures the cluster chaos test reports (never asserts): failover time per partition after kill -9,
// hand-off pauses when a member joins or leaves, and calls per second through the cluster, from the
// client's record and the members' event lines (both on the machine's monotonic clock).

import type { ClusterCall } from './cluster-model.js';
import type { MemberProcess } from './cluster-processes.js';

export interface Spread {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** Nearest-rank percentiles of `values` (ms, rounded to 0.1), or null for none. */
export function spread(values: readonly number[]): Spread | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => Math.round((sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number) * 10) / 10;
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: at(1) };
}

/** Acknowledged calls of one partition, by acknowledgement time. */
export function acksOf(calls: readonly ClusterCall[], partition: number): ClusterCall[] {
  return calls.filter((c) => c.partition === partition && c.ackedAt !== undefined).sort((a, b) => (a.ackedAt as number) - (b.ackedAt as number));
}

export interface Failover {
  readonly partition: number;
  /** Who took it over, and after how long (its `acquired` line). */
  readonly to: string | null;
  readonly takeoverMs: number | null;
  /** The kill to the first acknowledged call on the partition the killed member cannot have answered. */
  readonly firstAckMs: number | null;
}

/**
 * Failover of each partition `killed` owned when it was killed at `killedAt`. A call counts once it
 * was sent after the kill or acknowledged after the new owner's `acquired` line: the killed member
 * answered neither.
 */
export function failovers(calls: readonly ClusterCall[], killed: MemberProcess, owned: readonly number[], killedAt: number, members: Iterable<MemberProcess>): Failover[] {
  const others = [...members].filter((m) => m !== killed);
  return owned.map((partition) => {
    const takeover = others
      .flatMap((m) => m.eventsSince('acquired', killedAt).filter((e) => e.partition === partition).map((e) => ({ id: m.id, t: e.t })))
      .sort((a, b) => a.t - b.t)[0];
    const first = acksOf(calls, partition).find((c) => (c.ackedAt as number) > killedAt && (c.sentAt > killedAt || (takeover !== undefined && (c.ackedAt as number) >= takeover.t)));
    return {
      partition,
      to: takeover?.id ?? null,
      takeoverMs: takeover === undefined ? null : round(takeover.t - killedAt),
      firstAckMs: first === undefined ? null : round((first.ackedAt as number) - killedAt),
    };
  });
}

export interface HandOff {
  readonly partition: number;
  readonly from: string;
  readonly to: string | null;
  /** What the two members said the release and the acquisition took. */
  readonly releaseMs: number | null;
  readonly acquireMs: number | null;
  /** Start of the release to the end of the acquisition. */
  readonly pauseMs: number | null;
  /** The longest time between two acknowledgements on the partition across the hand-off, as the client saw it. */
  readonly clientGapMs: number | null;
}

/** Every hand-off of a partition `from` released between `after` and `before` (monotonic ms). */
export function handOffs(calls: readonly ClusterCall[], from: MemberProcess, after: number, before: number, members: Iterable<MemberProcess>): HandOff[] {
  const others = [...members].filter((m) => m !== from);
  return from.eventsSince('released', after).filter((e) => e.t <= before && e.partition !== undefined).map((released) => {
    const partition = released.partition as number;
    const releaseStart = released.t - (released.ms ?? 0);
    const acquired = others
      .flatMap((m) => m.eventsSince('acquired', releaseStart).filter((e) => e.partition === partition).map((e) => ({ id: m.id, e })))
      .sort((a, b) => a.e.t - b.e.t)[0];
    const acks = acksOf(calls, partition);
    const lastBefore = acks.filter((c) => (c.ackedAt as number) <= released.t).at(-1);
    const firstAfter = acks.find((c) => (c.ackedAt as number) > released.t);
    return {
      partition,
      from: from.id,
      to: acquired?.id ?? null,
      releaseMs: released.ms === undefined ? null : round(released.ms),
      acquireMs: acquired?.e.ms === undefined ? null : round(acquired.e.ms),
      pauseMs: acquired === undefined ? null : round(acquired.e.t - releaseStart),
      clientGapMs: lastBefore === undefined || firstAfter === undefined ? null : round((firstAfter.ackedAt as number) - (lastBefore.ackedAt as number)),
    };
  });
}

/** A named moment of the scenario (monotonic ms). */
export interface Mark {
  readonly step: string;
  readonly t: number;
}

/** Acknowledged calls per second over the whole run and between consecutive marks. */
export function throughput(calls: readonly ClusterCall[], marks: readonly Mark[]): { overall: number; steps: { step: string; seconds: number; acks: number; callsPerSecond: number }[] } {
  const times = calls.flatMap((c) => (c.ackedAt === undefined ? [] : [c.ackedAt])).sort((a, b) => a - b);
  const rate = (acks: number, ms: number): number => (ms > 0 ? Math.round(acks / (ms / 1000)) : 0);
  const overall = times.length < 2 ? 0 : rate(times.length, (times.at(-1) as number) - (times[0] as number));
  const steps = marks.slice(1).map((mark, i) => {
    const start = (marks[i] as Mark).t;
    const acks = times.filter((t) => t > start && t <= mark.t).length;
    return { step: mark.step, seconds: round((mark.t - start) / 1000), acks, callsPerSecond: rate(acks, mark.t - start) };
  });
  return { overall, steps };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
