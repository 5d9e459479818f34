// One live reactor: a wasm instance linked against its own sealed WASI surface (see sealed-wasi.ts),
// started by running `_initialize` once; its exports are called through here.

import type { WASI as WasiClass } from 'node:wasi';
import type { AddressSpaceGuard } from './address-space-guard.js';
import type { AllocatorKind, BufferArg, ResultMode, TypedResultKind, WasiConfig, WasmValue } from '../src/protocol.js';
import { PAGE, type DecodedSnapshot, type InstanceState, type TableContents } from '../src/snapshot-format.js';
import { GuestMemory, OutOfBounds } from './guest-memory.js';
import type { HostFunctionLinker } from './host-calls.js';
import type { InputTape } from './input-tape.js';
import type { OutputSink } from './output-sink.js';
import { SealedWasi, type WasiInputs } from './sealed-wasi.js';

export { takeOutput, type OutputSink } from './output-sink.js';
export { ReactorExit } from './sealed-wasi.js';

type ExportFn = (...args: WasmValue[]) => unknown;

/** What every instance of a worker is made from. */
export interface InstanceSetup {
  readonly WASI: typeof WasiClass;
  readonly module: WebAssembly.Module;
  readonly exportNames: readonly string[];
  readonly config: WasiConfig;
  readonly sink: OutputSink;
  /** Where the instance's clock, random and poll inputs are recorded or replayed from (durable sessions); undefined: none. */
  readonly tape?: InputTape | undefined;
  readonly allocator: AllocatorKind | undefined;
  readonly stackPointer: string | undefined;
  /** The exports of the module's mutable globals in index order (the loader exports them all): what snapshots hold. */
  readonly globals: readonly string[];
  /** When code can change the module's tables: every table's export, in index order (else empty). */
  readonly tables: readonly string[];
  /** With `tables`: the export of each function that can be put in one, by function index. */
  readonly functions: ReadonlyMap<number, string>;
  /** The host functions the module imports (the `hostFunctions` option); undefined: none. */
  readonly host?: HostFunctionLinker | undefined;
  /** Checks each instantiation against the process's address space (where the engine would end the thread); undefined: none. */
  readonly room?: AddressSpaceGuard | undefined;
}

/** How an instance starts (see the {@link ReactorInstance} constructor); `inputs`: its clocks and generator. */
export type InstanceStart =
  | { readonly kind: 'initialize' | 'bare'; readonly inputs?: WasiInputs }
  | { readonly kind: 'restore'; readonly snapshot: DecodedSnapshot; readonly inputs?: undefined };

const INITIALIZE: InstanceStart = { kind: 'initialize' };

/** A snapshot that cannot become an instance here (its memory does not fit the module). */
export class SnapshotRejected extends Error {}

/** Thrown by {@link ReactorInstance.callList}: call `completed` of the list threw `error` (the ones before it ran). */
export class ListCallFailed extends Error {
  constructor(readonly error: unknown, readonly completed: number) {
    super(`call ${completed} of the list failed`);
  }
}

export class ReactorInstance {
  /** The callable exports, by their index in the pool's export table. */
  readonly #fns: ExportFn[];
  #memory: WebAssembly.Memory | undefined;
  /** The linear memory's buffer as last seen; a growth detaches it (it then reads 0 bytes). */
  #buffer: ArrayBuffer = new ArrayBuffer(0);
  /** The linear memory size the worker last counted for this instance (see {@link memoryBytes}). */
  countedBytes = 0;
  /** Buffers in and out, through the module's allocator (when it has one). */
  readonly #guest: GuestMemory | undefined;
  /** The stack pointer global and the value it has between calls (read once `_initialize` returned). */
  readonly #stack: { readonly global: WebAssembly.Global; readonly top: number } | undefined;

  /** The instance's exports (its mutable globals are read from here for snapshots). */
  readonly #exports: WebAssembly.Exports;
  readonly #wasi: SealedWasi;
  /** The function index of each function a table can hold, by its JS function object (made at the first capture). */
  #functionIndices: Map<unknown, number> | undefined;

