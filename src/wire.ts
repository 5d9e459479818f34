// The batch wire format, both directions: how operations are laid out in a request record of a
// worker's ring (see ring.ts) and their outcomes in a response record; the encoders and decoders.

import { deserialize, serialize } from 'node:v8';
import {
  RESULT_MODES, Status, TYPED_RESULT_KINDS, createsInstance, type CallManyOp, type CallOp, type Op, type ReplayOp, type ResultMode, type TypedResultKind,
} from './protocol.js';
import { WordBuffer, wordsFor } from './ring.js';

/*
 * Everything is in 8-byte words. A request record:
 *   word 0   i32 record length in words | i32 unused
 *   word 1   i32 batch number           | i32 1 if the worker reports each operation's start (a timeout watches it)
 *   word 2   i32 operation count        | i32 unused
 *   then each operation:
 *   word 0   i32 OP_BITS (tag, open, form, result mode, typed result, input kind) | i32 export index
 *            (a replay: its base's length in bytes, -1 for none)
 *   word 1   i32 instance id            | i32 count (arguments, list items, or payload bytes, by form)
 *   word 2   f64 epoch
 *   then its payload, by form:
 *     values      ceil(count / 64) words of bits (1: the argument is an i64 bigint), then one word per argument
 *     typed       the list's elements, raw, padded to a word (a typed-array list)
 *     structured  `v8.serialize` of the arguments or list (buffers, tuples, mixed lists), or of a restore's
 *                 snapshot bytes, padded to a word
 *     side        nothing: the value travels as a message on the side port (too big for the ring)
 *     bytes       a restore's snapshot, raw, padded to a word (count: its length); a replay's base then its
 *                 framed records, back to back, padded to a word (count: both lengths together)
 *     (side: a replay's value is the pair [base | undefined, records])
 *   (open, drop and snapshot carry nothing; snapshot and calls may set the open bit)
 * A response record:
 *   word 0   i32 record length in words | i32 unused
 *   word 1   i32 batch number           | i32 index in the batch of its first outcome
 *   then one outcome per operation, in order:
 *   word 0   i32 form (| typed kind << 8) | i32 count of a typed result, or bytes of a structured one
 *   then: a number or a bigint (one word), a typed result's elements, a Uint8Array's bytes (count: its
 *   length), or `v8.serialize([status, payload])`.
 */

/** Operation tags (the low bits of an operation's first word). */
export const Tag = { Call: 0, CallMany: 1, Open: 2, Drop: 3, Snapshot: 4, Restore: 5, Replay: 6 } as const;
export type Tag = (typeof Tag)[keyof typeof Tag];

const TAGS: Record<Op['kind'], Tag> = {
  call: Tag.Call, callMany: Tag.CallMany, open: Tag.Open, drop: Tag.Drop, snapshot: Tag.Snapshot, restore: Tag.Restore, replay: Tag.Replay,
};

/** How an operation's arguments travel. */
export const Form = { None: 0, Values: 1, Typed: 2, Structured: 3, Side: 4, Bytes: 5 } as const;
export type Form = (typeof Form)[keyof typeof Form];

/** Typed arrays a callMany list may be, by index on the wire. */
export const TYPED_INPUT_KINDS = [
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
  'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
] as const;
type TypedInputKind = (typeof TYPED_INPUT_KINDS)[number];
type AnyTypedArray = InstanceType<(typeof globalThis)[TypedInputKind]>;

// Bits of an operation's first word.
export const TAG_MASK = 0x7;
export const OPEN_BIT = 0x8;
/** The operation's session key travels first on the side port (host functions: see {@link BatchEncoder}). */
export const KEY_BIT = 0x80;
export const FORM_SHIFT = 4;
export const FORM_MASK = 0x7;
/** RESULT_MODES index + 1 when the call goes through guest memory; 0 otherwise. */
export const MODE_SHIFT = 8;
/** TYPED_RESULT_KINDS index + 1 when a callMany returns a typed array; 0 otherwise. */
export const TYPED_RESULT_SHIFT = 12;
/** TYPED_INPUT_KINDS index of a typed list. */
export const INPUT_KIND_SHIFT = 16;

/** Words of a request record's header, and of an operation's. */
export const REQUEST_HEADER_WORDS = 3;
export const OP_HEADER_WORDS = 3;
export const RESPONSE_HEADER_WORDS = 2;

