// A worker's snapshots: takes them of live instances and restores them into fresh ones, against the
// baseline images it builds once (the same in every process: see snapshot-format.ts).

import { SnapshotMismatchError } from '../src/errors.js';
import type { SnapshotData } from '../src/protocol.js';
import {
  baselineDigest, decodeSnapshot, encodeSnapshot, patchFrom, type SnapshotBaseline, type SnapshotIdentity,
} from '../src/snapshot-format.js';
import { ReactorInstance, type InstanceSetup } from './reactor-instance.js';
import type { OutputSink } from './output-sink.js';

/** Where a baseline instance's output goes: nowhere. */
const DISCARD: OutputSink = { capture: { stdout: false, stderr: false }, chunks: undefined, run: undefined };

export class Snapshots {
  readonly #setup: InstanceSetup;
  readonly #identity: SnapshotIdentity;
  /** The post-`_initialize` image; null when `_initialize` does not build the same image twice here. */
  #initialized: SnapshotBaseline | null | undefined;
  /** The image the data segments make, before anything runs. */
  #data: SnapshotBaseline | undefined;

  constructor(setup: InstanceSetup, data: SnapshotData) {
    const functions = new Map(data.functions.map((f) => [f.index, f.exportName]));
    this.#setup = { ...setup, sink: DISCARD, globals: data.globals.map((g) => g.exportName), tables: data.tables, functions };
    this.#identity = {
      moduleDigest: data.moduleDigest,
      globalTypes: data.globals.map((g) => g.type),
      ...(data.tables.length === 0 ? {} : { tables: { count: data.tables.length, functions: new Set(functions.keys()) } }),
      maxPages: data.maxPages,
    };
  }

  /** The instances this worker makes, with the globals and tables snapshots hold. */
  setupFor(sink: OutputSink): InstanceSetup {
    return { ...this.#setup, sink };
  }

  /** A snapshot of `instance` (between operations: nothing of it runs meanwhile). */
  take(instance: ReactorInstance): Uint8Array {
    const { memory, state } = instance.capture(this.#setup);
    return encodeSnapshot(memory, state, this.#identity, this.#initializedBaseline() ?? this.#dataBaseline());
  }

  /**
   * A fresh instance holding the state in `bytes`, writing its output to `sink`. Throws
   * `ERR_INVALID_SNAPSHOT`/`ERR_SNAPSHOT_MISMATCH` errors, `SnapshotRejected`, or what instantiation throws.
   */
  restore(bytes: Uint8Array, sink: OutputSink): ReactorInstance {
    const decoded = decodeSnapshot(bytes, this.#identity, (initialized) => {
      if (!initialized) return this.#dataBaseline();
      const baseline = this.#initializedBaseline();
      if (baseline === null) {
        throw new SnapshotMismatchError('the snapshot was taken against the post-_initialize image, and here `_initialize` does not build the same image twice');
      }
      return baseline;
    });
    return new ReactorInstance(this.setupFor(sink), { kind: 'restore', snapshot: decoded });
  }

  #initializedBaseline(): SnapshotBaseline | null {
    if (this.#initialized === undefined) {
      // Two runs with fixed clocks and randomness: the image is used only if they agree, i.e. if
      // `_initialize` depends on nothing else (then every process builds the same one).
      const first = this.#image('initialize');
      const second = first === undefined ? undefined : this.#image('initialize');
      const same = first !== undefined && second !== undefined && first.digest === second.digest;
      // A restore writes only where this image differs from a fresh instance's memory (the data image).
      this.#initialized = same ? { ...first, patch: patchFrom(this.#dataBaseline().memory, first.memory) } : null;
    }
    return this.#initialized;
  }

  #dataBaseline(): SnapshotBaseline {
    // A restore against this image writes nothing before the snapshot's chunks: a fresh instance holds it.
    if (this.#data === undefined) {
      const image = this.#image('bare');
      if (image !== undefined) this.#data = { ...image, patch: [] };
    }
    if (this.#data === undefined) throw new SnapshotMismatchError('the module cannot be instantiated here to build its initial image');
    return this.#data;
  }

  /** The image of an instance started `kind`, with fixed inputs; undefined if starting it failed. */
  #image(kind: 'initialize' | 'bare'): SnapshotBaseline | undefined {
    let instance: ReactorInstance;
    try {
      instance = new ReactorInstance(this.#setup, { kind, inputs: 'deterministic' });
    } catch {
      return undefined;
    }
    const { memory, state } = instance.capture(this.#setup);
    const copy = memory.slice();
    return { initialized: kind === 'initialize', memory: copy, digest: baselineDigest(copy, state.globals) };
  }
}
