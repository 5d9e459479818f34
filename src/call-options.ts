// Per-call options (`session.with({ signal, timeout, result })`): their types, documentation and
// up-front validation; and the argument types a call accepts.

import { InvalidOptionError, describeValue } from './errors.js';
import { readOptionObject, resolveTimeout } from './options.js';
import { RESULT_MODES, type BufferArg, type ResultMode, type WasmValue } from './protocol.js';

/** Typed arrays `callMany` takes for one-parameter exports. */
export type TypedArgs =
  | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array
  | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

/** What `callMany` returns for typed input, by the export's result type: i32, f32, f64, i64. */
export type TypedResults = Int32Array | Float32Array | Float64Array | BigInt64Array;

/**
 * One argument of a call: a number (i32, f32, f64), a bigint (i64), or a buffer (a `Uint8Array`, or
 * a string sent as UTF-8) that fills two i32 parameters, pointer and length, in guest memory.
 */
export type CallArg = WasmValue | BufferArg;

/** Options of one call, given through {@link Session.with}. */
export interface CallOptions {
  /**
   * Rejects the call with `ERR_ABORTED` if it fires while the call is still queued (nothing ran, the
   * session's state is untouched). Once the call has been handed to its worker it runs to the end
   * and settles with its own outcome: bound running time with `timeout` instead.
   */
  readonly signal?: AbortSignal;
  /** Milliseconds this call may run in its worker, instead of the pool's `callTimeout`. */
  readonly timeout?: number;
  /**
   * How to read the export's result. `'value'`: as it is. `'bytes'` (a `Uint8Array`) or `'string'`
   * (UTF-8): the export returns one i64, `pointer << 32 | length`, naming a buffer in its linear
   * memory that the pool copies out and then frees with the module's allocator.
   * @default the export's mode in the pool's `results` option, else 'value'
   */
  readonly result?: ResultMode;
  /**
   * Durability only: the call's idempotency key (a string of 1 to 1024 characters). A call whose key
   * was already acknowledged in this session returns the recorded outcome (its value or its error)
   * without running again, so a client that lost an answer can retry safely. A call made while one
   * with the same key is still out gets that one's outcome. The pool's `durability.idempotencyKeys`
   * bounds how many keys each session remembers (oldest forgotten first).
   */
  readonly idempotencyKey?: string;
}

/** Call options after validation. */
export interface ResolvedCallOptions {
  readonly signal: AbortSignal | undefined;
  readonly timeout: number;
  /** `undefined`: the export's own default (the pool's `results` option, else `'value'`). */
  readonly result: ResultMode | undefined;
  readonly idempotencyKey: string | undefined;
}

export function resolveCallOptions(options: unknown, fallbackTimeout: number, durable: boolean): ResolvedCallOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(`Expected call options to be an object, got ${describeValue(options)}`);
  }
  const given = readOptionObject(options, 'call options');
  for (const name of Object.keys(given)) {
    if (name !== 'signal' && name !== 'timeout' && name !== 'result' && name !== 'idempotencyKey') {
      throw new InvalidOptionError(`Unknown call option \`${name}\` (known: signal, timeout, result, idempotencyKey)`);
    }
  }
  const signal = given['signal'];
  if (signal !== undefined && !isAbortSignal(signal)) {
    throw new InvalidOptionError(`Expected \`signal\` to be an AbortSignal, got ${describeValue(signal)}`);
  }
  const result = given['result'];
  if (result !== undefined && !(RESULT_MODES as readonly unknown[]).includes(result)) {
    throw new InvalidOptionError(`Expected \`result\` to be 'value', 'bytes' or 'string', got ${describeValue(result)}`);
  }
  const idempotencyKey = given['idempotencyKey'];
  if (idempotencyKey !== undefined) {
    if (typeof idempotencyKey !== 'string' || idempotencyKey.length === 0 || idempotencyKey.length > 1024) {
      throw new InvalidOptionError(`Expected \`idempotencyKey\` to be a string of 1 to 1024 characters, got ${describeValue(idempotencyKey)}`);
    }
    if (!durable) throw new InvalidOptionError('`idempotencyKey` needs a durable pool (the `durability` option): without a journal no outcome outlives its call');
  }
  return Object.freeze({
    signal, timeout: resolveTimeout('timeout', given['timeout'], fallbackTimeout), result: result as ResultMode | undefined,
    idempotencyKey: idempotencyKey,
  });
}

/** A brand check: AbortSignal's own `aborted` getter throws for anything else (an object posing as one, a Proxy that throws). */
function isAbortSignal(value: unknown): value is AbortSignal {
  try {
    Reflect.get(AbortSignal.prototype, 'aborted', value);
    return true;
  } catch {
    return false;
  }
}
