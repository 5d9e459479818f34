// The messages a client and a partition's owner exchange over NATS: a batch of session operations
// (calls of many sessions, in order per session) and the answer with one outcome per operation.
// Encoding is versioned and independent of Node's version (members and clients may differ).

import { RESULT_MODES, type ResultMode } from '../protocol.js';
import { encodeValue, decodeValue, readInteger, readRecord, readString, wireFault, type TailReader } from './wire-values.js';
import { decodeSerializedError, encodeSerializedError } from './wire-errors.js';
import type { SerializedError } from '../errors.js';

/**
 * A value crossing the wire: what call arguments and results can be. Numbers keep NaN, ±Infinity and
 * -0 exactly; typed arrays keep their type.
 */
export type WireValue =
  | number | bigint | string | undefined | Uint8Array
  | Int8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array | BigInt64Array | BigUint64Array
  | readonly WireValue[];

/** Options of a call as they cross the wire (only those given). */
export interface WireCallOptions {
  readonly result?: ResultMode;
  readonly timeout?: number;
}

/** One operation on one session. `id` is the call's idempotency key (always present on calls). */
export type WireOp =
  | { readonly op: 'call'; readonly key: string; readonly id: string; readonly name: string; readonly args: readonly WireValue[]; readonly options: WireCallOptions }
  | { readonly op: 'callMany'; readonly key: string; readonly id: string; readonly name: string; readonly list: WireValue; readonly options: WireCallOptions }
  | { readonly op: 'snapshot' | 'reset' | 'close'; readonly key: string }
  | { readonly op: 'restore'; readonly key: string; readonly snapshot: Uint8Array };

/** A batch for one partition. `partition` and `epoch` let the owner refuse a batch meant for another. */
export interface BatchRequest {
  readonly partition: number;
  readonly ops: readonly WireOp[];
}

/** One operation's outcome: its value, its error, or "send it again" (the owner could not acknowledge it). */
export type WireOutcome =
  | { readonly ok: true; readonly value: WireValue }
  | { readonly ok: false; readonly error: SerializedError }
  | { readonly retry: string };

/**
 * The owner's answer: `served` with one outcome per operation, in order; `moved` (this member does
 * not serve the partition now: nothing was applied, send the whole batch again); or `refused` (the
 * batch could not be read: nothing was applied, and sending it again will not help).
 */
export type BatchReply =
  | { readonly status: 'served'; readonly outcomes: readonly WireOutcome[] }
  | { readonly status: 'moved'; readonly reason: string }
  | { readonly status: 'refused'; readonly error: SerializedError };

// The codec: each decode throws ERR_INVALID_ARGUMENT on bytes that are not a well-formed message of
// this version, never anything else, whatever the bytes.

// Framing: MAGIC (3 bytes "RPW"), VERSION (1 byte), KIND (1 byte: request or reply), the JSON part's
// length (u32 little-endian), the JSON part (UTF-8), then the binary tail: every byte and typed-array
// payload, which the JSON part points into by offset and length (no base64 blow-up).
// Values in the JSON part: a finite number other than -0 as itself, a string as itself, `null` for
// undefined, an array for an array; objects tag the rest: {"f":"NaN"|"Infinity"|"-Infinity"|"-0"},
// {"i":"<decimal>"} for a bigint, {"t":<kind>,"o":<offset>,"n":<bytes>} for a typed array.


const MAGIC = [0x52, 0x50, 0x57] as const;
/** This codec's version: a message of another is refused (ERR_INVALID_ARGUMENT). */
export const WIRE_VERSION = 1;
const KIND_REQUEST = 1;
const KIND_REPLY = 2;
const HEADER = 9;

/** Encodes a batch for its partition's owner. Throws ERR_INVALID_ARGUMENT for a value the wire cannot carry. */
export function encodeBatchRequest(request: BatchRequest): Uint8Array {
  const tail: Uint8Array[] = [];
  const size = { bytes: 0 };
  const ops = request.ops.map((op) => encodeOp(op, tail, size));
  return frame(KIND_REQUEST, { p: request.partition, ops }, tail, size.bytes);
}