  /**
   * Instantiates and starts: runs `_initialize` (`'initialize'`), nothing (`'bare'`: the image its data
   * segments make), or takes on a snapshot's state without running anything of the guest (`'restore'`).
   * Throws what the start function or `_initialize` throws (a trap, a `ReactorExit` or `ReactorSignal`,
   * see sealed-wasi.ts), and `SnapshotRejected` when the snapshot does not fit.
   */
  constructor(setup: InstanceSetup, start: InstanceStart = INITIALIZE) {
    const wasi = new SealedWasi(setup.WASI, setup.module, setup.config, setup.sink, start.inputs, setup.tape);
    const host = setup.host?.bind();
    const imports = host === undefined ? {} : setup.host?.importsOf(host);
    const link = (): WebAssembly.Instance => new WebAssembly.Instance(setup.module, { ...imports, wasi_snapshot_preview1: wasi.imports });
    const instance = setup.room === undefined ? link() : setup.room.instantiate(link);
    this.#exports = instance.exports;
    this.#wasi = wasi;
    this.#fns = setup.exportNames.map((name) => instance.exports[name] as ExportFn);
    this.#memory = Object.values(instance.exports).find((e) => e instanceof WebAssembly.Memory);
    this.#guest = setup.allocator === undefined || this.#memory === undefined
      ? undefined
      : new GuestMemory(instance.exports, this.#memory, setup.allocator, () => this.restoreStackPointer());
    wasi.attach(this.#memory);
    host?.attach(instance.exports, this.#memory);
    if (start.kind === 'restore') {
      this.#stack = this.#restore(setup, start.snapshot);
      return;
    }
    const initialize = instance.exports['_initialize'];
    if (start.kind === 'initialize' && typeof initialize === 'function') (initialize as () => unknown)();
    this.#stack = stackPointerOf(instance.exports, setup.stackPointer);
  }

  /** Writes a snapshot's memory, globals and host state into this fresh instance; returns its stack pointer record. */
  #restore(setup: InstanceSetup, snapshot: DecodedSnapshot): { global: WebAssembly.Global; top: number } | undefined {
    const memory = this.#memory;
    if (memory === undefined) throw new SnapshotRejected('the module exports no memory to restore into');
    const have = memory.buffer.byteLength / PAGE;
    if (snapshot.pages < have) throw new SnapshotRejected(`its memory (${snapshot.pages} pages) is smaller than the module's initial memory (${have} pages)`);
    try {
      if (snapshot.pages > have) memory.grow(snapshot.pages - have);
    } catch (error) {
      throw new SnapshotRejected(`its memory (${snapshot.pages} pages) cannot be allocated here: ${(error as Error).message}`);
    }
    snapshot.writeMemory(new Uint8Array(memory.buffer));
    this.#globals(setup).forEach((global, i) => {
      global.value = snapshot.globals[i];
    });
    this.#restoreTables(setup, snapshot.tables);
    this.#wasi.restoreState(snapshot.host);
    this.#guest?.restoreScratch(snapshot.host.scratch, snapshot.host.scratchSize);
    const stack = stackPointerOf(this.#exports, setup.stackPointer);
    if (stack === undefined || snapshot.host.stackTop === undefined) return stack;
    return { global: stack.global, top: snapshot.host.stackTop };
  }

  /** The module's mutable globals, by the export names the loader gave them. */
  #globals(setup: InstanceSetup): WebAssembly.Global[] {
    return setup.globals.map((name) => {
      const global = this.#exports[name];
      if (!(global instanceof WebAssembly.Global)) throw new SnapshotRejected(`the module's global export ${JSON.stringify(name)} is missing`);
      return global;
    });
  }

