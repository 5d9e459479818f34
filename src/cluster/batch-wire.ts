// The messages a client and a partition's owner exchange over NATS: a batch of session operations
// (calls of many sessions, in order per session) and the answer with one outcome per operation.
// Encoding is versioned and independent of Node's version (members and clients may differ).

import type { ResultMode } from '../protocol.js';
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

// Implemented below (by the codec): each decode throws ERR_INVALID_ARGUMENT on bytes that are not a
// well-formed message of this version, never anything else, whatever the bytes.
// export function encodeBatchRequest(request: BatchRequest): Uint8Array;
// export function decodeBatchRequest(bytes: Uint8Array): BatchRequest;
// export function encodeBatchReply(reply: BatchReply): Uint8Array;
// export function decodeBatchReply(bytes: Uint8Array): BatchReply;
