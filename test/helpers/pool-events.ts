// Waiting on a pool's events: the handshake hibernation tests use instead of sleeps. Each wait is
// bounded, so a hibernation that never comes fails the test with what was awaited, not a hang.

import type { PoolStats, ReactorPool, ReactorPoolEvents } from '../../dist/src/index.js';

/**
 * How long a wait may take before the test fails: a safety net, never what a test measures. Generous:
 * checkpoints fsync, and beside other test files' disk writes (a nats-server's journals) an fsync has
 * taken long enough here for 15 s to pass.
 */
const BOUND_MS = 60_000;

/** Resolves with the first `name` event that `matches`; rejects once {@link BOUND_MS} passed without one. */
export function nextEvent<K extends keyof ReactorPoolEvents>(
  pool: ReactorPool,
  name: K,
  matches: (...args: ReactorPoolEvents[K]) => boolean = () => true,
): Promise<ReactorPoolEvents[K][0]> {
  return new Promise((resolve, reject) => {
    const listener = (...args: ReactorPoolEvents[K]): void => {
      if (!matches(...args)) return;
      done();
      resolve(args[0]);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no matching '${String(name)}' event within ${BOUND_MS} ms`));
    }, BOUND_MS);
    const done = (): void => {
      clearTimeout(timer);
      pool.off(name, listener as never);
    };
    pool.on(name, listener as never);
  });
}

/**
 * Resolves once `condition()` holds, checked now and after each of the pool's hibernation events (and
 * on a coarse poll, for figures such as memory that change without one); rejects with `what` and the
 * pool's last stats once {@link BOUND_MS} passed.
 */
/** What {@link until} needs of a pool (typed by its exports or not). */
interface WatchedPool {
  on(event: 'sessionHibernated' | 'sessionRestored', listener: () => void): unknown;
  off(event: 'sessionHibernated' | 'sessionRestored', listener: () => void): unknown;
  stats(): PoolStats;
}

export function until(pool: WatchedPool, condition: () => boolean, what: string): Promise<void> {
  if (condition()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (!condition()) return;
      done();
      resolve();
    };
    const poll = setInterval(check, 20);
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${what}: not reached within ${BOUND_MS} ms (stats ${JSON.stringify(pool.stats())})`));
    }, BOUND_MS);
    const done = (): void => {
      clearInterval(poll);
      clearTimeout(timer);
      pool.off('sessionHibernated', check);
      pool.off('sessionRestored', check);
    };
    pool.on('sessionHibernated', check);
    pool.on('sessionRestored', check);
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