/** Outcome forms in a response. */
export const Outcome = { Undefined: 0, Number: 1, BigInt: 2, Typed: 3, Structured: 4, Side: 5, Bytes: 6 } as const;

/** The f64/i64/i32/byte views of some words: a ring's data area or a {@link WordBuffer}. */
export interface Words {
  readonly f64: Float64Array;
  readonly i64: BigInt64Array;
  readonly i32: Int32Array;
  readonly u8: Uint8Array;
}

const MIN_I64 = -(2n ** 63n);
const MAX_I64 = 2n ** 63n - 1n;

/** Whether every argument is a number or a bigint that fits in an i64 word. */
function fitsValues(args: readonly unknown[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (typeof arg === 'number') continue;
    if (typeof arg !== 'bigint' || arg < MIN_I64 || arg > MAX_I64) return false;
  }
  return true;
}

/** The kind of a typed array (its constructor's name, read from the engine's own tag), or undefined. */
function kindName(value: unknown): string | undefined {
  return ArrayBuffer.isView(value) && !(value instanceof DataView) ? (value as unknown as { [Symbol.toStringTag]: string })[Symbol.toStringTag] : undefined;
}

function typedKindOf(list: unknown): number {
  return TYPED_INPUT_KINDS.indexOf(kindName(list) as TypedInputKind);
}

/**
 * Encodes operations into one request record. Arguments too large for the ring (over `sideWords`)
 * are left in {@link side}, to be posted on the side port, in order, before the record is written.
 */
export class BatchEncoder {
  readonly words = new WordBuffer(4096);
  /** Values of operations sent with {@link Form.Side}, in operation order. */
  side: unknown[] = [];
  #count = 0;
  readonly #sideWords: number;
  /** Which operations carry their session key (host functions need it): none, those that start an instance, or all. */
  readonly #keys: 'none' | 'start' | 'every';

  constructor(sideWords: number, keys: 'none' | 'start' | 'every' = 'none') {
    this.#sideWords = sideWords;
    this.#keys = keys;
  }

  /** Starts a record for batch `seq`. */
  begin(seq: number): void {
    const words = this.words;
    words.length = 0;
    words.reserve(REQUEST_HEADER_WORDS);
    words.i32[2] = seq;
    this.side = [];
    this.#count = 0;
  }

  /** Operations in the record so far. */
  get count(): number {
    return this.#count;
  }

  /** Appends `op` of session `sessionKey` (see {@link save} and {@link restore} to take it back). */
  add(op: Op, sessionKey?: string): void {
    const words = this.words;
    const at = words.reserve(OP_HEADER_WORDS);
    const i32 = words.i32;
    i32[2 * at + 2] = op.instanceId;
    words.f64[at + 2] = op.epoch;
    let bits: number = TAGS[op.kind];
    if (sessionKey !== undefined && this.#keys !== 'none' && (this.#keys === 'every' || createsInstance(op))) {
      bits |= KEY_BIT;
      this.side.push(sessionKey);
    }
    let exportIndex = 0;
    if (op.kind === 'snapshot') {
      if (op.open) bits |= OPEN_BIT;
    } else if (op.kind === 'restore') {
      bits |= this.#bytes(op.snapshot, at);
    } else if (op.kind === 'replay') {
      exportIndex = op.base === undefined ? -1 : op.base.byteLength;
      bits |= this.#replay(op, at);
    } else if (op.kind === 'call' || op.kind === 'callMany') {
      exportIndex = op.exportIndex;
      if (op.open) bits |= OPEN_BIT;
      if (op.buffers !== undefined) bits |= (RESULT_MODES.indexOf(op.buffers) + 1) << MODE_SHIFT;
      bits |= op.kind === 'call' ? this.#args(op, at) : this.#list(op, at);
    }
    words.i32[2 * at] = bits;
    words.i32[2 * at + 1] = exportIndex;
    this.#count++;
  }

  // Where the record stood at {@link save}: three numbers, not an object per operation.
  #savedWords = 0;
  #savedCount = 0;
  #savedSide = 0;

  /** Remembers where the record stands, for {@link restore}. */
  save(): void {
    this.#savedWords = this.words.length;
    this.#savedCount = this.#count;
    this.#savedSide = this.side.length;
  }