/** Decodes a batch. Throws ERR_INVALID_ARGUMENT (and nothing else) unless `bytes` are a well-formed request. */
export function decodeBatchRequest(bytes: Uint8Array): BatchRequest {
  const { json, tail } = unframe(bytes, KIND_REQUEST);
  const root = readRecord(json, 'request');
  const partition = readInteger(root['p'], 'partition');
  const ops = root['ops'];
  if (!Array.isArray(ops)) throw wireFault('request ops', ops);
  return { partition, ops: ops.map((op) => decodeOp(op, tail)) };
}

/** Encodes an owner's answer. Throws ERR_INVALID_ARGUMENT for a value the wire cannot carry. */
export function encodeBatchReply(reply: BatchReply): Uint8Array {
  const tail: Uint8Array[] = [];
  const size = { bytes: 0 };
  let json: unknown;
  switch (reply.status) {
    case 'served':
      json = { s: 'served', o: reply.outcomes.map((outcome) => encodeOutcome(outcome, tail, size)) };
      break;
    case 'moved':
      json = { s: 'moved', r: String(reply.reason) };
      break;
    case 'refused':
      json = { s: 'refused', e: encodeSerializedError(reply.error) };
      break;
  }
  return frame(KIND_REPLY, json, tail, size.bytes);
}

/** Decodes an owner's answer. Throws ERR_INVALID_ARGUMENT (and nothing else) unless `bytes` are a well-formed reply. */
export function decodeBatchReply(bytes: Uint8Array): BatchReply {
  const { json, tail } = unframe(bytes, KIND_REPLY);
  const root = readRecord(json, 'reply');
  switch (root['s']) {
    case 'served': {
      const outcomes = root['o'];
      if (!Array.isArray(outcomes)) throw wireFault('reply outcomes', outcomes);
      return { status: 'served', outcomes: outcomes.map((outcome) => decodeOutcome(outcome, tail)) };
    }
    case 'moved':
      return { status: 'moved', reason: readString(root['r'], 'moved reason') };
    case 'refused':
      return { status: 'refused', error: decodeSerializedError(root['e']) };
    default:
      throw wireFault('reply status', root['s']);
  }
}

function encodeOp(op: WireOp, tail: Uint8Array[], size: { bytes: number }): unknown {
  switch (op.op) {
    case 'call':
      return { op: 'call', k: op.key, id: op.id, x: op.name, a: op.args.map((arg) => encodeValue(arg, tail, size, 0)), opt: encodeOptions(op.options, tail, size) };
    case 'callMany':
      return { op: 'callMany', k: op.key, id: op.id, x: op.name, l: encodeValue(op.list, tail, size, 0), opt: encodeOptions(op.options, tail, size) };
    case 'restore':
      return { op: 'restore', k: op.key, b: encodeValue(op.snapshot, tail, size, 0) };
    case 'snapshot':
    case 'reset':
    case 'close':
      return { op: op.op, k: op.key };
  }
}

function decodeOp(json: unknown, tail: TailReader): WireOp {
  const op = readRecord(json, 'op');
  const key = readString(op['k'], 'session key');
  switch (op['op']) {
    case 'call': {
      const args = op['a'];
      if (!Array.isArray(args)) throw wireFault('call arguments', args);
      return {
        op: 'call', key, id: readString(op['id'], 'idempotency key'), name: readString(op['x'], 'export name'),
        args: args.map((arg) => decodeValue(arg, tail, 0)), options: decodeOptions(op['opt'], tail),
      };
    }
    case 'callMany':
      return {
        op: 'callMany', key, id: readString(op['id'], 'idempotency key'), name: readString(op['x'], 'export name'),
        list: decodeValue(op['l'], tail, 0), options: decodeOptions(op['opt'], tail),
      };
    case 'restore': {
      const snapshot = decodeValue(op['b'], tail, 0);
      if (!(snapshot instanceof Uint8Array)) throw wireFault('restore snapshot', snapshot);
      return { op: 'restore', key, snapshot };
    }
    case 'snapshot':
    case 'reset':
    case 'close':
      return { op: op['op'], key };
    default:
      throw wireFault('op kind', op['op']);
  }
}

