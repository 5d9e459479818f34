// Host functions, worker side: links each instance's host imports to the declared functions, gives
// every call its context (session key, bounds-checked memory, the guest's allocator), and under
// durability records each call's effects on the input tape, or replays them without calling the host.

import { NoAllocatorError, OutOfBoundsError, ReactorPoolError, describeValue } from '../src/errors.js';
import { loadHostFunctions, type DeclaredHostFunction, type HostContext } from '../src/host-functions.js';
import type { HostFunctionsData, HostImport } from '../src/host-imports.js';
import type { AllocatorKind } from '../src/protocol.js';
import { TapeDivergence, TapeMode, type InputTape } from './input-tape.js';
import { ReactorExit, ReactorSignal } from './sealed-wasi.js';

/** A host function failed (it threw, returned what its results cannot hold, or misused its context): the guest's call fails with `code`. */
export class HostCallFailed extends Error {
  constructor(readonly code: 'ERR_HOST_FUNCTION_FAILED' | 'ERR_OUT_OF_BOUNDS' | 'ERR_NO_ALLOCATOR', message: string) {
    super(message);
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');
/** How the tape names a trap under a host function (codes name the other failures). */
const TRAP = 'trap';

type Fn = (...args: number[]) => number;
type HostValues = (number | bigint)[];

/** One host import, linked: its declaration and its name in messages. */
interface Linked {
  readonly index: number;
  readonly spec: HostImport;
  readonly name: string;
  readonly fn: DeclaredHostFunction;
}

/** The host functions of a worker thread: one per thread, shared by its instances. */
export class HostFunctionLinker {
  /** The key of the session whose operation runs now (set by the worker before each operation). */
  sessionKey = '';
  readonly #linked: readonly Linked[];
  readonly #names: readonly string[];
  readonly #tape: InputTape;
  readonly #allocator: AllocatorKind | undefined;

  private constructor(linked: readonly Linked[], tape: InputTape, allocator: AllocatorKind | undefined) {
    this.#linked = linked;
    this.#names = linked.map((l) => l.name);
    this.#tape = tape;
    this.#allocator = allocator;
  }

  /** Imports the host-function module and links the module's host imports (checked on the main thread; checked again here). */
  static async load(data: HostFunctionsData, tape: InputTape, allocator: AllocatorKind | undefined): Promise<HostFunctionLinker> {
    const table = await loadHostFunctions(data.url);
    const linked = data.imports.map((spec, index): Linked => {
      const fn = table.get(spec.module)?.get(spec.name);
      const name = `\`${spec.module}.${spec.name}\``;
      if (fn === undefined || fn.params.join() !== spec.params.join() || fn.results.join() !== spec.results.join()) {
        throw new Error(`the hostFunctions module ${data.url} declares ${name} differently on this thread than on the main thread`);
      }
      return { index, spec, name, fn };
    });
    return new HostFunctionLinker(linked, tape, allocator);
  }

  /** A new instance's host imports; attach the instance to the binding once it exists. */
  bind(): HostBinding {
    return new HostBinding(this, this.#allocator);
  }

  /** The import object of `binding`: module → name → function. */
  importsOf(binding: HostBinding): WebAssembly.Imports {
    const imports: Record<string, Record<string, (...args: HostValues) => unknown>> = {};
    for (const linked of this.#linked) {
      (imports[linked.spec.module] ??= {})[linked.spec.name] = (...args) => this.#invoke(linked, binding, args);
    }
    return imports;
  }

  #invoke(linked: Linked, binding: HostBinding, args: HostValues): unknown {
    const tape = this.#tape;
    if (tape.mode === TapeMode.Replay) return shape(this.#replay(linked, binding));
    const recording = tape.mode === TapeMode.Record;
    if (recording) tape.recordHostCall(linked.index);
    binding.recording = recording;
    let values: HostValues;
    try {
      values = resultValues(linked, linked.fn.call(binding.context, ...args));
    } catch (error) {
      const failure = hostFailure(error, linked.name);
      if (recording && failure !== undefined) tape.recordHostThrow(failure.code, failure.message);
      throw failure?.error ?? error;
    } finally {
      binding.recording = false;
    }
    if (recording) tape.recordHostReturn(values, linked.spec.results);
    return shape(values);
  }

  /** Feeds a recorded call's effects back to the instance, without calling the host function. */
  #replay(linked: Linked, binding: HostBinding): HostValues {
    const tape = this.#tape;
    tape.replayHostCall(linked.index, this.#names);
    for (;;) {
      const effect = tape.replayHostEffect(linked.spec.results);
      switch (effect.kind) {
        case 'return':
          return [...effect.values];
        case 'throw':
          throw effect.code === TRAP ? new WebAssembly.RuntimeError(effect.message) : new HostCallFailed(effect.code as HostCallFailed['code'], effect.message);
        case 'write':
          if (!binding.fits(effect.ptr, effect.bytes.byteLength)) tape.hostDiverged(`${linked.name}'s recorded write (${effect.bytes.byteLength} bytes at ${effect.ptr}) lies outside the instance's memory`);
          binding.writeUnrecorded(effect.ptr, effect.bytes);
          break;
        case 'alloc': {
          const ptr = binding.allocate(effect.bytes.byteLength);
          if (ptr !== effect.ptr) tape.hostDiverged(`${linked.name}'s allocation of ${effect.bytes.byteLength} bytes returned ${ptr}, the tape's returned ${effect.ptr}`);
          binding.writeUnrecorded(ptr, effect.bytes);
          break;
        }
      }
    }
  }

  /** The tape, for a binding's recorded effects. */
  get tape(): InputTape {
    return this.#tape;
  }
}

/** What a host function returns, as the guest receives it. */
function shape(values: HostValues): unknown {
  return values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
}

/** Checks a host function's return against its declared results: the values the guest will see. */
function resultValues(linked: Linked, returned: unknown): HostValues {
  const types = linked.spec.results;
  if (typeof (returned as { then?: unknown } | null)?.then === 'function') {
    throw new HostCallFailed('ERR_HOST_FUNCTION_FAILED', `host function ${linked.name} returned a promise: host functions are synchronous (wasm cannot await)`);
  }
  if (types.length === 0) return [];
  const list = types.length === 1 ? [returned] : Array.isArray(returned) && returned.length === types.length ? (returned as unknown[]) : undefined;
  if (list === undefined) {
    throw new HostCallFailed('ERR_HOST_FUNCTION_FAILED', `host function ${linked.name} returned ${describeValue(returned)}, expected an array of ${types.length} values (${types.join(', ')})`);
  }
  return types.map((type, i) => {
    const value = list[i];
    if (type === 'i64' ? typeof value === 'bigint' : typeof value === 'number') {
      if (type === 'i64') return BigInt.asIntN(64, value as bigint);
      return type === 'i32' ? (value as number) | 0 : type === 'f32' ? Math.fround(value as number) : (value as number);
    }
    const what = types.length === 1 ? 'returned' : `returned, as result ${i},`;
    throw new HostCallFailed('ERR_HOST_FUNCTION_FAILED', `host function ${linked.name} ${what} ${describeValue(value)}, expected ${type === 'i64' ? 'a bigint (i64)' : `a number (${type})`}`);
  });
}

/**
 * What a host function's throw becomes: the failure to record and throw (a trap in the guest's
 * allocator stays a trap), or undefined for what must pass through untouched (the instance exits,
 * or a replay diverged).
 */
function hostFailure(error: unknown, name: string): { readonly code: string; readonly message: string; readonly error: Error } | undefined {
  if (error instanceof ReactorExit || error instanceof ReactorSignal || error instanceof TapeDivergence) return undefined;
  if (error instanceof WebAssembly.RuntimeError) return { code: TRAP, message: error.message, error };
  if (error instanceof HostCallFailed) return { code: error.code, message: error.message, error };
  const code = error instanceof ReactorPoolError && (error.code === 'ERR_OUT_OF_BOUNDS' || error.code === 'ERR_NO_ALLOCATOR') ? error.code : 'ERR_HOST_FUNCTION_FAILED';
  const reason = error instanceof Error ? error.message : describeValue(error);
  const message = code === 'ERR_HOST_FUNCTION_FAILED' ? `host function ${name} threw: ${reason}` : `host function ${name}: ${reason}`;
  return { code, message, error: new HostCallFailed(code, message) };
}

/** One instance's side of its host functions: its memory and allocator, and the context its calls get. */
export class HostBinding {
  /** Set while a host function runs under durability: its writes and allocations go on the tape. */
  recording = false;
  readonly context: HostContext;
  readonly #linker: HostFunctionLinker;
  readonly #allocatorKind: AllocatorKind | undefined;
  #memory: WebAssembly.Memory | undefined;
  #allocate: Fn | undefined;

  constructor(linker: HostFunctionLinker, allocator: AllocatorKind | undefined) {
    this.#linker = linker;
    this.#allocatorKind = allocator;
    this.context = makeContext(this, linker);
  }

  /** The instance exists: its exports and memory (a start function that calls a host function runs before this). */
  attach(exports: WebAssembly.Exports, memory: WebAssembly.Memory | undefined): void {
    this.#memory = memory;
    const kind = this.#allocatorKind;
    const fn = kind === undefined ? undefined : exports[kind];
    if (typeof fn === 'function') {
      this.#allocate = kind === 'cabi_realloc' ? (size) => (fn as Fn)(0, 0, 1, size) : (size) => (fn as Fn)(size);
    }
  }

  get memorySize(): number {
    return this.#memory?.buffer.byteLength ?? 0;
  }

  /** Whether `length` bytes at `ptr` lie inside the memory. */
  fits(ptr: number, length: number): boolean {
    return Number.isSafeInteger(ptr) && Number.isSafeInteger(length) && ptr >= 0 && length >= 0 && ptr + length <= this.memorySize;
  }

  /** A view of guest memory, refused (`ERR_OUT_OF_BOUNDS`) unless it lies wholly inside. */
  view(ptr: number, length: number, what: string): Uint8Array {
    if (!this.fits(ptr, length)) {
      throw new OutOfBoundsError(`${what} of ${describeValue(length)} bytes at ${describeValue(ptr)} lies outside the instance's ${this.memorySize}-byte linear memory`);
    }
    return new Uint8Array((this.#memory as WebAssembly.Memory).buffer, ptr, length);
  }

  write(ptr: number, bytes: Uint8Array): void {
    this.view(ptr, bytes.byteLength, 'a write').set(bytes);
    if (this.recording) this.#linker.tape.recordHostWrite(ptr, bytes);
  }

  writeUnrecorded(ptr: number, bytes: Uint8Array): void {
    this.view(ptr, bytes.byteLength, 'a write').set(bytes);
  }

  /** Room for `size` bytes from the guest's allocator (at least 1 byte is asked for). */
  allocate(size: number): number {
    if (this.#allocate === undefined) {
      throw new NoAllocatorError('the module exports no allocator (malloc + free, alloc + dealloc, or cabi_realloc) to return bytes to the guest');
    }
    const want = Math.max(1, size);
    const ptr = this.#allocate(want) >>> 0;
    if (ptr === 0 || !this.fits(ptr, size)) throw new OutOfBoundsError(`the guest's ${this.#allocatorKind ?? 'allocator'} gave no room for ${want} bytes (returned ${ptr})`);
    return ptr;
  }

  alloc(bytes: Uint8Array): number {
    const patch = this.recording ? this.#linker.tape.recordHostAlloc(bytes) : undefined;
    const ptr = this.allocate(bytes.byteLength);
    patch?.(ptr);
    this.writeUnrecorded(ptr, bytes);
    return ptr;
  }
}

function toBytes(data: unknown): Uint8Array {
  if (typeof data === 'string') return encoder.encode(data);
  if (data instanceof Uint8Array) return data;
  throw new TypeError(`expected a Uint8Array or a string, got ${describeValue(data)}`);
}

function makeContext(binding: HostBinding, linker: HostFunctionLinker): HostContext {
  return Object.freeze({
    get sessionKey() {
      return linker.sessionKey;
    },
    get memorySize() {
      return binding.memorySize;
    },
    read: (ptr: number, length: number) => binding.view(ptr, length, 'a read').slice(),
    readString: (ptr: number, length: number) => decoder.decode(binding.view(ptr, length, 'a read')),
    write: (ptr: number, data: Uint8Array | string) => binding.write(ptr, toBytes(data)),
    alloc: (data: Uint8Array | string) => binding.alloc(toBytes(data)),
  });
}
