// What the main thread and a reactor worker share: the worker's start-up data, the operations and
// their outcomes (laid out on the rings by wire.ts), the boards, and the control channel's surface.

import type { MessagePort } from 'node:worker_threads';
import type { AddressSpaceData } from './address-space.js';
import type { CompiledModule } from './compiled-module.js';
import type { SerializedError } from './errors.js';
import type { HostFunctionsData } from './host-imports.js';
import type { SnapshotGlobalType } from './snapshot-format.js';

/** A value that crosses into or out of a wasm export. */
export type WasmValue = number | bigint;

/** A buffer passed into an export as a (pointer, length) pair of i32 parameters; strings as UTF-8. */
export type BufferArg = Uint8Array | string;

/** What a call resolves with: the export's own result, or the buffer its i64 (pointer << 32 | length) result points at. */
export type ResultMode = 'value' | 'bytes' | 'string';
export const RESULT_MODES = ['value', 'bytes', 'string'] as const;

/**
 * The guest allocator the pool uses for buffers, by the exports it found:
 * `malloc(size)` + `free(ptr)`; `alloc(size)` + `dealloc(ptr, size)`; or `cabi_realloc(old, oldSize, align, newSize)` alone.
 */
export type AllocatorKind = 'malloc' | 'alloc' | 'cabi_realloc';

/** Given once to every worker thread (as piscina `workerData`). */
export interface WorkerData {
  /** Compiled once on the main thread; structured clone shares the compiled code. */
  readonly module: CompiledModule;
  /** The callable exports; operations name them by index. */
  readonly exportNames: readonly string[];
  readonly wasi: WasiConfig;
  /** Which of fd 1 and fd 2 are sent back to the main thread; the others are dropped. */
  readonly capture: { readonly stdout: boolean; readonly stderr: boolean };
  /** Bytes of linear memory an instance may hold after an operation (`Infinity`: no limit). */
  readonly memoryLimit: number;
  /** Whether a trap discards the instance (`'lose'`, `'reset'`) or keeps it (`'keep'`). */
  readonly onTrap: 'keep' | 'lose' | 'reset';
  /** The slot's {@link Progress} board, shared by every thread the slot ever runs. */
  readonly progress: SharedArrayBuffer;
  /** The slot's {@link MemoryBoard}, likewise. */
  readonly memory: SharedArrayBuffer;
  /** The guest allocator for buffer arguments and results, if the module exports one. */
  readonly allocator: AllocatorKind | undefined;
  /** The export of the stack pointer global, put back after a trap that keeps the instance (if it was found). */
  readonly stackPointer: string | undefined;
  /**
   * How long the thread polls its request ring for the next batch before it sleeps (ms), after a
   * small batch and after a large one.
   */
  readonly poll: { readonly afterSmall: number; readonly afterLarge: number };
  /** What the worker needs to take and restore snapshots; undefined when the pool cannot (see `spec.snapshot`). */
  readonly snapshot: SnapshotData | undefined;
  /**
   * Durable sessions: every operation reports the input tape of what it ran (the results of the clock,
   * random and poll calls it made; see {@link OkWithOutput.tape}), and replay operations are served.
   */
  readonly durable: boolean;
  /** The host functions the module imports (the `hostFunctions` option), and which operations carry session keys; undefined: none. */
  readonly hostFunctions?: HostFunctionsData | undefined;
  /** Where a failed wasm reservation would end the thread: what to check before each start (see src/address-space.ts); undefined: the engine refuses by itself. */
  readonly addressSpace?: AddressSpaceData | undefined;
}

/** The module's identity, its mutable globals and changing tables, for snapshots. */
export interface SnapshotData {
  /** SHA-256 of the module's bytes. */
  readonly moduleDigest: Uint8Array;
  /** Every mutable global in index order: the export the loader gave it, and its type. */
  readonly globals: readonly { readonly exportName: string; readonly type: SnapshotGlobalType }[];
  /** When code can change the module's tables: every table's export, in index order (else empty). */
  readonly tables: readonly string[];
  /** With `tables`: every function that can be put in one, by its function index, and its export. */
  readonly functions: readonly { readonly index: number; readonly exportName: string }[];
  /** Pages of memory a restored instance may hold (the module's maximum, memoryLimit). */
  readonly maxPages: number;
}

/**
 * Which operation a worker is running and since when, written by the worker before each operation of
 * a tracked batch and read by the main thread's watchdog (call timeouts count running time only).
 * A seqlock: `version` is odd while the worker writes; a reader retries until it reads one even version.
 */