function encodeOptions(options: WireCallOptions, tail: Uint8Array[], size: { bytes: number }): unknown {
  const out: Record<string, unknown> = {};
  if (options.result !== undefined) out['r'] = options.result;
  if (options.timeout !== undefined) out['t'] = encodeValue(options.timeout, tail, size, 0);
  return out;
}

function decodeOptions(json: unknown, tail: TailReader): WireCallOptions {
  const given = readRecord(json, 'call options');
  const result = given['r'];
  const timeoutJson = given['t'];
  if (result !== undefined && !(RESULT_MODES as readonly unknown[]).includes(result)) throw wireFault('result mode', result);
  const timeout = timeoutJson === undefined ? undefined : decodeValue(timeoutJson, tail, 0);
  if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout > 0))) throw wireFault('call timeout', timeout);
  const mode = result as WireCallOptions['result'];
  if (mode !== undefined && timeout !== undefined) return { result: mode, timeout };
  if (mode !== undefined) return { result: mode };
  if (timeout !== undefined) return { timeout };
  return {};
}

function encodeOutcome(outcome: WireOutcome, tail: Uint8Array[], size: { bytes: number }): unknown {
  if ('retry' in outcome) return { r: String(outcome.retry) };
  return outcome.ok ? { v: encodeValue(outcome.value, tail, size, 0) } : { e: encodeSerializedError(outcome.error) };
}

function decodeOutcome(json: unknown, tail: TailReader): WireOutcome {
  const outcome = readRecord(json, 'outcome');
  if (Object.hasOwn(outcome, 'v')) return { ok: true, value: decodeValue(outcome['v'], tail, 0) };
  if (Object.hasOwn(outcome, 'e')) return { ok: false, error: decodeSerializedError(outcome['e']) };
  if (Object.hasOwn(outcome, 'r')) return { retry: readString(outcome['r'], 'retry reason') };
  throw wireFault('outcome', json);
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

function frame(kind: number, json: unknown, tail: readonly Uint8Array[], tailBytes: number): Uint8Array {
  // JSON.stringify escapes lone surrogates, so every string survives the UTF-8 step exactly.
  const text = utf8Encoder.encode(JSON.stringify(json));
  const out = new Uint8Array(HEADER + text.byteLength + tailBytes);
  out.set(MAGIC, 0);
  out[3] = WIRE_VERSION;
  out[4] = kind;
  new DataView(out.buffer).setUint32(5, text.byteLength, true);
  out.set(text, HEADER);
  let at = HEADER + text.byteLength;
  for (const chunk of tail) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

function unframe(bytes: Uint8Array, kind: number): { json: unknown; tail: TailReader } {
  if (!(bytes instanceof Uint8Array)) throw wireFault('message', bytes);
  if (bytes.byteLength < HEADER || bytes[0] !== MAGIC[0] || bytes[1] !== MAGIC[1] || bytes[2] !== MAGIC[2]) {
    throw wireFault('message header', `${bytes.byteLength} bytes`);
  }
  if (bytes[3] !== WIRE_VERSION) throw wireFault(`wire version (this side speaks ${WIRE_VERSION})`, bytes[3]);
  if (bytes[4] !== kind) throw wireFault(`message kind (expected ${kind === KIND_REQUEST ? 'a request' : 'a reply'})`, bytes[4]);
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(5, true);
  if (length > bytes.byteLength - HEADER) throw wireFault('JSON part length', length);
  let json: unknown;
  try {
    json = JSON.parse(utf8Decoder.decode(bytes.subarray(HEADER, HEADER + length)));
  } catch {
    throw wireFault('JSON part', `${length} bytes that are not UTF-8 JSON`);
  }
  return { json, tail: bytes.subarray(HEADER + length) };
}
