// Which member should own each partition (rendezvous hashing over the live members), and what one
// member does in one round to get there: pure functions of what it has observed, no I/O, no clock.

import { hashKey, weight } from '../placement.js';

/** The weight of (partition, member): the pool's placement weight (a murmur3 finalizer) over the member id's hash and the partition. */
export function partitionWeight(partition: number, memberHash: number): number {
  return weight(memberHash, partition);
}

/**
 * The member that should own `partition`: the highest weight among `members` (ties to the smaller id),
 * or undefined when there is none. Adding a member moves only the partitions it wins; removing one
 * moves only its own.
 */
export function rendezvousTarget(partition: number, members: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestWeight = -1;
  for (const member of members) {
    const w = partitionWeight(partition, hashKey(member));
    if (w > bestWeight || (w === bestWeight && best !== undefined && member < best)) {
      best = member;
      bestWeight = w;
    }
  }
  return best;
}

/** A partition's lease as one member last saw it. */
export interface ObservedLease {
  readonly owner: string | null;
  readonly epoch: number;
}

/** What this member is doing with a partition it holds. */
export type HoldState = 'acquiring' | 'serving' | 'releasing';

/** Everything one round is decided from. */
export interface RoundView {
  readonly self: string;
  readonly partitions: number;
  /** Live members that take partitions (not draining), this member included when it does. */
  readonly targets: readonly string[];
  /** Whether a member is alive (draining members are alive: they still serve until they hand over). */
  readonly isAlive: (memberId: string) => boolean;
  /** The leases seen; absent = no lease; `'unreadable'` = a record this version cannot read. */
  readonly leases: ReadonlyMap<number, ObservedLease | 'unreadable'>;
  /** The partitions this member holds, with what it is doing with each, and the epoch it took them at. */
  readonly held: ReadonlyMap<number, { readonly state: HoldState; readonly epoch: number }>;
  /** Partitions not to take this round (their host just failed them). */
  readonly resting: ReadonlySet<number>;
  /** Hand-overs at once (releases under way count). */
  readonly maxMoves: number;
  /** Acquisitions at once (those under way count). */
  readonly maxAcquiring: number;
  /** False while this member may not take partitions (draining, or its heartbeat is failing). */
  readonly mayTake: boolean;
  /** True once this member is leaving: it gives its leases back even with no member to hand them to. */
  readonly draining: boolean;
}

/** What to do in one round. */
export interface RoundPlan {
  /** Free partitions (no lease, no owner, a dead owner) this member is the target of: take them. */
  readonly take: readonly number[];
  /** Partitions this member serves whose target is another member (or, draining with no other member, none). */
  readonly handOver: readonly number[];
  /** Partitions this member holds whose lease another member now has: stop serving at once. */
  readonly abandon: readonly number[];
  /**
   * Leases in this member's name that it does not hold (a take it gave up, partitions it dropped when
   * its heartbeat failed, a previous life of its id) and is not taking: give them back, or their
   * target, seeing a live owner, would wait for a hand-over that never comes.
   */
  readonly disown: readonly number[];
}

/** The plan of one round for `view.self`. */
export function planRound(view: RoundView): RoundPlan {
  const abandon: number[] = [];
  for (const [partition, hold] of view.held) {
    const lease = view.leases.get(partition);
    // A lease older than the one this member wrote is stale news; a later one, or the same epoch named
    // for someone else, means another member took the partition.
    if (lease === undefined || lease === 'unreadable') continue;
    if (lease.epoch > hold.epoch || (lease.epoch === hold.epoch && lease.owner !== null && lease.owner !== view.self)) {
      abandon.push(partition);
    }
  }
  const abandoned = new Set(abandon);

  const take: number[] = [];
  if (view.mayTake) {
    let acquiring = 0;
    for (const hold of view.held.values()) if (hold.state === 'acquiring') acquiring++;
    for (let p = 0; p < view.partitions && acquiring < view.maxAcquiring; p++) {
      if (view.held.has(p) || view.resting.has(p) || rendezvousTarget(p, view.targets) !== view.self) continue;
      const lease = view.leases.get(p);
      if (lease === 'unreadable') continue;
      const free = lease === undefined || lease.owner === null || lease.owner === view.self || !view.isAlive(lease.owner);
      if (free) {
        take.push(p);
        acquiring++;
      }
    }
  }

  const handOver: number[] = [];
  let releasing = 0;
  for (const hold of view.held.values()) if (hold.state === 'releasing') releasing++;
  for (const [partition, hold] of [...view.held].sort((a, b) => a[0] - b[0])) {
    if (releasing >= view.maxMoves) break;
    if (hold.state !== 'serving' || abandoned.has(partition)) continue;
    const target = rendezvousTarget(partition, view.targets);
    if (target === view.self) continue;
    // No target at all: only a draining member with no one to hand to gives its leases back.
    if (target === undefined && !view.draining) continue;
    handOver.push(partition);
    releasing++;
  }
  const taking = new Set(take);
  const disown: number[] = [];
  for (const [partition, lease] of view.leases) {
    if (lease === 'unreadable' || lease.owner !== view.self || view.held.has(partition) || taking.has(partition)) continue;
    disown.push(partition);
  }
  return { take, handOver, abandon, disown };
}
