// Waiting on a cluster member's events: the handshake the cluster tests use instead of sleeps. Each
// wait is bounded, so an ownership change that never comes fails the test with what was awaited.

import type { ClusterMember, ClusterMemberEvents } from '../../dist/src/cluster/index.js';
import { untilEvents } from './bounded-wait.js';

/**
 * How long a wait may take before the test fails: a safety net, never what a test measures. Under the
 * tests' 30 s timeout, so that a wait that never ends fails saying what it saw.
 */
const BOUND_MS = 20_000;

/**
 * Resolves with the next `count` `name` events of `member` (counted from this call on); rejects with
 * those seen once {@link BOUND_MS} passed without them all.
 */
export async function memberEvents<K extends keyof ClusterMemberEvents>(
  member: ClusterMember,
  name: K,
  count: number,
): Promise<ClusterMemberEvents[K][0][]> {
  const seen: ClusterMemberEvents[K][0][] = [];
  const collect = (event: ClusterMemberEvents[K][0]): void => {
    seen.push(event);
  };
  member.on(name, collect as never);
  try {
    await untilEvents(member, [name], () => seen.length >= count, {
      boundMs: BOUND_MS,
      failure: () => `${count} '${String(name)}' events awaited, ${seen.length} seen within ${BOUND_MS} ms: ${JSON.stringify(seen)}`,
    });
  } finally {
    member.off(name, collect as never);
  }
  return seen.slice(0, count);
}

/**
 * Resolves once `condition()` holds, checked now and after each of `member`'s ownership events;
 * rejects with the partitions it owns then once {@link BOUND_MS} passed without it.
 */
export function memberUntil(member: ClusterMember, condition: () => boolean, what: string): Promise<void> {
  return untilEvents(member, ['partitionAcquired', 'partitionReleased', 'partitionLost'], condition, {
    boundMs: BOUND_MS,
    failure: () => `${what}: not reached within ${BOUND_MS} ms (the member owns ${JSON.stringify(member.owned())})`,
  });
}
