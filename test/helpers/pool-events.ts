// Waiting on a pool's events: the handshake hibernation tests use instead of sleeps. Each wait is
// bounded, so a hibernation that never comes fails the test with what was awaited, not a hang.

import type { PoolStats, ReactorPool, ReactorPoolEvents } from '../../dist/src/index.js';
import { untilEvents, type WatchedEmitter } from './bounded-wait.js';

/**
 * How long a wait may take before the test fails: a safety net, never what a test measures. Generous:
 * checkpoints fsync, and beside other test files' disk writes (a nats-server's journals) an fsync has
 * taken long enough here for 15 s to pass.
 */
const BOUND_MS = 60_000;

/** Resolves with the first `name` event that `matches`; rejects once {@link BOUND_MS} passed without one. */
export async function nextEvent<K extends keyof ReactorPoolEvents>(
  pool: ReactorPool,
  name: K,
  matches: (...args: ReactorPoolEvents[K]) => boolean = () => true,
): Promise<ReactorPoolEvents[K][0]> {
  let found: { readonly event: ReactorPoolEvents[K][0] } | undefined;
  const collect = (...args: ReactorPoolEvents[K]): void => {
    if (found === undefined && matches(...args)) found = { event: args[0] };
  };
  pool.on(name, collect as never);
  try {
    await untilEvents(pool, [name], () => found !== undefined, {
      boundMs: BOUND_MS,
      failure: () => `no matching '${String(name)}' event within ${BOUND_MS} ms`,
    });
  } finally {
    pool.off(name, collect as never);
  }
  return (found as { readonly event: ReactorPoolEvents[K][0] }).event;
}

/** What {@link until} needs of a pool (typed by its exports or not). */
interface WatchedPool extends WatchedEmitter<'sessionHibernated' | 'sessionRestored'> {
  stats(): PoolStats;
}

/**
 * Resolves once `condition()` holds, checked now and after each of the pool's hibernation events (and
 * on a coarse poll, for figures such as memory that change without one); rejects with `what` and the
 * pool's last stats once {@link BOUND_MS} passed.
 */
export function until(pool: WatchedPool, condition: () => boolean, what: string): Promise<void> {
  return untilEvents(pool, ['sessionHibernated', 'sessionRestored'], condition, {
    boundMs: BOUND_MS,
    pollMs: 20,
    failure: () => `${what}: not reached within ${BOUND_MS} ms (stats ${JSON.stringify(pool.stats())})`,
  });
}

/** Resolves once the async `condition()` holds (polled); rejects with `what` once {@link BOUND_MS} passed. */
export async function eventually(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = performance.now() + BOUND_MS;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`${what}: not reached within ${BOUND_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
