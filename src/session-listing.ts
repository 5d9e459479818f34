// `pool.sessions()`: one entry per session the pool knows, with its state and counters, read from the
// session directory (and, for a durable pool, the keys its store holds) in one pass.

import type { Session } from './session.js';
import { wallClockOf } from './tick-clock.js';

/**
 * Where a session's state is now: `'live'` (in an instance, or its start is queued), `'unstarted'` (no
 * instance yet: no call made, or its start was refused), `'hibernated'` (in the snapshot store),
 * `'lost'` (the loss rule: calls reject until `reset()`), `'stored'` (a durable pool: the store holds
 * its state, no handle for it is open in this pool; `pool.session(key)` recovers it).
 */
export type SessionState = 'live' | 'unstarted' | 'hibernated' | 'lost' | 'stored';

/** One session, as {@link ReactorPool.sessions} lists it. */
export interface SessionInfo {
  readonly key: string;
  readonly state: SessionState;
  /** The worker it is placed on; undefined for `'stored'`. */
  readonly workerId: number | undefined;
  /** Calls (`call`, `callMany`, each counting once) and snapshots admitted on this handle. */
  readonly calls: number;
  /** When the last of them was made (ms since the epoch, to the tick); undefined before any. */
  readonly lastCallAt: number | undefined;
  /** Bytes of its snapshot in the store when `'hibernated'` (undefined otherwise: a live instance's memory is counted per worker). */
  readonly storedBytes: number | undefined;
}

/** The state of an open session. */
export function stateOf(session: Session): Exclude<SessionState, 'stored'> {
  if (session.lost) return 'lost';
  if (session.hibernated) return 'hibernated';
  return session.hasInstance ? 'live' : 'unstarted';
}

/**
 * Every open session (in the order they were opened), then every `storedKeys` key without an open
 * session. `bytesOf`: a hibernated session's snapshot size.
 */
export function listSessions(
  open: Iterable<Session>, storedKeys: readonly string[], bytesOf: (key: string) => number | undefined,
): SessionInfo[] {
  const list: SessionInfo[] = [];
  const seen = new Set<string>();
  for (const session of open) {
    const state = stateOf(session);
    seen.add(session.key);
    list.push({
      key: session.key,
      state,
      workerId: session.workerId,
      calls: session.ops,
      lastCallAt: session.lastCallAt < 0 ? undefined : wallClockOf(session.lastCallAt),
      storedBytes: state === 'hibernated' ? bytesOf(session.key) : undefined,
    });
  }
  for (const key of storedKeys) {
    if (!seen.has(key)) list.push({ key, state: 'stored', workerId: undefined, calls: 0, lastCallAt: undefined, storedBytes: undefined });
  }
  return list;
}