  /** Takes back the operations added since {@link save} (the record would be too big with them). */
  restore(): void {
    this.words.length = this.#savedWords;
    this.#count = this.#savedCount;
    this.side.length = this.#savedSide;
  }

  /** Closes the record (`track`: the worker reports each operation's start); its words are in {@link words}. */
  finish(track: boolean): WordBuffer {
    const words = this.words;
    words.i32[0] = words.length;
    words.i32[3] = track ? 1 : 0;
    words.i32[4] = this.#count;
    return words;
  }

  #args(op: CallOp, at: number): number {
    const args = op.args;
    const count = args.length;
    const words = this.words;
    if (op.buffers === undefined && fitsValues(args)) {
      words.i32[2 * at + 3] = count;
      const maskWords = Math.ceil(count / 64);
      const from = words.reserve(maskWords + count);
      const { i32, f64, i64 } = words;
      for (let m = 0; m < maskWords * 2; m++) i32[2 * from + m] = 0;
      const values = from + maskWords;
      for (let i = 0; i < count; i++) {
        const arg = args[i];
        if (typeof arg === 'number') {
          f64[values + i] = arg;
        } else {
          i64[values + i] = arg as bigint;
          i32[2 * from + (i >> 5)] = (i32[2 * from + (i >> 5)] as number) | (1 << (i & 31));
        }
      }
      return Form.Values << FORM_SHIFT;
    }
    return this.#structured(args, at);
  }

  #list(op: CallManyOp, at: number): number {
    const list = op.argsList;
    let bits = op.typedResult === undefined ? 0 : (TYPED_RESULT_KINDS.indexOf(op.typedResult) + 1) << TYPED_RESULT_SHIFT;
    const kind = typedKindOf(list);
    if (kind >= 0 && op.buffers === undefined) {
      const typed = list as AnyTypedArray;
      const words = this.words;
      if (wordsFor(typed.byteLength) > this.#sideWords) return bits | this.#toSide(list, at);
      words.i32[2 * at + 3] = typed.length;
      const from = words.reserve(wordsFor(typed.byteLength));
      words.u8.set(new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength), from * 8);
      return bits | (Form.Typed << FORM_SHIFT) | (kind << INPUT_KIND_SHIFT);
    }
    bits |= this.#structured(list, at);
    return bits;
  }

  #structured(value: unknown, at: number): number {
    return this.#raw(serialize(value), value, at, Form.Structured);
  }

  /** Raw bytes (a restore's snapshot): no serializer on either side. */
  #bytes(bytes: Uint8Array, at: number): number {
    return this.#raw(bytes, bytes, at, Form.Bytes);
  }

  /** A replay's base and records back to back, raw (two copies into the ring, none before). */
  #replay(op: ReplayOp, at: number): number {
    const { base, records } = op;
    const length = (base?.byteLength ?? 0) + records.byteLength;
    if (wordsFor(length) > this.#sideWords) return this.#toSide([base, records], at);
    const words = this.words;
    words.i32[2 * at + 3] = length;
    const from = words.reserve(wordsFor(length)) * 8;
    if (base !== undefined) words.u8.set(base, from);
    words.u8.set(records, from + (base?.byteLength ?? 0));
    return Form.Bytes << FORM_SHIFT;
  }

  /** `bytes` as the payload of the operation at `at` in `form`, or `value` on the side port if too big for the ring. */
  #raw(bytes: Uint8Array, value: unknown, at: number, form: Form): number {
    if (wordsFor(bytes.byteLength) > this.#sideWords) return this.#toSide(value, at);
    const words = this.words;
    words.i32[2 * at + 3] = bytes.byteLength;
    const from = words.reserve(wordsFor(bytes.byteLength));
    words.u8.set(bytes, from * 8);
    return form << FORM_SHIFT;
  }

  #toSide(value: unknown, at: number): number {
    this.words.i32[2 * at + 3] = 0;
    this.side.push(value);
    return Form.Side << FORM_SHIFT;
  }
}

/** Words the payload of the operation at `at` takes (after its header). */
export function payloadWords(words: Words, at: number): number {
  const bits = words.i32[2 * at] as number;
  const count = words.i32[2 * at + 3] as number;
  switch ((bits >> FORM_SHIFT) & FORM_MASK) {
    case Form.Values: return Math.ceil(count / 64) + count;
    case Form.Typed: return wordsFor(count * (globalThis[TYPED_INPUT_KINDS[bits >>> INPUT_KIND_SHIFT] as TypedInputKind]).BYTES_PER_ELEMENT);
    case Form.Structured:
    case Form.Bytes: return wordsFor(count);
    default: return 0;
  }
}

