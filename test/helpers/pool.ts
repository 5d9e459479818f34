// Every test imports the built package, as a user would, and closes its pools.

import { afterEach } from 'vitest';
import { ReactorPool, type NoResultModes, type TypedPoolOptions, type UntypedExports } from '../../dist/src/index.js';

const open = new Set<{ destroy(): Promise<void> }>();

afterEach(destroyPools);

/** Destroys every pool {@link createPool} made (after each test; earlier where a cleanup needs them gone). */
export async function destroyPools(): Promise<void> {
  await Promise.all([...open].map((pool) => pool.destroy()));
  open.clear();
}

/**
 * Creates a pool that is destroyed after the test (output ignored unless the options say otherwise);
 * typed by the module's exports `E` when given, as `ReactorPool.create` is.
 */
export async function createPool<E extends object = UntypedExports, const M extends object = NoResultModes>(
  options: TypedPoolOptions<E, M>,
): Promise<ReactorPool<E, M>> {
  const pool = await ReactorPool.create<E, M>({ stdout: 'ignore', stderr: 'ignore', ...options });
  open.add(pool);
  return pool;
}

/** The internal hook runaway-call timeouts use: ends a worker thread as a crash would. */
export function terminateWorker(pool: object, workerId: number): Promise<void> {
  return (pool as unknown as { terminateWorker(id: number): Promise<void> }).terminateWorker(workerId);
}

/** The first `count` keys with `prefix` placed on `worker` (the others stay placed, without instances). */
export function keysOn(pool: { session(key: string): { readonly workerId: number } }, worker: number, count: number, prefix: string): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++) {
    if (pool.session(`${prefix}${i}`).workerId === worker) keys.push(`${prefix}${i}`);
  }
  return keys;
}

/** What tests read off a rejection: an Error with a `code` and whatever details it carries. */
export type Rejection = Error & { code?: string; [detail: string]: unknown };

/** Resolves to the error a promise rejects with; fails the test if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Rejection> {
  let value: unknown;
  try {
    value = await promise;
  } catch (error) {
    return error as Rejection;
  }
  throw new Error(`expected a rejection, got ${String(value)}`);
}
