// How one value crosses the cluster wire: the JSON form of numbers, bigints, strings, undefined and
// arrays, with byte and typed-array payloads moved to a binary tail; and the checked reading back.

import { InvalidArgumentError, describeValue } from '../errors.js';
import type { WireValue } from './batch-wire.js';

/** Arrays nest at most this deep (a deeper message is refused rather than overflowing the stack). */
export const MAX_DEPTH = 64;
/** Digits a bigint may have on the wire (an i64 needs 20; a longer string is not ours). */
const MAX_BIGINT_DIGITS = 80;

/** The binary tail of a message (typed-array payloads, in the encoder's byte order: little-endian). */
export type TailReader = Uint8Array;

type TypedArrayConstructor =
  | Uint8ArrayConstructor | Int8ArrayConstructor | Uint16ArrayConstructor | Int16ArrayConstructor
  | Uint32ArrayConstructor | Int32ArrayConstructor | Float32ArrayConstructor | Float64ArrayConstructor
  | BigInt64ArrayConstructor | BigUint64ArrayConstructor;

/** Typed-array kinds by wire number (never reorder: the numbers are part of the wire version). */
const KINDS: readonly TypedArrayConstructor[] = [
  Uint8Array, Int8Array, Uint16Array, Int16Array, Uint32Array, Int32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array,
];
const KIND_BY_NAME: ReadonlyMap<string, number> = new Map(KINDS.map((kind, index) => [kind.name, index]));
const SPECIAL_NUMBERS: Readonly<Record<string, number>> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY, '-0': -0 };
const TYPED_ARRAY_PROTOTYPE = Object.getPrototypeOf(Uint8Array.prototype) as object;
/** The kind's name, as %TypedArray%.prototype[Symbol.toStringTag] reads it from the view itself (a Buffer is a Uint8Array). */
const typedArrayName = (view: ArrayBufferView): unknown => Reflect.get(TYPED_ARRAY_PROTOTYPE, Symbol.toStringTag, view);

/** Whether `value` is a typed array of a kind the wire carries (not a DataView, not a Uint8ClampedArray). */
export function isWireTypedArray(value: unknown): value is ArrayBufferView {
  return ArrayBuffer.isView(value) && KIND_BY_NAME.has(String(typedArrayName(value)));
}

/** An ERR_INVALID_ARGUMENT for a malformed part of a message. */
export function wireFault(what: string, got: unknown): InvalidArgumentError {
  return new InvalidArgumentError(`Malformed cluster message: bad ${what}, got ${describeValue(got)}`);
}

/** The JSON form of `value`; its byte payloads are appended to `tail` (`size.bytes` counts them). */
export function encodeValue(value: WireValue, tail: Uint8Array[], size: { bytes: number }, depth: number): unknown {
  switch (typeof value) {
    case 'number':
      if (Number.isFinite(value) && !Object.is(value, -0)) return value;
      return { f: Object.is(value, -0) ? '-0' : String(value) };
    case 'string':
      return value;
    case 'bigint':
      return { i: value.toString() };
    case 'undefined':
      return null;
    default:
      break;
  }
  if (Array.isArray(value)) {
    if (depth >= MAX_DEPTH) throw new InvalidArgumentError(`Cannot send arrays nested more than ${MAX_DEPTH} deep to the cluster`);
    return (value as readonly WireValue[]).map((item) => encodeValue(item, tail, size, depth + 1));
  }
  const kind = ArrayBuffer.isView(value) ? KIND_BY_NAME.get(String(typedArrayName(value))) : undefined;
  if (kind === undefined) {
    throw new InvalidArgumentError(`Cannot send ${describeValue(value)} to the cluster: values are numbers, bigints, strings, undefined, typed arrays and arrays of them`);
  }
  const view = value as ArrayBufferView;
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  const offset = size.bytes;
  tail.push(bytes);
  size.bytes += bytes.byteLength;
  return { t: kind, o: offset, n: bytes.byteLength };
}

/** Reads back a value {@link encodeValue} wrote; throws ERR_INVALID_ARGUMENT for anything else. */
export function decodeValue(json: unknown, tail: TailReader, depth: number): WireValue {
  if (json === null) return undefined;
  switch (typeof json) {
    case 'number':
    case 'string':
      return json;
    case 'object':
      break;
    default:
      throw wireFault('value', json);
  }
  if (Array.isArray(json)) {
    if (depth >= MAX_DEPTH) throw wireFault(`value (arrays nested over ${MAX_DEPTH} deep)`, 'a deeper array');
    return json.map((item: unknown) => decodeValue(item, tail, depth + 1));
  }
  const tagged = json as Record<string, unknown>;
  const keys = Object.keys(tagged);
  if (keys.length === 1 && keys[0] === 'f') {
    const name = tagged['f'];
    if (typeof name === 'string' && Object.hasOwn(SPECIAL_NUMBERS, name)) return SPECIAL_NUMBERS[name];
    throw wireFault('special number', name);
  }
  if (keys.length === 1 && keys[0] === 'i') {
    const digits = tagged['i'];
    if (typeof digits === 'string' && digits.length <= MAX_BIGINT_DIGITS && /^-?(?:0|[1-9]\d*)$/.test(digits)) return BigInt(digits);
    throw wireFault('bigint', digits);
  }
  if (keys.length === 3 && Object.hasOwn(tagged, 't') && Object.hasOwn(tagged, 'o') && Object.hasOwn(tagged, 'n')) {
    const Kind = KINDS[readInteger(tagged['t'], 'typed array kind')];
    const offset = readInteger(tagged['o'], 'payload offset');
    const length = readInteger(tagged['n'], 'payload length');
    if (Kind === undefined) throw wireFault('typed array kind', tagged['t']);
    if (offset + length > tail.byteLength || length % Kind.BYTES_PER_ELEMENT !== 0) {
      throw wireFault(`payload bounds (the tail holds ${tail.byteLength} bytes)`, `${length} bytes at ${offset} for a ${Kind.name}`);
    }
    // A copy: the message's buffer is NATS's, and the copy is aligned for any element size.
    // (Not `slice`: on a Buffer, which NATS may hand over, it returns a view.)
    const copy = new Uint8Array(length);
    copy.set(tail.subarray(offset, offset + length));
    return Kind === Uint8Array ? copy : new Kind(copy.buffer);
  }
  throw wireFault('value', json);
}

/** A JSON object (not an array, not null). */
export function readRecord(json: unknown, what: string): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw wireFault(what, json);
  return json as Record<string, unknown>;
}

export function readString(json: unknown, what: string): string {
  if (typeof json !== 'string') throw wireFault(what, json);
  return json;
}

/** A non-negative safe integer. */
export function readInteger(json: unknown, what: string): number {
  if (typeof json !== 'number' || !Number.isSafeInteger(json) || json < 0) throw wireFault(what, json);
  return json;
}