/**
 * The arguments of a call in {@link Form.Values} whose header is at `at`, written into `out` (its
 * length set to the count). Reused by the worker for every call: no array per call.
 */
export function readValues(words: Words, at: number, out: (number | bigint)[]): void {
  const count = words.i32[2 * at + 3] as number;
  const from = at + OP_HEADER_WORDS;
  const maskWords = Math.ceil(count / 64);
  const values = from + maskWords;
  out.length = count;
  for (let i = 0; i < count; i++) {
    const isBig = ((words.i32[2 * from + (i >> 5)] as number) >>> (i & 31)) & 1;
    out[i] = isBig === 0 ? words.f64[values + i] as number : words.i64[values + i] as bigint;
  }
}

/** The typed list of a callMany in {@link Form.Typed}: a view onto the words (valid until they are reused). */
export function typedList(words: Words, at: number): AnyTypedArray {
  const bits = words.i32[2 * at] as number;
  const Type = globalThis[TYPED_INPUT_KINDS[bits >>> INPUT_KIND_SHIFT] as TypedInputKind];
  const u8 = words.u8;
  return new Type(u8.buffer as ArrayBuffer, u8.byteOffset + (at + OP_HEADER_WORDS) * 8, words.i32[2 * at + 3]);
}

/** The value of an operation in {@link Form.Structured}. */
export function structuredValue(words: Words, at: number): unknown {
  const from = (at + OP_HEADER_WORDS) * 8;
  return deserialize(words.u8.subarray(from, from + (words.i32[2 * at + 3] as number)));
}

/** A copy of the raw bytes of an operation in {@link Form.Bytes}. */
export function bytesValue(words: Words, at: number): Uint8Array {
  const from = (at + OP_HEADER_WORDS) * 8;
  return words.u8.slice(from, from + (words.i32[2 * at + 3] as number));
}

/** Copies of a replay's base and records, from its header at `at` ({@link Form.Bytes}) or its side-port value. */
export function replayValue(words: Words, at: number, side: unknown): Pick<ReplayOp, 'base' | 'records'> {
  if ((((words.i32[2 * at] as number) >> FORM_SHIFT) & FORM_MASK) === Form.Side) {
    const [base, records] = side as [Uint8Array | undefined, Uint8Array];
    return { base, records };
  }
  const baseLength = words.i32[2 * at + 1] as number;
  const bytes = bytesValue(words, at);
  const split = Math.max(baseLength, 0);
  return { base: baseLength < 0 ? undefined : bytes.subarray(0, split), records: bytes.subarray(split) };
}

/** The result mode of a call through guest memory, or undefined. */
export function modeOf(bits: number): ResultMode | undefined {
  const mode = (bits >> MODE_SHIFT) & 0x3;
  // Never index -1: a read out of an array's bounds leaves V8's fast path.
  return mode === 0 ? undefined : RESULT_MODES[mode - 1];
}

/** The typed result kind of a callMany, or undefined. */
export function typedResultOf(bits: number): TypedResultKind | undefined {
  const kind = (bits >> TYPED_RESULT_SHIFT) & 0x7;
  return kind === 0 ? undefined : TYPED_RESULT_KINDS[kind - 1];
}

/**
 * The operations of the request record at `at` (for tests and diagnostics: it builds an object per
 * operation). `takeSide` yields the side-port values in order. Throws on a record no encoder wrote.
 */
