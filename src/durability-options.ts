// The `durability` option of a pool: where the journal and the sessions' snapshots live, how often a
// session's journal is compacted into a snapshot, how sessions come back after a restart. Checked up front.

import { InvalidOptionError, describeValue } from './errors.js';
import { DirectoryDurableStore, type DurableStore } from './durable-store.js';
import { positiveLimit, readOptionObject } from './options.js';

/** When a session's journal is compacted into a snapshot: whichever of these comes first. */
export interface SnapshotEvery {
  /** Calls journaled since the session's last snapshot. @default 1000 */
  readonly calls?: number;
  /** Bytes of journal written for the session since its last snapshot. @default 1_048_576 (1 MiB) */
  readonly bytes?: number;
  /** Milliseconds since the session's oldest call not yet in a snapshot. @default 60_000 */
  readonly ms?: number;
}

/**
 * Durable sessions: a call resolves only once its record is on stable storage, and a session is
 * rebuilt (snapshot + journal) instead of lost when its instance goes, or when the process restarts.
 */
export interface DurabilityOptions {
  /** A local directory for the journal and the snapshots (created if missing; one process at a time). Give this or `store`. */
  readonly dir?: string;
  /** Any {@link DurableStore} instead of a directory. Give this or `dir`. */
  readonly store?: DurableStore;
  /** When sessions' journals are compacted into snapshots. @default { calls: 1000, bytes: 1 MiB, ms: 60_000 } */
  readonly snapshotEvery?: SnapshotEvery;
  /**
   * After a restart: `'lazy'` rebuilds a session on its first operation; `'eager'` rebuilds every
   * session (up to the active-session cap) as soon as the pool is created.
   * @default 'lazy'
   */
  readonly recover?: 'lazy' | 'eager';
  /**
   * Idempotency keys remembered per session (`session.with({ idempotencyKey })`); past it the oldest is
   * forgotten (a retry with it then runs again).
   * @default 1000
   */
  readonly idempotencyKeys?: number;
  /**
   * Bytes of journal per segment file: past it the journal goes on in a new one, and a compaction round
   * frees the oldest (sessions still needing it have their snapshot's record and later records written again).
   * @default 67_108_864 (64 MiB)
   */
  readonly segmentBytes?: number;
}

export interface ResolvedDurability {
  readonly store: DurableStore;
  /** Where the store is, for messages. */
  readonly where: string;
  readonly snapshotEvery: { readonly calls: number; readonly bytes: number; readonly ms: number };
  readonly recover: 'lazy' | 'eager';
  readonly idempotencyKeys: number;
  readonly segmentBytes: number;
}

const KNOWN = ['dir', 'store', 'snapshotEvery', 'recover', 'idempotencyKeys', 'segmentBytes'] as const;
const STORE_METHODS = [
  'open', 'segments', 'readSegment', 'append', 'deleteSegment', 'writeSnapshot', 'readSnapshot', 'deleteSnapshot', 'snapshots', 'close',
] as const;

export function resolveDurability(value: unknown): ResolvedDurability | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(`Expected \`durability\` to be an object ({ dir } or { store }), got ${describeValue(value)}`);
  }
  const given = readOptionObject(value, 'durability');
  for (const name of Object.keys(given)) {
    if (!(KNOWN as readonly string[]).includes(name)) throw new InvalidOptionError(`Unknown option \`durability.${name}\` (known: ${KNOWN.join(', ')})`);
  }
  const { dir, store } = given;
  if ((dir === undefined) === (store === undefined)) {
    throw new InvalidOptionError(`Expected \`durability\` to have exactly one of \`dir\` and \`store\`, got ${dir === undefined ? 'neither' : 'both'}`);
  }
  let resolved: DurableStore;
  let where: string;
  if (dir !== undefined) {
    if (typeof dir !== 'string' || dir.length === 0) throw new InvalidOptionError(`Expected \`durability.dir\` to be a directory path, got ${describeValue(dir)}`);
    resolved = new DirectoryDurableStore(dir);
    where = dir;
  } else {
    if (typeof store !== 'object' || store === null) throw new InvalidOptionError(`Expected \`durability.store\` to be a DurableStore object, got ${describeValue(store)}`);
    const missing = STORE_METHODS.filter((name) => typeof (store as Record<string, unknown>)[name] !== 'function');
    if (missing.length > 0) throw new InvalidOptionError(`Expected \`durability.store\` to implement DurableStore, but it has no ${missing.join(', ')} method`);
    resolved = store as DurableStore;
    where = 'the durable store';
  }
  return Object.freeze({
    store: resolved,
    where,
    snapshotEvery: resolveSnapshotEvery(given['snapshotEvery']),
    recover: resolveRecover(given['recover']),
    idempotencyKeys: positiveLimit('durability.idempotencyKeys', given['idempotencyKeys'], 1000),
    segmentBytes: finite('durability.segmentBytes', given['segmentBytes'], 64 * 1024 * 1024),
  });
}

function resolveSnapshotEvery(value: unknown): ResolvedDurability['snapshotEvery'] {
  if (value === undefined) return { calls: 1000, bytes: 1 << 20, ms: 60_000 };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(`Expected \`durability.snapshotEvery\` to be an object ({ calls, bytes, ms }), got ${describeValue(value)}`);
  }
  const given = readOptionObject(value, 'durability.snapshotEvery');
  for (const name of Object.keys(given)) {
    if (name !== 'calls' && name !== 'bytes' && name !== 'ms') throw new InvalidOptionError(`Unknown option \`durability.snapshotEvery.${name}\` (known: calls, bytes, ms)`);
  }
  return Object.freeze({
    calls: positiveLimit('durability.snapshotEvery.calls', given['calls'], 1000),
    bytes: positiveLimit('durability.snapshotEvery.bytes', given['bytes'], 1 << 20),
    ms: positiveLimit('durability.snapshotEvery.ms', given['ms'], 60_000),
  });
}

function resolveRecover(value: unknown): 'lazy' | 'eager' {
  if (value === undefined) return 'lazy';
  if (value !== 'lazy' && value !== 'eager') throw new InvalidOptionError(`Expected \`durability.recover\` to be 'lazy' or 'eager', got ${describeValue(value)}`);
  return value;
}

/** A positive integer (no Infinity). */
function finite(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidOptionError(`Expected \`${name}\` to be a positive integer, got ${describeValue(value)}`);
  }
  return value;
}

