// Whether this pool can snapshot its sessions (the module, and the pool's configuration), and the
// main thread's checks on snapshot bytes before anything runs.

import { types } from 'node:util';
import { MemoryLimitError, NotSnapshottableError, SnapshotMismatchError } from './errors.js';
import type { ModuleSpec } from './module-spec.js';
import type { SnapshotData } from './protocol.js';
import { MAX_PAGES, PAGE, readSnapshotHeader, type SnapshotGlobalType } from './snapshot-format.js';

/** One reason the pool cannot snapshot: the module's (`spec.snapshot.reasons`) or its configuration's. */
export interface SnapshotRefusal { readonly code: string; readonly message: string }

const SNAPSHOT_TYPES: ReadonlySet<string> = new Set<SnapshotGlobalType>(['i32', 'i64', 'f32', 'f64']);

export class SnapshotSupport {
  /** Why snapshots are refused; empty when they are possible. */
  readonly refusals: readonly SnapshotRefusal[];
  /** What workers need to take and restore snapshots; undefined when refused. */
  readonly workerData: SnapshotData | undefined;

  /** Pages of memory a restored instance may hold: the module's maximum, and memoryLimit. */
  readonly #maxPages: number;
  readonly #memoryLimit: number;

  constructor(
    spec: ModuleSpec, moduleDigest: Uint8Array | undefined,
    config: { readonly isolation: 'session' | 'worker'; readonly preopens: number; readonly memoryLimit: number },
  ) {
    this.#memoryLimit = config.memoryLimit;
    this.#maxPages = Math.min(spec.memory?.maximumPages ?? MAX_PAGES, Math.floor(config.memoryLimit / PAGE));
    const refusals: SnapshotRefusal[] = [...spec.snapshot.reasons];
    const globals = spec.mutableGlobals?.map((g) => ({ exportName: g.exportName, type: g.type }));
    if (spec.snapshot.possible && (globals === undefined || globals.some((g) => g.exportName === undefined || !SNAPSHOT_TYPES.has(g.type)))) {
      refusals.push({ code: 'unreadable-global', message: 'the loader could not export every mutable global of the module' });
    }
    if (spec.snapshot.possible && moduleDigest === undefined) refusals.push({ code: 'no-bytes', message: 'the module came compiled, so it has no digest to tie snapshots to' });
    if (config.isolation === 'worker') {
      refusals.push({ code: 'isolation-worker', message: "with isolation 'worker' sessions share their worker's instance, so no instance holds one session's state" });
    }
    if (config.preopens > 0) {
      refusals.push({ code: 'preopens', message: 'preopened directories are configured: files the guest opens through them would not survive a restore' });
    }
    this.refusals = refusals;
    const tables = (spec.mutableTables ?? []).map((t) => t.exportName);
    const functions = spec.tableFunctions ?? [];
    this.workerData = refusals.length === 0 && moduleDigest !== undefined && globals !== undefined
      ? { moduleDigest, globals: globals as SnapshotData['globals'], tables, functions, maxPages: this.#maxPages }
      : undefined;
  }

  /** Throws `ERR_NOT_SNAPSHOTTABLE` naming every reason, unless snapshots are possible. */
  assertPossible(what: string): SnapshotData {
    if (this.workerData !== undefined) return this.workerData;
    throw new NotSnapshottableError(
      `${what}: this pool cannot snapshot sessions: ${this.refusals.map((r) => `${r.message} (${r.code})`).join('; ')}`,
    );
  }

  /**
   * Checks `bytes` as a snapshot of this pool's module (format, checksum, module digest) and returns a
   * copy the caller cannot change: `ERR_INVALID_SNAPSHOT` / `ERR_SNAPSHOT_MISMATCH` otherwise.
   */
  check(bytes: unknown, what: string): Uint8Array {
    const data = this.assertPossible(what);
    // Copied first (a brand check, then the engine's own copy: no user code runs), then checked: the
    // caller may change or reuse its buffer as soon as this returns.
    const copy = types.isUint8Array(bytes) ? new Uint8Array(bytes) : bytes;
    let pages: number;
    try {
      ({ pages } = readSnapshotHeader(copy, data.moduleDigest));
    } catch (error) {
      (error as Error).message = `${what}: ${(error as Error).message}`;
      throw error;
    }
    if (pages * PAGE > this.#memoryLimit) {
      throw new MemoryLimitError(`${what}: the snapshot's memory is ${pages * PAGE} bytes, over the memoryLimit of ${this.#memoryLimit}; nothing was restored`, { limit: this.#memoryLimit });
    }
    if (pages > this.#maxPages) {
      throw new SnapshotMismatchError(`${what}: the snapshot's memory is ${pages} pages, more than this module's maximum of ${this.#maxPages}`);
    }
    return copy as Uint8Array;
  }
}