export class Progress {
  static readonly BYTES = 16;
  /** [version, batch sequence number (-1: idle), operation index in the batch] */
  readonly #ints: Int32Array;
  /** [start time of the running operation, ms on the shared clock] */
  readonly #times: Float64Array;

  constructor(buffer: SharedArrayBuffer) {
    this.#ints = new Int32Array(buffer, 0, 2);
    this.#times = new Float64Array(buffer, 8, 1);
  }

  /** Worker side: operation `index` of batch `seq` starts now (`seq` -1: nothing runs). */
  write(seq: number, index: number): void {
    const ints = this.#ints;
    Atomics.add(ints, 0, 1);
    this.#times[0] = sharedClock();
    // Batch and operation share one 32-bit word: 2^20 operations per batch, batch numbers wrap.
    ints[1] = seq < 0 ? -1 : ((seq & 0x7ff) << 20) | index;
    Atomics.add(ints, 0, 1);
  }

  /**
   * Main side: what runs now, or undefined when the thread is between batches or the board is
   * mid-update. Bounded: a writer killed mid-update leaves the version odd, and spinning on it
   * would hang the main thread (the caller just looks again later).
   */
  read(): { seq: number; index: number; startedAt: number } | undefined {
    const ints = this.#ints;
    for (let attempt = 0; attempt < 64; attempt++) {
      const before = Atomics.load(ints, 0);
      if ((before & 1) === 0) {
        const word = ints[1] as number;
        const startedAt = this.#times[0] as number;
        if (Atomics.load(ints, 0) === before) return word < 0 ? undefined : { seq: word >>> 20, index: word & 0xfffff, startedAt };
      }
    }
    return undefined;
  }

