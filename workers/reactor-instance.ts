// One live reactor: a wasm instance linked against its own sealed WASI surface (see sealed-wasi.ts),
// started by running `_initialize` once; its exports are called through here.

import type { WASI as WasiClass } from 'node:wasi';
import type { AllocatorKind, BufferArg, ResultMode, WasiConfig, WasmValue } from '../src/protocol.js';
import { GuestMemory, OutOfBounds } from './guest-memory.js';
import type { OutputSink } from './output-sink.js';
import { SealedWasi } from './sealed-wasi.js';

export { takeOutput, type OutputSink } from './output-sink.js';
export { ReactorExit } from './sealed-wasi.js';

type ExportFn = (...args: WasmValue[]) => unknown;

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

  /** Instantiates and initializes; throws what the start function or `_initialize` throws (a trap, a `ReactorExit` or `ReactorSignal`, see sealed-wasi.ts). */
  constructor(
    WASI: typeof WasiClass, module: WebAssembly.Module, exportNames: readonly string[], config: WasiConfig, sink: OutputSink,
    allocator: AllocatorKind | undefined, stackPointer?: string,
  ) {
    const wasi = new SealedWasi(WASI, module, config, sink);
    const instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: wasi.imports });
    this.#fns = exportNames.map((name) => instance.exports[name] as ExportFn);
    this.#memory = Object.values(instance.exports).find((e) => e instanceof WebAssembly.Memory);
    this.#guest = allocator === undefined || this.#memory === undefined ? undefined : new GuestMemory(instance.exports, this.#memory, allocator, () => this.restoreStackPointer());
    wasi.attach(this.#memory);
    const initialize = instance.exports['_initialize'];
    if (typeof initialize === 'function') (initialize as () => unknown)();
    this.#stack = stackPointerOf(instance.exports, stackPointer);
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

  /** Calls a one-parameter export. */
  callOne(index: number, arg: WasmValue): unknown {
    return (this.#fns[index] as ExportFn)(arg);
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

