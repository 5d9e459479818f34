// Where hibernated sessions' snapshots go: the store interface, the in-memory default and the
// embedded directory store, and how the `store` option becomes one of them.

import { createHash } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from './atomic-file.js';
import { InvalidOptionError, describeValue } from './errors.js';

/**
 * Where the pool keeps the snapshots of hibernated sessions, by session key. Any object with these
 * three async methods will do (a database, an object store); the pool calls them from the main
 * thread, never twice at once for one key, and awaits each. A `get` for a key never `set` (or
 * deleted) resolves with `undefined`. A method that rejects (or throws) fails only what needed it:
 * a failed `set` leaves the session awake, a failed `get` loses it (`ERR_SESSION_LOST`), a failed
 * `delete` is ignored (the snapshot is stale: the pool never reads it again without a newer `set`).
 */
export interface SnapshotStore {
  get(key: string): Promise<Uint8Array | undefined>;
  set(key: string, snapshot: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
}

/** The default store: a Map in this process. */
export class MemorySnapshotStore implements SnapshotStore {
  readonly #snapshots = new Map<string, Uint8Array>();

  get(key: string): Promise<Uint8Array | undefined> {
    return Promise.resolve(this.#snapshots.get(key));
  }

  set(key: string, snapshot: Uint8Array): Promise<void> {
    this.#snapshots.set(key, snapshot);
    return Promise.resolve();
  }

  delete(key: string): Promise<void> {
    this.#snapshots.delete(key);
    return Promise.resolve();
  }
}

/**
 * The embedded on-disk store: one file per session in a directory (created if missing), named by the
 * SHA-256 of its key. A file is written whole to a temporary name and renamed into place, so a crash
 * leaves the old snapshot or the new one, never half of one. Not fsynced: hibernation trades memory
 * for disk, it does not promise durability across a power loss.
 */
export class DirectorySnapshotStore implements SnapshotStore {
  readonly directory: string;
  #ready: Promise<unknown> | undefined;

  constructor(directory: string) {
    this.directory = directory;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(this.#path(key)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async set(key: string, snapshot: Uint8Array): Promise<void> {
    this.#ready ??= mkdir(this.directory, { recursive: true });
    await this.#ready;
    await writeFileAtomically(this.#path(key), snapshot, { sync: false });
  }

  async delete(key: string): Promise<void> {
    await rm(this.#path(key), { force: true });
  }

  #path(key: string): string {
    return join(this.directory, `${createHash('sha256').update(key).digest('hex')}.snapshot`);
  }
}

/** The `store` option: undefined (in memory), a directory path, or a {@link SnapshotStore}. */
export type StoreOption = string | SnapshotStore;

/** Checks the `store` option and makes the store it names. */
export function resolveStore(value: unknown): SnapshotStore {
  if (value === undefined) return new MemorySnapshotStore();
  if (typeof value === 'string' && value.length > 0) return new DirectorySnapshotStore(value);
  if (typeof value === 'object' && value !== null) {
    const store = value as Partial<Record<keyof SnapshotStore, unknown>>;
    const missing = (['get', 'set', 'delete'] as const).filter((name) => typeof store[name] !== 'function');
    if (missing.length === 0) return value as SnapshotStore;
    throw new InvalidOptionError(`Expected \`store\` to have async get, set and delete methods; missing: ${missing.join(', ')}`);
  }
  throw new InvalidOptionError(`Expected \`store\` to be a directory path or an object with get, set and delete, got ${describeValue(value)}`);
}
