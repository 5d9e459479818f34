// Takes a call's arguments from the caller when the call is made: each value is read once, copied
// into something the job alone holds, and checked as copied, so nothing the caller does afterwards
// (refilling a typed array, swapping an item, detaching a buffer) can change or break what runs.

import { types } from 'node:util';
import { checkArgs, checkTypedList, type Callable } from './arguments.js';
import { checkBufferArgs, hasBuffer, isBuffer } from './buffers.js';
import type { TypedArgs } from './call-options.js';
import { InvalidArgumentError, describeValue } from './errors.js';
import type { AllocatorKind, BufferArg, TypedResultKind, WasmValue } from './protocol.js';

/** A wasm function takes at most 1000 parameters (the JS API's limit), so a longer tuple is refused unread. */
const MAX_PARAMS = 1000;

type TypedArrayConstructor = new (source: TypedArgs) => TypedArgs;

/**
 * The engine's own constructors, captured at load: copying through them reads the source's internal
 * slots only (no `species`, no overridden `length`), and they throw for a detached buffer.
 */
const TYPED_ARRAYS: ReadonlyMap<string, TypedArrayConstructor> = new Map(([
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
] as unknown as TypedArrayConstructor[]).map((type) => [type.name, type]));

/** `%TypedArray%.prototype[Symbol.toStringTag]`: the real kind of a typed array, `undefined` for anything else. */
// eslint-disable-next-line @typescript-eslint/unbound-method -- a getter, always called with .call(value)
const typedArrayKind = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Int8Array.prototype) as object, Symbol.toStringTag)
  ?.get as (this: unknown) => string | undefined;

/** One item of an owned callMany list: a single argument or a fresh tuple. */
export type OwnedItem = WasmValue | BufferArg | readonly (WasmValue | BufferArg)[];

export interface OwnedList {
  /** A private copy of the list: a typed array, or an array of primitives, fresh tuples and fresh buffers. */
  readonly argsList: TypedArgs | readonly OwnedItem[];
  /** For a typed array: the kind of typed array the results come back in. */
  readonly typedResult: TypedResultKind | undefined;
  /** Some item holds a buffer (a `Uint8Array` or a string). */
  readonly buffers: boolean;
}

/**
 * Makes a call's own argument array (a rest parameter: no one else holds it) safe to send: each
 * `Uint8Array` is replaced by a private copy. Returns true if any argument is a buffer. Values that are
 * neither primitives nor buffers are left for the signature checks to refuse by name.
 */
export function ownCallArgs(callable: Callable, args: unknown[]): boolean {
  let buffers = false;
  for (let i = 0; i < args.length; i++) {
    // Numbers, the common case, cost two typeof tests: no call out of line.
    const arg = args[i];
    if (typeof arg === 'string') {
      buffers = true;
    } else if (typeof arg === 'object' && arg !== null) {
      const owned = ownObject(callable, i, arg);
      args[i] = owned;
      if (isBuffer(owned)) buffers = true;
    }
  }
  return buffers;
}

/**
 * Copies and checks a `callMany` list in one pass, item by item: an item is read once, copied, and its
 * copy checked before the next is read, so a bad item stops the pass where it stands. Checks each
 * item as a call with buffers would (a call without buffers is checked exactly as by `call`).
 */