export function decodeOps(words: Words, at: number, takeSide: () => unknown): Op[] {
  const ops: Op[] = [];
  const count = words.i32[2 * at + 4] as number;
  let p = at + REQUEST_HEADER_WORDS;
  for (let n = 0; n < count; n++) {
    const bits = words.i32[2 * p] as number;
    const instanceId = words.i32[2 * p + 2] as number;
    const epoch = words.f64[p + 2] as number;
    const tag = bits & TAG_MASK;
    // A session key (host functions) comes first; diagnostics do not show it.
    if ((bits & KEY_BIT) !== 0) takeSide();
    if (tag === Tag.Open || tag === Tag.Drop) {
      ops.push({ kind: tag === Tag.Open ? 'open' : 'drop', instanceId, epoch });
    } else if (tag === Tag.Snapshot) {
      ops.push({ kind: 'snapshot', instanceId, epoch, open: (bits & OPEN_BIT) !== 0 });
    } else if (tag === Tag.Restore) {
      const form = (bits >> FORM_SHIFT) & FORM_MASK;
      const snapshot = form === Form.Side ? takeSide() : bytesValue(words, p);
      ops.push({ kind: 'restore', instanceId, epoch, snapshot: snapshot as Uint8Array });
    } else if (tag === Tag.Replay) {
      const form = (bits >> FORM_SHIFT) & FORM_MASK;
      ops.push({ kind: 'replay', instanceId, epoch, ...replayValue(words, p, form === Form.Side ? takeSide() : undefined) });
    } else if (tag === Tag.Call || tag === Tag.CallMany) {
      const open = (bits & OPEN_BIT) !== 0;
      const exportIndex = words.i32[2 * p + 1] as number;
      const buffers = modeOf(bits);
      const form = (bits >> FORM_SHIFT) & FORM_MASK;
      let value: unknown;
      if (form === Form.Values) {
        const out: (number | bigint)[] = [];
        readValues(words, p, out);
        value = out;
      } else if (form === Form.Typed) {
        value = typedList(words, p).slice();
      } else if (form === Form.Structured) {
        value = structuredValue(words, p);
      } else if (form === Form.Side) {
        value = takeSide();
      } else {
        throw new RangeError(`operation ${n}: no call travels in form ${form}`);
      }
      const buffered = buffers === undefined ? {} : { buffers };
      if (tag === Tag.Call) {
        ops.push({ kind: 'call', instanceId, epoch, open, exportIndex, args: value as CallOp['args'], ...buffered });
      } else {
        const typedResult = typedResultOf(bits);
        ops.push({
          kind: 'callMany', instanceId, epoch, open, exportIndex, argsList: value as CallManyOp['argsList'],
          ...(typedResult === undefined ? {} : { typedResult }), ...buffered,
        });
      }
    } else {
      throw new RangeError(`operation ${n}: no operation has tag ${tag}`);
    }
    p += OP_HEADER_WORDS + payloadWords(words, p);
  }
  return ops;
}

/**
 * Encodes outcomes into a response record (worker side). Outcomes too large for the ring go in
 * {@link side}, to be posted on the side port before the record is written.
 */
export class ResultEncoder {
  readonly words = new WordBuffer(4096);
  side: unknown[] = [];
  readonly #sideWords: number;

  constructor(sideWords: number) {
    this.#sideWords = sideWords;
  }

  begin(seq: number, first: number): void {
    const words = this.words;
    words.length = 0;
    words.reserve(RESPONSE_HEADER_WORDS);
    words.i32[2] = seq;
    words.i32[3] = first;
    this.side = [];
  }

  /** Outcomes in the record so far. */
  get empty(): boolean {
    return this.words.length === RESPONSE_HEADER_WORDS;
  }

  /** An operation that succeeded with `value` (a number, bigint, undefined, or anything structured clone takes). */
  ok(value: unknown): void {
    const words = this.words;
    if (typeof value === 'number') {
      const at = words.reserve(2);
      words.i32[2 * at] = Outcome.Number;
      words.f64[at + 1] = value;
    } else if (value === undefined) {
      const at = words.reserve(1);
      words.i32[2 * at] = Outcome.Undefined;
    } else if (typeof value === 'bigint' && value >= MIN_I64 && value <= MAX_I64) {
      const at = words.reserve(2);
      words.i32[2 * at] = Outcome.BigInt;
      words.i64[at + 1] = value;
    } else {
      const name = kindName(value);
      const kind = TYPED_RESULT_KINDS.indexOf(name as TypedResultKind);
      if (kind >= 0 && (value as object).constructor === globalThis[TYPED_RESULT_KINDS[kind] as TypedResultKind]) this.#typed(value as AnyTypedArray, kind);
      else if (name === 'Uint8Array' && (value as object).constructor === Uint8Array) this.#bytes(value as Uint8Array);
      else this.outcome(Status.Ok, value);
    }
  }

