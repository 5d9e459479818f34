// One live reactor: a wasm instance with its own node:wasi object, started with `initialize()`.
// It captures fd 1/2 writes for the main thread and turns `proc_exit` into an exception.

import type { WASI as WasiClass } from 'node:wasi';
import type { SerializedError } from '../src/errors.js';
import type { AllocatorKind, BufferArg, OutputChunk, ResultMode, WasiConfig, WasmValue } from '../src/protocol.js';
import { GuestMemory, OutOfBounds } from './guest-memory.js';

/** Thrown through the wasm stack when the reactor calls `proc_exit`: the instance is finished. */
export class ReactorExit extends Error {
  constructor(readonly exitCode: number) {
    super(`reactor called proc_exit(${exitCode})`);
  }
}

const ERRNO_SUCCESS = 0;
const ERRNO_FAULT = 21;

/** Where captured output goes while an operation runs. Set by the worker around each operation. */
export interface OutputSink {
  capture: { stdout: boolean; stderr: boolean };
  chunks: OutputChunk[] | undefined;
  /** Writes to one stream in a row, joined into one chunk when the stream changes or the operation ends. */
  run: { fd: 1 | 2; parts: Uint8Array[]; bytes: number } | undefined;
}

/** The output of the operation that just ran (adjacent writes to one stream joined), or undefined. */
export function takeOutput(sink: OutputSink): OutputChunk[] | undefined {
  closeRun(sink);
  const chunks = sink.chunks;
  if (chunks === undefined || chunks.length === 0) return undefined;
  return chunks.splice(0);
}

function closeRun(sink: OutputSink): void {
  const run = sink.run;
  if (run === undefined) return;
  sink.run = undefined;
  sink.chunks?.push([run.fd, run.parts.length === 1 ? (run.parts[0] as Uint8Array) : concat(run.parts, run.bytes)]);
}

type ExportFn = (...args: WasmValue[]) => unknown;

export class ReactorInstance {
  /** The callable exports, by their index in the pool's export table. */
  readonly #fns: ExportFn[];
  #memory: WebAssembly.Memory | undefined;
  /** The linear memory's buffer as last seen; a growth detaches it (it then reads 0 bytes). */
  #buffer: ArrayBuffer = new ArrayBuffer(0);
  /** The linear memory size the worker last counted for this instance (see {@link memoryBytes}). */
  countedBytes = 0;


  /** Instantiates and initializes; throws what `_initialize` throws (a trap or a {@link ReactorExit}). */
  /** Buffers in and out, through the module's allocator (when it has one). */
  readonly #guest: GuestMemory | undefined;

  constructor(
    WASI: typeof WasiClass, module: WebAssembly.Module, exportNames: readonly string[], config: WasiConfig, sink: OutputSink,
    allocator: AllocatorKind | undefined, stackPointer?: string,
  ) {
    const wasi = new WASI({
      version: 'preview1',
      args: [...config.args],
      env: { ...config.env },
      preopens: { ...config.preopens },
    });
    const wasiImport = { ...(wasi.wasiImport as Record<string, (...args: number[]) => number>) };
    const realFdWrite = wasiImport['fd_write'];
    wasiImport['proc_exit'] = (code: number): never => {
      throw new ReactorExit(code);
    };
    wasiImport['fd_write'] = (fd: number, iovs: number, iovsLen: number, nwritten: number): number => {
      if ((fd === 1 || fd === 2) && this.#memory !== undefined) {
        return this.#captureWrite(sink, fd, iovs, iovsLen, nwritten);
      }
      return realFdWrite === undefined ? ERRNO_FAULT : realFdWrite(fd, iovs, iovsLen, nwritten);
    };
    const instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: wasiImport });
    this.#fns = exportNames.map((name) => instance.exports[name] as ExportFn);
    this.#memory = Object.values(instance.exports).find((e) => e instanceof WebAssembly.Memory);
    this.#guest = allocator === undefined || this.#memory === undefined ? undefined : new GuestMemory(instance.exports, this.#memory, allocator);
    // node:wasi insists on an export named `memory` and refuses `_start`; hand it just what it needs.
    const view: Record<string, unknown> = { memory: this.#memory };
    if (typeof instance.exports['_initialize'] === 'function') view['_initialize'] = instance.exports['_initialize'];
    wasi.initialize({ exports: view } as unknown as WebAssembly.Instance);
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

  #captureWrite(sink: OutputSink, fd: 1 | 2, iovs: number, iovsLen: number, nwritten: number): number {
    const memory = this.#memory as WebAssembly.Memory;
    try {
      const view = new DataView(memory.buffer);
      let total = 0;
      const parts: Uint8Array[] = [];
      for (let i = 0; i < iovsLen; i++) {
        const ptr = view.getUint32(iovs + i * 8, true);
        const len = view.getUint32(iovs + i * 8 + 4, true);
        if (ptr + len > memory.buffer.byteLength) return ERRNO_FAULT;
        parts.push(new Uint8Array(memory.buffer, ptr, len));
        total += len;
      }
      view.setUint32(nwritten, total, true);
      const wanted = fd === 1 ? sink.capture.stdout : sink.capture.stderr;
      if (wanted && sink.chunks !== undefined && total > 0) {
        // Adjacent writes to one stream travel as one chunk, so a line printed piecewise arrives
        // whole; they are joined once, when the run ends (joining on every write was quadratic).
        if (sink.run?.fd !== fd) {
          closeRun(sink);
          sink.run = { fd, parts: [], bytes: 0 };
        }
        sink.run.parts.push(concat(parts, total));
        sink.run.bytes += total;
      }
      return ERRNO_SUCCESS;
    } catch {
      // DataView throws RangeError for pointers outside memory: that is the guest's EFAULT.
      return ERRNO_FAULT;
    }
  }

  /** The stack pointer global and the value it has between calls (read once `_initialize` returned). */
  #stack: { readonly global: WebAssembly.Global; readonly top: number } | undefined;

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

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/** The serialisable failure for anything an export (or `_initialize`) threw; the main thread adds the session. */
export function describeFailure(error: unknown, name: string): { error: SerializedError; lost: boolean } {
  if (error instanceof ReactorExit) {
    return {
      lost: true,
      error: {
        code: 'ERR_REACTOR_EXIT',
        message: `export \`${name}\`: the reactor called proc_exit(${error.exitCode}); its instance is gone`,
        exportName: name,
        exitCode: error.exitCode,
      },
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof OutOfBounds) {
    return { lost: false, error: { code: 'ERR_OUT_OF_BOUNDS', message: `export \`${name}\`: ${message}`, exportName: name } };
  }
  return {
    lost: false,
    error: { code: 'ERR_REACTOR_TRAP', message: `export \`${name}\` trapped: ${message}`, exportName: name },
  };
}
