// Bytes and strings across the wasm boundary, worker side: copies buffer arguments into an
// instance's linear memory through its own allocator, reads buffer results out, frees both.

import type { AllocatorKind, BufferArg, ResultMode, WasmValue } from '../src/protocol.js';

/** A buffer problem the guest caused (its allocator failed, or it returned a buffer outside its memory). */
export class OutOfBounds extends Error {}

type Fn = (...args: number[]) => number;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

export class GuestMemory {
  readonly #memory: WebAssembly.Memory;
  readonly #kind: AllocatorKind;
  readonly #alloc: Fn;
  readonly #free: Fn | undefined;
  /** Called when a call fails, before its inputs are freed (the instance puts its stack pointer back). */
  readonly #afterFailure: () => void;
  /** With `cabi_realloc` (which cannot free): one scratch buffer per instance, reused and grown. */
  #scratch = 0;
  #scratchSize = 0;

  constructor(exports: WebAssembly.Exports, memory: WebAssembly.Memory, kind: AllocatorKind, afterFailure: () => void) {
    this.#afterFailure = afterFailure;
    this.#memory = memory;
    this.#kind = kind;
    const fn = (name: string): Fn => exports[name] as Fn;
    this.#alloc = fn(kind);
    this.#free = kind === 'malloc' ? fn('free') : kind === 'alloc' ? fn('dealloc') : undefined;
  }

  /** The `cabi_realloc` scratch buffer (address, size), for a snapshot; (0, 0) until a call needed one. */
  get scratch(): { readonly at: number; readonly size: number } {
    return { at: this.#scratch, size: this.#scratchSize };
  }

  /** Takes on a snapshot's scratch buffer (the guest's memory, restored with it, still holds it). */
  restoreScratch(at: number, size: number): void {
    if (this.#kind !== 'cabi_realloc') return;
    this.#scratch = at;
    this.#scratchSize = size;
  }

  /**
   * Calls `fn` with buffer arguments copied into guest memory as (pointer, length) pairs, frees them
   * afterwards (even if the call throws), and reads the result as `mode` says.
   */
  call(fn: (...args: WasmValue[]) => unknown, args: readonly (WasmValue | BufferArg)[], mode: ResultMode): unknown {
    const flat: WasmValue[] = [];
    const placed: [ptr: number, size: number][] = [];
    const inputs = args.map((arg) => (typeof arg === 'string' ? encoder.encode(arg) : arg));
    if (this.#kind === 'cabi_realloc') this.#reserve(inputs);
    let offset = 0;
    let value: unknown;
    try {
      for (const arg of inputs) {
        if (!(arg instanceof Uint8Array)) {
          flat.push(arg);
          continue;
        }
        let ptr: number;
        if (this.#kind === 'cabi_realloc') {
          ptr = this.#scratch + offset;
          offset += arg.byteLength;
        } else {
          ptr = this.#allocate(arg.byteLength);
          placed.push([ptr, Math.max(1, arg.byteLength)]);
        }
        this.#bytes(ptr, arg.byteLength, 'an argument').set(arg);
        flat.push(ptr, arg.byteLength);
      }
      const result = fn(...flat);
      value = mode === 'value' ? result : this.#readResult(result, mode);
    } catch (error) {
      // A trap skipped the frames' epilogues: put the stack back before the frees run on it. The
      // call's own error is the news, not a free that fails after it.
      this.#afterFailure();
      this.#releaseAll(placed, true);
      throw error;
    }
    this.#releaseAll(placed, false);
    return value;
  }

  /** Frees every placed input; a free that throws is re-thrown once all were tried, unless `quiet`. */
  #releaseAll(placed: readonly (readonly [ptr: number, size: number])[], quiet: boolean): void {
    let failure: { error: unknown } | undefined;
    for (const [ptr, size] of placed) {
      try {
        this.#release(ptr, size);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure !== undefined && !quiet) throw failure.error;
  }

  /** Reads the buffer named by an i64 `pointer << 32 | length` result, then frees it (if the allocator can). */
  #readResult(result: unknown, mode: 'bytes' | 'string'): Uint8Array | string {
    if (typeof result !== 'bigint') throw new OutOfBounds(`expected the export to return an i64 (pointer << 32 | length), got ${typeof result}`);
    const packed = BigInt.asUintN(64, result);
    const ptr = Number(packed >> 32n);
    const length = Number(packed & 0xffff_ffffn);
    const copy = this.#bytes(ptr, length, 'the result').slice();
    // Freed as the module allocated it: with malloc/free whatever its size; with alloc/dealloc as
    // `dealloc(ptr, length)`, an empty result too (it came from `alloc(0)`, a real allocation in Rust).
    // A null pointer is the module saying there is nothing to free.
    this.#release(ptr, length);
    return mode === 'string' ? decoder.decode(copy) : copy;
  }

  #allocate(size: number): number {
    const want = Math.max(1, size);
    const ptr = this.#alloc(want) >>> 0;
    if (ptr === 0) throw new OutOfBounds(`the guest's ${this.#kind} could not allocate ${want} bytes`);
    return ptr;
  }

  /** Makes the scratch buffer big enough for every buffer of one call (`cabi_realloc` only). */
  #reserve(inputs: readonly unknown[]): void {
    let total = 0;
    for (const arg of inputs) if (arg instanceof Uint8Array) total += arg.byteLength;
    if (total <= this.#scratchSize) return;
    const ptr = this.#alloc(this.#scratch, this.#scratchSize, 1, total) >>> 0;
    if (ptr === 0) throw new OutOfBounds(`the guest's cabi_realloc could not allocate ${total} bytes`);
    this.#scratch = ptr;
    this.#scratchSize = total;
  }

  /** Frees `size` bytes at `ptr` (the size that was passed to `alloc`); a null pointer is never freed. */
  #release(ptr: number, size: number): void {
    if (this.#free === undefined || ptr === 0) return;
    if (this.#kind === 'malloc') this.#free(ptr);
    else this.#free(ptr, size);
  }

  /** A view of guest memory, refused unless it lies wholly inside (memory may have grown: look again). */
  #bytes(ptr: number, length: number, what: string): Uint8Array {
    const size = this.#memory.buffer.byteLength;
    if (ptr + length > size) {
      throw new OutOfBounds(`${what} (${length} bytes at ${ptr}) lies outside the instance's ${size}-byte linear memory`);
    }
    return new Uint8Array(this.#memory.buffer, ptr, length);
  }
}