  /** The module's tables that change, by the export names the loader gave them. */
  #tables(setup: InstanceSetup): WebAssembly.Table[] {
    return setup.tables.map((name) => {
      const table = this.#exports[name];
      if (!(table instanceof WebAssembly.Table)) throw new SnapshotRejected(`the module's table export ${JSON.stringify(name)} is missing`);
      return table;
    });
  }

  /** Grows each table to its size in the snapshot and sets every element: null, or the instance's own function. */
  #restoreTables(setup: InstanceSetup, tables: readonly TableContents[]): void {
    this.#tables(setup).forEach((table, t) => {
      const contents = tables[t] ?? [];
      if (contents.length < table.length) {
        throw new SnapshotRejected(`its table ${t} (${contents.length} elements) is smaller than the module's initial table (${table.length} elements)`);
      }
      try {
        if (contents.length > table.length) table.grow(contents.length - table.length);
      } catch (error) {
        throw new SnapshotRejected(`its table ${t} (${contents.length} elements) cannot be grown to here: ${(error as Error).message}`);
      }
      contents.forEach((index, i) => {
        if (index === null) {
          table.set(i, null);
          return;
        }
        const fn = this.#exports[setup.functions.get(index) ?? ''];
        if (typeof fn !== 'function') throw new SnapshotRejected(`element ${i} of table ${t} is function ${index}, which the module does not export for tables`);
        table.set(i, fn);
      });
    });
  }

  /**
   * Every table's elements as function indices (V8 gives a table element and the export of the same
   * function of the same instance as one object). Throws, leaving the instance as it was, when a
   * table holds a function the module cannot put there itself (a host's).
   */
  #captureTables(setup: InstanceSetup): TableContents[] {
    if (setup.tables.length === 0) return [];
    if (this.#functionIndices === undefined) {
      this.#functionIndices = new Map();
      for (const [index, name] of setup.functions) this.#functionIndices.set(this.#exports[name], index);
    }
    const indices = this.#functionIndices;
    return this.#tables(setup).map((table, t) => Array.from({ length: table.length }, (_, i) => {
      const element: unknown = table.get(i);
      if (element === null) return null;
      const index = indices.get(element);
      if (index === undefined) {
        throw new Error(`element ${i} of table ${t} holds a function that is not one of the module's own its element segments name (a host's?), which a snapshot cannot hold`);
      }
      return index;
    }));
  }

  /** The instance's whole state for a snapshot: a view of its linear memory (valid until it next runs) and the rest. */
  capture(setup: InstanceSetup): { readonly memory: Uint8Array; readonly state: InstanceState } {
    const memory = this.#memory === undefined ? new Uint8Array(0) : new Uint8Array(this.#memory.buffer);
    const globals = this.#globals(setup).map((global) => global.value as number | bigint);
    const scratch = this.#guest?.scratch ?? { at: 0, size: 0 };
    const state: InstanceState = {
      globals,
      tables: this.#captureTables(setup),
      host: { ...this.#wasi.state(), stackTop: this.#stack?.top, scratch: scratch.at, scratchSize: scratch.size },
    };
    return { memory, state };
  }

  /**
   * Calls an export with `count` arguments read from `source` at `from` (the wire array, or a tuple).
   * Traps and {@link ReactorExit} propagate to the caller.
   */
  call(index: number, source: readonly unknown[], from: number, count: number): unknown {
    const fn = this.#fns[index] as ExportFn;
    switch (count) {
      case 0: return fn();
      case 1: return fn(source[from] as WasmValue);
      case 2: return fn(source[from] as WasmValue, source[from + 1] as WasmValue);
      default: return fn(...(source.slice(from, from + count) as WasmValue[]));
    }
  }

  /** Bytes of linear memory the instance holds now. */
  get memoryBytes(): number {
    // `memory.buffer` is a call into the engine; a cached buffer is read inline and reads 0 bytes
    // once a growth has detached it, which is exactly when a fresh look is needed.
    let buffer = this.#buffer;
    if (buffer.byteLength === 0 && this.#memory !== undefined) {
      buffer = this.#memory.buffer;
      // A shared memory's buffer never detaches (it keeps the length it was taken with): cache none,
      // so every read looks afresh; a normal memory keeps the fast path above.
      this.#buffer = buffer instanceof SharedArrayBuffer ? new ArrayBuffer(0) : buffer;
    }
    return buffer.byteLength;
  }

  /** Calls an export whose arguments may hold buffers, reading its result as `mode` says. */
  callBuffers(index: number, args: readonly (WasmValue | BufferArg)[], mode: ResultMode): unknown {
    if (this.#guest === undefined) throw new OutOfBounds('this module exports no allocator for buffers');
    return this.#guest.call(this.#fns[index] as ExportFn, args, mode);
  }

  /**
   * Calls export `index` once per item of `list` (an argument tuple or a single argument), in order:
   * the results in an array, or a typed array of `kind`. Items may hold buffers when `mode` is set.
   * Throws {@link ListCallFailed}.
   */
  callList(index: number, list: ArrayLike<unknown>, kind: TypedResultKind | undefined, mode: ResultMode | undefined): unknown {
    const count = list.length;
    const out: { [index: number]: unknown; length: number } = kind === undefined ? new Array<unknown>(count) : new globalThis[kind](count);
    let i = 0;
    try {
      if (mode !== undefined) {
        for (; i < count; i++) {
          const item = list[i] as WasmValue | BufferArg | readonly (WasmValue | BufferArg)[];
          out[i] = this.callBuffers(index, Array.isArray(item) ? item : [item as WasmValue | BufferArg], mode);
        }
      } else {
        for (; i < count; i++) {
          const args = list[i] as WasmValue | readonly WasmValue[];
          out[i] = typeof args === 'object' ? this.call(index, args, 0, args.length) : this.callOne(index, args);
        }
      }
    } catch (error) {
      throw new ListCallFailed(error, i);
    }
    return out;
  }

  /** Calls a one-parameter export. */
  callOne(index: number, arg: WasmValue): unknown {
    return (this.#fns[index] as ExportFn)(arg);
  }

  /** Moves the instance's monotonic clock forward, if need be, to read `ns` at least (a replay fed it times up to `ns`). */
  continueClockFrom(ns: bigint): void {
    this.#wasi.continueMonotonicFrom(ns);
  }

  /**
   * Puts the stack pointer back to its value between calls: a trap skips the epilogues that raise
   * it again, so every kept trap would otherwise leak the trapped frames' stack.
   */
  restoreStackPointer(): void {
    if (this.#stack !== undefined) this.#stack.global.value = this.#stack.top;
  }
}

function stackPointerOf(exports: WebAssembly.Exports, name: string | undefined): { global: WebAssembly.Global; top: number } | undefined {
  const global = name === undefined ? undefined : exports[name];
  if (!(global instanceof WebAssembly.Global)) return undefined;
  const top: unknown = global.value;
  return typeof top === 'number' ? { global, top } : undefined;
}

