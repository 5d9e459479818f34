// What one journal record of a durable session says (an operation and its outcome, a new base, an
// end), and the compact codec for the values in it. Shared by the main thread and the workers (replay).

import { RESULT_MODES, TYPED_RESULT_KINDS, type ResultMode, type TypedResultKind } from './protocol.js';
import type { SerializedError } from './errors.js';

/** What a record says. */
export const RecordType = {
  /** A call (or a callMany) ran and has this outcome; with {@link CallFlags.Opened} a fresh instance started first. */
  Call: 1,
  /** A fresh instance started (`_initialize` ran) with no call: the session's first operation, or a reset. */
  Start: 2,
  /** The session's state is in snapshot `generation`: records before it are no longer needed to rebuild it. */
  Snapshot: 3,
  /** The session was closed: it has no state any more. */
  Close: 4,
  /** Records written earlier at `[from, to)` of `segment` were never acknowledged (their write failed): ignore them. */
  Void: 5,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

/** Bits of a call record's flags. */
export const CallFlags = {
  /** The operation started a fresh instance (`_initialize` ran, its inputs first on the tape). */
  Opened: 1,
  /** A callMany: `args` is its list. */
  Many: 2,
  /** The outcome is an error (the instance kept its state: a trap under `onTrap: 'keep'`, a refused argument). */
  Failed: 4,
} as const;

export interface CallRecord {
  readonly type: typeof RecordType.Call;
  readonly key: string;
  readonly seq: number;
  readonly flags: number;
  readonly exportIndex: number;
  /** How buffers were passed and the result read (undefined: plain values). */
  readonly mode: ResultMode | undefined;
  /** For a callMany over a typed array: the kind of typed array its results came back in. */
  readonly typedResult: TypedResultKind | undefined;
  readonly idempotencyKey: string | undefined;
  /** The arguments (a callMany: its list), in the value codec. */
  readonly args: Uint8Array;
  /** The outcome (a value, or an error), in the value codec. */
  readonly outcome: Uint8Array;
  /** The results of every non-deterministic host function the operation used, in order (the worker's format). */
  readonly tape: Uint8Array;
}

export interface StartRecord {
  readonly type: typeof RecordType.Start;
  readonly key: string;
  readonly seq: number;
  readonly tape: Uint8Array;
}

export interface SnapshotRecord {
  readonly type: typeof RecordType.Snapshot;
  readonly key: string;
  readonly seq: number;
  readonly generation: number;
  /** The snapshot replaced the session's state (a restore) rather than compacting its records: nothing before it can stand in for it. */
  readonly replaces: boolean;
}

export interface CloseRecord {
  readonly type: typeof RecordType.Close;
  readonly key: string;
  readonly seq: number;
}

export interface VoidRecord {
  readonly type: typeof RecordType.Void;
  readonly key: '';
  readonly seq: 0;
  readonly segment: number;
  readonly from: number;
  readonly to: number;
}

export type JournalRecord = CallRecord | StartRecord | SnapshotRecord | CloseRecord | VoidRecord;

/**
 * A growable byte buffer written front to back. (Each writer reserves before it reads `view`: a
 * reserve that grows the buffer replaces the view, and `this.view.setX(this.reserve(n))` would
 * still write through the old one.)
 */
export class ByteWriter {
  bytes: Uint8Array;
  view: DataView;
  length = 0;

  constructor(capacity = 256) {
    this.bytes = new Uint8Array(capacity);
    this.view = new DataView(this.bytes.buffer);
  }

  reserve(count: number): number {
    const at = this.length;
    const need = at + count;
    if (need > this.bytes.byteLength) {
      const grown = new Uint8Array(Math.max(need, this.bytes.byteLength * 2));
      grown.set(this.bytes.subarray(0, at));
      this.bytes = grown;
      this.view = new DataView(grown.buffer);
    }
    this.length = need;
    return at;
  }

  u8(value: number): void {
    const at = this.reserve(1);
    this.view.setUint8(at, value);
  }

  u16(value: number): void {
    const at = this.reserve(2);
    this.view.setUint16(at, value, true);
  }

  u32(value: number): void {
    const at = this.reserve(4);
    this.view.setUint32(at, value, true);
  }

  f64(value: number): void {
    const at = this.reserve(8);
    this.view.setFloat64(at, value, true);
  }

  i64(value: bigint): void {
    const at = this.reserve(8);
    this.view.setBigInt64(at, value, true);
  }

  raw(bytes: Uint8Array): void {
    const at = this.reserve(bytes.byteLength);
    this.bytes.set(bytes, at);
  }

  /** A string as a u32 byte length and its UTF-8. */
  string(text: string): void {
    // At most 3 bytes per UTF-16 unit: reserve that, write, then give back what was not used.
    const at = this.reserve(4 + text.length * 3);
    const { written } = encoder.encodeInto(text, this.bytes.subarray(at + 4));
    this.view.setUint32(at, written, true);
    this.length = at + 4 + written;
  }

  /** `bytes` as a u32 length and the bytes. */
  blob(bytes: Uint8Array): void {
    this.u32(bytes.byteLength);
    this.raw(bytes);
  }

  /** What was written, as a copy. */
  take(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

/** Thrown for bytes that do not decode: a truncated or corrupt record. */
export class RecordDecodeError extends Error {}

/** Reads what a {@link ByteWriter} wrote; throws {@link RecordDecodeError} past the end. */
export class ByteReader {
  readonly #view: DataView;
  readonly bytes: Uint8Array;
  at = 0;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get done(): boolean {
    return this.at === this.bytes.byteLength;
  }

  #take(count: number): number {
    const at = this.at;
    if (count < 0 || at + count > this.bytes.byteLength) throw new RecordDecodeError(`a record ends early: ${count} bytes wanted at ${at} of ${this.bytes.byteLength}`);
    this.at = at + count;
    return at;
  }

  u8(): number {
    return this.#view.getUint8(this.#take(1));
  }

  u16(): number {
    return this.#view.getUint16(this.#take(2), true);
  }

  u32(): number {
    return this.#view.getUint32(this.#take(4), true);
  }

  f64(): number {
    return this.#view.getFloat64(this.#take(8), true);
  }

  i64(): bigint {
    return this.#view.getBigInt64(this.#take(8), true);
  }

  raw(count: number): Uint8Array {
    const at = this.#take(count);
    return this.bytes.subarray(at, at + count);
  }

  string(): string {
    const length = this.u32();
    return decoder.decode(this.raw(length));
  }

  blob(): Uint8Array {
    return this.raw(this.u32());
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

/** Tags of the value codec. */
const Value = {
  Undefined: 0,
  Number: 1,
  I64: 2,
  BigInt: 3,
  String: 4,
  Bytes: 5,
  Array: 6,
  Typed: 7,
  Error: 8,
} as const;

/** Typed arrays the codec carries (callMany lists and results), by their index here. */
const TYPED_ARRAYS = [
  Int8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array,
] as const;
const MIN_I64 = -(2n ** 63n);
const MAX_I64 = 2n ** 63n - 1n;

/**
 * Writes a value that crosses an export (an argument list, a result): numbers, bigints, undefined,
 * strings, bytes, arrays of these, typed arrays. Throws a TypeError for anything else.
 */
export function writeValue(out: ByteWriter, value: unknown): void {
  if (typeof value === 'number') {
    out.u8(Value.Number);
    out.f64(value);
  } else if (value === undefined) {
    out.u8(Value.Undefined);
  } else if (typeof value === 'bigint') {
    if (value >= MIN_I64 && value <= MAX_I64) {
      out.u8(Value.I64);
      out.i64(value);
    } else {
      out.u8(Value.BigInt);
      out.string(value.toString());
    }
  } else if (typeof value === 'string') {
    out.u8(Value.String);
    out.string(value);
  } else if (value instanceof Uint8Array && value.constructor === Uint8Array) {
    out.u8(Value.Bytes);
    out.blob(value);
  } else if (Array.isArray(value)) {
    const items = value as unknown[];
    if (items.every((item) => typeof item === 'number')) {
      // Plain numbers (the usual argument list), in one reservation.
      const at = out.reserve(5 + 9 * items.length);
      const { bytes, view } = out;
      bytes[at] = Value.Array;
      view.setUint32(at + 1, items.length, true);
      for (let i = 0; i < items.length; i++) {
        bytes[at + 5 + 9 * i] = Value.Number;
        view.setFloat64(at + 6 + 9 * i, items[i] as number, true);
      }
      return;
    }
    out.u8(Value.Array);
    out.u32(items.length);
    for (const item of items) writeValue(out, item);
  } else if (ArrayBuffer.isView(value)) {
    const kind = TYPED_ARRAYS.findIndex((type) => value.constructor === type);
    if (kind < 0) throw new TypeError(`a ${value.constructor.name} cannot be journaled`);
    out.u8(Value.Typed);
    out.u8(kind);
    out.blob(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
  } else {
    throw new TypeError(`a ${value === null ? 'null' : typeof value} cannot be journaled`);
  }
}

/** Reads a value {@link writeValue} wrote (typed arrays and bytes as fresh copies). */
export function readValue(input: ByteReader): unknown {
  const tag = input.u8();
  switch (tag) {
    case Value.Number: return input.f64();
    case Value.Undefined: return undefined;
    case Value.I64: return input.i64();
    case Value.BigInt: {
      const text = input.string();
      if (!/^-?\d+$/.test(text)) throw new RecordDecodeError(`a bigint reads ${JSON.stringify(text.slice(0, 40))}`);
      return BigInt(text);
    }
    case Value.String: return input.string();
    case Value.Bytes: return input.blob().slice();
    case Value.Array: {
      const count = input.u32();
      // Every item takes a byte at least: a corrupt count cannot make a huge array.
      if (count > input.bytes.byteLength - input.at) throw new RecordDecodeError(`an array of ${count} items in ${input.bytes.byteLength - input.at} bytes`);
      const items: unknown[] = [];
      for (let i = 0; i < count; i++) items.push(readValue(input));
      return items;
    }
    case Value.Typed: {
      const Type = TYPED_ARRAYS[input.u8()];
      const bytes = input.blob();
      if (Type === undefined || bytes.byteLength % Type.BYTES_PER_ELEMENT !== 0) throw new RecordDecodeError('a typed array of no known kind or size');
      const copy = bytes.slice();
      return new Type(copy.buffer, 0, copy.byteLength / Type.BYTES_PER_ELEMENT);
    }
    case Value.Error: return { error: JSON.parse(input.string()) as SerializedError };
    default: throw new RecordDecodeError(`unknown value tag ${tag}`);
  }
}

/** Writes an error outcome (read back by {@link readValue} as `{ error }`). */
export function writeError(out: ByteWriter, error: SerializedError): void {
  out.u8(Value.Error);
  out.string(JSON.stringify(error));
}

/** The error in an outcome, if it is one. */
export function outcomeError(outcome: unknown): SerializedError | undefined {
  return typeof outcome === 'object' && outcome !== null && !Array.isArray(outcome) && !ArrayBuffer.isView(outcome) && 'error' in outcome
    ? (outcome as { error: SerializedError }).error
    : undefined;
}

/** Encodes a record's body (the journal frames it with its length and checksum). */
export function encodeRecord(out: ByteWriter, record: JournalRecord): void {
  out.u8(record.type);
  out.string(record.key);
  out.f64(record.seq);
  switch (record.type) {
    case RecordType.Call:
      out.u8(record.flags);
      out.u16(record.exportIndex);
      out.u8(record.mode === undefined ? 255 : RESULT_MODES.indexOf(record.mode));
      out.u8(record.typedResult === undefined ? 255 : TYPED_RESULT_KINDS.indexOf(record.typedResult));
      if (record.idempotencyKey === undefined) out.u8(0);
      else {
        out.u8(1);
        out.string(record.idempotencyKey);
      }
      out.blob(record.args);
      out.blob(record.outcome);
      out.blob(record.tape);
      break;
    case RecordType.Start:
      out.blob(record.tape);
      break;
    case RecordType.Snapshot:
      out.f64(record.generation);
      out.u8(record.replaces ? 1 : 0);
      break;
    case RecordType.Close:
      break;
    case RecordType.Void:
      out.f64(record.segment);
      out.f64(record.from);
      out.f64(record.to);
      break;
  }
}

/** What a call record holds, with its arguments and outcome as values (see {@link encodeCallRecord}). */
export interface CallValues {
  readonly flags: number;
  readonly exportIndex: number;
  readonly mode: ResultMode | undefined;
  readonly typedResult: TypedResultKind | undefined;
  readonly idempotencyKey: string | undefined;
  readonly args: unknown;
  /** The value, or (with {@link CallFlags.Failed}) the serialized error. */
  readonly outcome: unknown;
  readonly tape: Uint8Array | undefined;
}

/**
 * Writes a call record's body straight from its values: the bytes {@link encodeRecord} writes for the
 * same record with its arguments and outcome already encoded, without encoding them apart first.
 */
export function encodeCallRecord(out: ByteWriter, key: Uint8Array, seq: number, call: CallValues): void {
  // The fixed part in one reservation: this runs for every durable call.
  const head = 1 + 4 + key.byteLength + 8 + 1 + 2 + 1 + 1 + 1;
  const start = out.reserve(head);
  const { bytes, view } = out;
  bytes[start] = RecordType.Call;
  view.setUint32(start + 1, key.byteLength, true);
  bytes.set(key, start + 5);
  let at = start + 5 + key.byteLength;
  view.setFloat64(at, seq, true);
  bytes[at + 8] = call.flags;
  view.setUint16(at + 9, call.exportIndex, true);
  bytes[at + 11] = call.mode === undefined ? 255 : RESULT_MODES.indexOf(call.mode);
  bytes[at + 12] = call.typedResult === undefined ? 255 : TYPED_RESULT_KINDS.indexOf(call.typedResult);
  if (call.idempotencyKey === undefined) bytes[at + 13] = 0;
  else {
    bytes[at + 13] = 1;
    out.string(call.idempotencyKey);
  }
  // Each blob's length is filled in once its value is written.
  at = out.reserve(4);
  writeValue(out, call.args);
  out.view.setUint32(at, out.length - at - 4, true);
  at = out.reserve(4);
  if ((call.flags & CallFlags.Failed) !== 0) writeError(out, call.outcome as SerializedError);
  else writeValue(out, call.outcome);
  out.view.setUint32(at, out.length - at - 4, true);
  if (call.tape === undefined) out.u32(0);
  else out.blob(call.tape);
}

/** Decodes a record body; throws {@link RecordDecodeError} if it is not one. Byte fields are views of `body`. */
export function decodeRecord(body: Uint8Array): JournalRecord {
  const input = new ByteReader(body);
  const type = input.u8();
  const key = input.string();
  const seq = input.f64();
  let record: JournalRecord;
  switch (type) {
    case RecordType.Call: {
      const flags = input.u8();
      const exportIndex = input.u16();
      const modeIndex = input.u8();
      const typedIndex = input.u8();
      const mode = modeIndex === 255 ? undefined : RESULT_MODES[modeIndex];
      const typedResult = typedIndex === 255 ? undefined : TYPED_RESULT_KINDS[typedIndex];
      if ((modeIndex !== 255 && mode === undefined) || (typedIndex !== 255 && typedResult === undefined)) throw new RecordDecodeError('a call record with an unknown mode');
      const idempotencyKey = input.u8() === 1 ? input.string() : undefined;
      const args = input.blob();
      const outcome = input.blob();
      const tape = input.blob();
      record = { type, key, seq, flags, exportIndex, mode, typedResult, idempotencyKey, args, outcome, tape };
      break;
    }
    case RecordType.Start:
      record = { type, key, seq, tape: input.blob() };
      break;
    case RecordType.Snapshot:
      record = { type, key, seq, generation: input.f64(), replaces: input.u8() === 1 };
      break;
    case RecordType.Close:
      record = { type, key, seq };
      break;
    case RecordType.Void:
      record = { type, key: '', seq: 0, segment: input.f64(), from: input.f64(), to: input.f64() };
      break;
    default:
      throw new RecordDecodeError(`unknown record type ${type}`);
  }
  if (!input.done) throw new RecordDecodeError(`a record has ${body.byteLength - input.at} bytes left over`);
  return record;
}