  /** Any outcome, through structured clone. */
  outcome(status: Status, payload: unknown): void {
    const bytes = serialize([status, payload]);
    const words = this.words;
    if (wordsFor(bytes.length) > this.#sideWords) {
      const at = words.reserve(1);
      words.i32[2 * at] = Outcome.Side;
      this.side.push([status, payload]);
      return;
    }
    const at = words.reserve(1 + wordsFor(bytes.length));
    words.i32[2 * at] = Outcome.Structured;
    words.i32[2 * at + 1] = bytes.length;
    words.u8.set(bytes, (at + 1) * 8);
  }

  #typed(value: AnyTypedArray, kind: number): void {
    if (wordsFor(value.byteLength) > this.#sideWords) {
      this.outcome(Status.Ok, value);
      return;
    }
    const words = this.words;
    const at = words.reserve(1 + wordsFor(value.byteLength));
    words.i32[2 * at] = Outcome.Typed | (kind << 8);
    words.i32[2 * at + 1] = value.length;
    words.u8.set(new Uint8Array(value.buffer, value.byteOffset, value.byteLength), (at + 1) * 8);
  }

  /** A Uint8Array (a snapshot, a bytes result): raw, as the main thread gets it back. */
  #bytes(value: Uint8Array): void {
    if (wordsFor(value.byteLength) > this.#sideWords) {
      this.outcome(Status.Ok, value);
      return;
    }
    const words = this.words;
    const at = words.reserve(1 + wordsFor(value.byteLength));
    words.i32[2 * at] = Outcome.Bytes;
    words.i32[2 * at + 1] = value.byteLength;
    words.u8.set(value, (at + 1) * 8);
  }

  finish(): WordBuffer {
    const words = this.words;
    words.i32[0] = words.length;
    return words;
  }
}

/** Receives one outcome of a response record: its batch's number, the operation's index in the batch, its status and payload. */
export type OutcomeHandler = (seq: number, index: number, status: Status, payload: unknown) => void;

/**
 * Reads the response record at `at`, calling `handle` for each outcome in order; `takeSide` yields the
 * side-port outcomes in order.
 */
export function readOutcomes(words: Words, at: number, handle: OutcomeHandler, takeSide: () => unknown): void {
  const { i32, f64, i64 } = words;
  const end = at + (i32[2 * at] as number);
  const seq = i32[2 * at + 2] as number;
  let index = i32[2 * at + 3] as number;
  for (let p = at + RESPONSE_HEADER_WORDS; p < end; index++) {
    const form = (i32[2 * p] as number) & 0xff;
    switch (form) {
      case Outcome.Number:
        handle(seq, index, Status.Ok, f64[p + 1]);
        p += 2;
        break;
      case Outcome.Undefined:
        handle(seq, index, Status.Ok, undefined);
        p += 1;
        break;
      case Outcome.BigInt:
        handle(seq, index, Status.Ok, i64[p + 1]);
        p += 2;
        break;
      case Outcome.Typed: {
        const Type = globalThis[TYPED_RESULT_KINDS[(i32[2 * p] as number) >>> 8] as TypedResultKind];
        const count = i32[2 * p + 1] as number;
        const bytes = count * Type.BYTES_PER_ELEMENT;
        const copy = new Type(count) as AnyTypedArray;
        new Uint8Array(copy.buffer).set(words.u8.subarray((p + 1) * 8, (p + 1) * 8 + bytes));
        handle(seq, index, Status.Ok, copy);
        p += 1 + wordsFor(bytes);
        break;
      }
      case Outcome.Bytes: {
        const length = i32[2 * p + 1] as number;
        handle(seq, index, Status.Ok, words.u8.slice((p + 1) * 8, (p + 1) * 8 + length));
        p += 1 + wordsFor(length);
        break;
      }
      case Outcome.Structured: {
        const length = i32[2 * p + 1] as number;
        const [status, payload] = deserialize(words.u8.subarray((p + 1) * 8, (p + 1) * 8 + length)) as [Status, unknown];
        handle(seq, index, status, payload);
        p += 1 + wordsFor(length);
        break;
      }
      case Outcome.Side: {
        const [status, payload] = takeSide() as [Status, unknown];
        handle(seq, index, status, payload);
        p += 1;
        break;
      }
      default:
        throw new RangeError(`response outcome ${index}: unknown form ${form}`);
    }
  }
}
