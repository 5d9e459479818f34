// The messages the main thread and a reactor worker exchange: the worker's start-up data,
// and batches of operations (one piscina task per batch) with their outcomes, in order.

import type { SerializedError } from './errors.js';

/** A value that crosses into or out of a wasm export. */
export type WasmValue = number | bigint;

/** Given once to every worker thread (as piscina `workerData`). */
export interface WorkerData {
  /** Compiled once on the main thread; structured clone shares the compiled code. */
  readonly module: WebAssembly.Module;
  readonly wasi: WasiConfig;
  /** Which of fd 1 and fd 2 are sent back to the main thread; the others are dropped. */
  readonly capture: { readonly stdout: boolean; readonly stderr: boolean };
}

/** What each reactor instance's `node:wasi` object is given. Nothing by default. */
export interface WasiConfig {
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly preopens: Readonly<Record<string, string>>;
}

/**
 * The instance an operation targets. `slot` is the session key (isolation `'session'`) or `''`
 * (isolation `'worker'`: the worker's shared instance). `epoch` counts the instances that slot has
 * had: an operation never runs on an instance of another epoch, so a call cannot silently land on a
 * fresh instance after the one before it was lost.
 */
export interface InstanceRef {
  readonly slot: string;
  readonly epoch: number;
}

export interface CallOp extends InstanceRef {
  readonly kind: 'call';
  /** Session key, for output attribution and error details. */
  readonly key: string;
  /** Create the instance at `epoch` first if the slot holds none or an older one. */
  readonly open: boolean;
  readonly name: string;
  readonly args: readonly WasmValue[];
}

export interface CallManyOp extends InstanceRef {
  readonly kind: 'callMany';
  readonly key: string;
  readonly open: boolean;
  readonly name: string;
  /** One argument tuple per call, or a typed array of single arguments. */
  readonly argsList: readonly (readonly WasmValue[])[] | ArrayLike<WasmValue>;
  /** When set, results are returned in a typed array of this kind. */
  readonly typedResult?: TypedResultKind;
}

/** Replace the slot's instance with a fresh one at `epoch` (runs `_initialize` again). */
export interface OpenOp extends InstanceRef {
  readonly kind: 'open';
  readonly key: string;
}

/** Discard the slot's instance (the session was closed). */
export interface DropOp extends InstanceRef {
  readonly kind: 'drop';
}

export type Op = CallOp | CallManyOp | OpenOp | DropOp;

export type TypedResultKind = 'Int32Array' | 'BigInt64Array' | 'Float32Array' | 'Float64Array';

/** One piscina task. `thread` guards against a batch queued for a thread that has since died. */
export interface Batch {
  readonly thread: number;
  readonly ops: readonly Op[];
}

/** Bytes a reactor wrote to fd 1 or 2 while running one operation. */
export type OutputChunk = readonly [fd: 1 | 2, bytes: Uint8Array];

export type Outcome =
  | { readonly ok: true; readonly value: unknown; readonly output?: readonly OutputChunk[] }
  | {
      readonly ok: false;
      readonly error: SerializedError;
      /** The instance this operation targeted is gone (exit, failed start). */
      readonly lost: boolean;
      readonly output?: readonly OutputChunk[];
    };

export type BatchResult =
  | { readonly stale: false; readonly outcomes: readonly Outcome[] }
  /** The batch was meant for a thread that no longer exists; nothing ran. */
  | { readonly stale: true };

/** The task the main thread sends once per new thread, to learn it started and can link the module. */
export interface ProbeTask {
  readonly probe: true;
}

export interface ProbeResult {
  readonly thread: number;
  readonly error?: SerializedError;
}