export function takeCallManyList(callable: Callable, list: unknown, allocator: AllocatorKind | undefined): OwnedList {
  if (types.isProxy(list)) throw refusal(callable, 'the callMany list is a Proxy; pass an array or a typed array');
  if (ArrayBuffer.isView(list)) {
    const kind = typedArrayKind.call(list);
    if (kind !== undefined) {
      const copy = copyTypedArray(callable, kind, list as unknown as TypedArgs);
      return { argsList: copy, typedResult: checkTypedList(callable, copy), buffers: false };
    }
  }
  if (!Array.isArray(list)) {
    const got = typeof list === 'object' && list !== null && posesAsUint8Array(list) ? 'an object posing as a Uint8Array' : describeValue(list);
    throw refusal(callable, `Expected the callMany list to be an array or a typed array, got ${got}`);
  }
  const source: readonly unknown[] = list;
  const owned = new Array<OwnedItem>(source.length);
  let buffers = false;
  let i = 0;
  try {
    for (; i < owned.length; i++) {
      const entry = ownEntry(callable, read(callable, source, i));
      if (typeof entry === 'number' || typeof entry === 'bigint') {
        // A lone number, the common case: no buffer to look for.
        checkArgs(callable, [entry]);
      } else {
        const tuple: readonly unknown[] = Array.isArray(entry) ? entry : [entry];
        checkBufferArgs(callable, tuple, allocator);
        if (!buffers) buffers = hasBuffer(tuple);
      }
      owned[i] = entry as OwnedItem;
    }
  } catch (error) {
    (error as Error).message = `callMany item ${i}: ${(error as Error).message}`;
    throw error;
  }
  return { argsList: owned, typedResult: undefined, buffers };
}

/** A callMany item: a primitive as it is, a tuple copied element by element, an object as {@link ownObject} takes it. */
function ownEntry(callable: Callable, entry: unknown): unknown {
  if (typeof entry !== 'object' || entry === null) return entry;
  if (types.isProxy(entry)) throw refusal(callable, 'the item is a Proxy; pass a plain array of arguments');
  if (!Array.isArray(entry)) return ownObject(callable, 0, entry);
  const tuple: readonly unknown[] = entry;
  const length = tuple.length;
  const limit = callable.signature?.params.length ?? MAX_PARAMS;
  if (length > limit) {
    throw refusal(callable, `\`${callable.name}\` takes at most ${limit} argument(s), got a tuple of ${length}`);
  }
  const copy = new Array<unknown>(length);
  for (let i = 0; i < length; i++) {
    const arg = read(callable, tuple, i);
    copy[i] = typeof arg === 'object' && arg !== null ? ownObject(callable, i, arg) : arg;
  }
  return copy;
}

/** Argument `index` given as an object: a private copy of a real `Uint8Array`; a refusal for what would not travel. */
function ownObject(callable: Callable, index: number, value: object): unknown {
  if (types.isProxy(value)) throw refusal(callable, `argument ${index} of \`${callable.name}\` is a Proxy, which cannot be copied`);
  if (types.isUint8Array(value)) {
    try {
      return new Uint8Array(value);
    } catch {
      throw refusal(callable, `argument ${index} of \`${callable.name}\` is a Uint8Array whose buffer is detached or out of bounds`);
    }
  }
  if (posesAsUint8Array(value)) {
    throw refusal(callable, `argument ${index} of \`${callable.name}\` poses as a Uint8Array but is none (it has no bytes)`);
  }
  return value;
}

/** An object on Uint8Array's prototype chain that is no typed array, or whose chain cannot be walked. */
function posesAsUint8Array(value: object): boolean {
  try {
    return value instanceof Uint8Array;
  } catch {
    return true;
  }
}

function copyTypedArray(callable: Callable, kind: string, list: TypedArgs): TypedArgs {
  const Type = TYPED_ARRAYS.get(kind);
  if (Type === undefined) throw refusal(callable, `callMany does not take a ${kind}`);
  try {
    return new Type(list);
  } catch {
    throw refusal(callable, `the callMany list is a ${kind} whose buffer is detached or out of bounds`);
  }
}

/** `source[index]`, where a getter that throws is the caller's mistake, reported with the code. */
function read(callable: Callable, source: readonly unknown[], index: number): unknown {
  try {
    return source[index];
  } catch (error) {
    throw refusal(callable, `reading element ${index} threw: ${thrownMessage(error)}`);
  }
}

/** What was thrown, as text, without running more of the thrower's code than reading a message. */
function thrownMessage(error: unknown): string {
  try {
    return error instanceof Error ? String(error.message) : `a ${typeof error} was thrown`;
  } catch {
    return 'an error that cannot be read';
  }
}

function refusal(callable: Callable, message: string): InvalidArgumentError {
  return new InvalidArgumentError(message, { exportName: callable.name });
}