  /** Main side, once the writing thread is dead: idle, with an even version whatever it was left at. */
  reset(): void {
    Atomics.store(this.#ints, 1, -1);
    Atomics.store(this.#ints, 0, 0);
  }
}

/**
 * Bytes of linear memory a worker's instances hold, as the worker last counted them: written by the
 * worker after batches and on a recount, read by the main thread for `stats()`.
 */
export class MemoryBoard {
  static readonly BYTES = 8;
  readonly #bytes: BigInt64Array;

  constructor(buffer: SharedArrayBuffer) {
    this.#bytes = new BigInt64Array(buffer);
  }

  write(bytes: number): void {
    Atomics.store(this.#bytes, 0, BigInt(bytes));
  }

  read(): number {
    return Number(Atomics.load(this.#bytes, 0));
  }
}

/** Batch numbers as the progress board carries them (11 bits, wrapping). */
export function progressSeq(seq: number): number {
  return seq & 0x7ff;
}

/** Milliseconds on a clock every thread of the process reads alike. */
export function sharedClock(): number {
  return performance.timeOrigin + performance.now();
}

/** What each reactor instance's `node:wasi` object is given. Nothing by default. */
export interface WasiConfig {
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly preopens: Readonly<Record<string, string>>;
  /** What fd 0 reads in every instance, then end-of-file. */
  readonly stdin: Uint8Array;
}

/**
 * The instance an operation targets. `instanceId` is the session's number (isolation `'session'`) or 0
 * (isolation `'worker'`: the worker's shared instance). `epoch` counts the instances that id has
 * had: an operation never runs on an instance of another epoch, so a call cannot silently land on a
 * fresh instance after the one before it was lost.
 */
export interface InstanceRef {
  readonly instanceId: number;
  readonly epoch: number;
}

export interface CallOp extends InstanceRef {
  readonly kind: 'call';
  /** Create the instance at `epoch` first if the id holds none or an older one. */
  readonly open: boolean;
  /** Index into {@link WorkerData.exportNames}. */
  readonly exportIndex: number;
  readonly args: readonly WasmValue[] | readonly (WasmValue | BufferArg)[];
  /** Set when an argument is a buffer or the result is read as one: the call goes through guest memory. */
  readonly buffers?: ResultMode;
  /** Durability: the call's idempotency key (kept on the main thread; not sent to the worker). */
  readonly idempotencyKey?: string;
}

export interface CallManyOp extends InstanceRef {
  readonly kind: 'callMany';
  readonly open: boolean;
  readonly exportIndex: number;
  /** One argument tuple (or single argument) per call, or a typed array of single arguments. */
  readonly argsList: readonly (WasmValue | BufferArg | readonly (WasmValue | BufferArg)[])[] | ArrayLike<WasmValue>;
  /** When set, results are returned in a typed array of this kind. */
  readonly typedResult?: TypedResultKind;
  /** As {@link CallOp.buffers}, for every call of the list. */
  readonly buffers?: ResultMode;
  /** As {@link CallOp.idempotencyKey}, for the whole list. */
  readonly idempotencyKey?: string;
}

/** Replace the instance with a fresh one at `epoch` (runs `_initialize` again). */
export interface OpenOp extends InstanceRef {
  readonly kind: 'open';
}

/** Discard the instance (the session was closed). */
export interface DropOp extends InstanceRef {
  readonly kind: 'drop';
}

/** Take a snapshot of the instance (resolves with its bytes). */
export interface SnapshotOp extends InstanceRef {
  readonly kind: 'snapshot';
  /** As {@link CallOp.open}: a session snapshotted before its first call has its instance started first. */
  readonly open: boolean;
}

/** Replace the instance with one restored from a snapshot, at `epoch` (`_initialize` does not run). */
export interface RestoreOp extends InstanceRef {
  readonly kind: 'restore';
  /** The snapshot's bytes (checked by the main thread, owned by the operation). */
  readonly snapshot: Uint8Array;
}

/**
 * Rebuild the instance at `epoch` from a journal: restore `base` (if set), then run `records` again with
 * the inputs their tapes recorded, output suppressed, checking every outcome is the recorded one. Fails
 * with `lost` and `ERR_REPLAY_DIVERGED` when one is not (the base's own failure if it cannot be restored).
 */
export interface ReplayOp extends InstanceRef {
  readonly kind: 'replay';
  /** A snapshot to start from (owned by the operation); undefined: the first record starts a fresh instance. */
  readonly base: Uint8Array | undefined;
  /**
   * The records to replay in order: each a record body (`encodeRecord`, journal-record.ts) prefixed by
   * its length as a u32, little-endian (see `frameReplayRecords`). Start and Call records only.
   */
  readonly records: Uint8Array;
}

export type Op = CallOp | CallManyOp | OpenOp | DropOp | SnapshotOp | RestoreOp | ReplayOp;

/** Whether `op` is the one that creates its instance (its start): an open, a restore or replay, or a first call (or snapshot) allowed to open. */
export function createsInstance(op: Op): boolean {
  return op.kind === 'open' || op.kind === 'restore' || op.kind === 'replay' || (op.kind !== 'drop' && op.open);
}

export const TYPED_RESULT_KINDS = ['Int32Array', 'BigInt64Array', 'Float32Array', 'Float64Array'] as const;
export type TypedResultKind = (typeof TYPED_RESULT_KINDS)[number];

/** Results come back as two entries per operation in a flat array: a status and its payload. */
export const Status = {
  /** payload: the value */
  Ok: 0,
  /** payload: {@link OkWithOutput} */
  OkWithOutput: 1,
  /** payload: {@link Failure} */
  Failed: 2,
} as const;
export type Status = (typeof Status)[keyof typeof Status];

export interface OkWithOutput {
  readonly value: unknown;
  /** What the operation wrote (may be empty when only a tape came back). */
  readonly output: readonly OutputChunk[];
  /** With {@link WorkerData.durable}: the input tape of the operation, when it made a clock, random or poll call. */
  readonly tape?: Uint8Array;
}

export interface Failure {
  readonly error: SerializedError;
  /** The instance this operation targeted is gone (exit, failed start). */
  readonly lost: boolean;
  readonly output?: readonly OutputChunk[];
  /** As {@link OkWithOutput.tape}: a failure that keeps the instance (`lost` false) is journaled with it. */
  readonly tape?: Uint8Array;
}

/** Bytes a reactor wrote to fd 1 or 2 while running one operation. */
export type OutputChunk = readonly [fd: 1 | 2, bytes: Uint8Array];

/**
 * The one piscina task of a reactor thread: it attaches the thread to its rings (fresh ones for every
 * thread, so nothing meant for a dead thread can reach its replacement) and its ports.
 */
export interface AttachTask {
  /** Calls to the worker (see ring.ts and wire.ts). */
  readonly requests: SharedArrayBuffer;
  /** Their outcomes, back. */
  readonly responses: SharedArrayBuffer;
  /** Arguments and outcomes too large for a ring, in the order the rings announce them. */
  readonly side: MessagePort;
  /** The control channel (comlink): {@link WorkerControl}. */
  readonly control: MessagePort;
}

export interface AttachResult {
  readonly thread: number;
}

/** What the main thread asks a worker off the call path, over the control channel. */
export interface WorkerControl {
  /** Links the module once without starting it: why it cannot run on this thread, if it cannot. */
  probe(): SerializedError | undefined;
  /** Recounts the instances' memory into the thread's {@link MemoryBoard}. */
  countMemory(): void;
}
