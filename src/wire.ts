// The batch wire format, both directions: the layout of each operation in the flat array a batch
// travels as, the encoder the main thread uses and the decoder that turns a wire back into operations.

import { RESULT_MODES, TYPED_RESULT_KINDS, type CallManyOp, type CallOp, type Op } from './protocol.js';

/*
 * Structured clone of one object per call cost more than running the call, so a batch travels as one
 * flat array of primitives, each operation as a tag and its fields:
 *   call      0, instanceId, epoch, open (0|1), exportIndex, argCount, ...args
 *   callMany  1, instanceId, epoch, open (0|1), exportIndex, typedResult (-1 or an index into TYPED_RESULT_KINDS), argsList
 *   open      2, instanceId, epoch
 *   drop      3, instanceId, epoch
 *   call with buffers      4, instanceId, epoch, open, exportIndex, resultMode (index into RESULT_MODES), argCount, ...args
 *   callMany with buffers  5, instanceId, epoch, open, exportIndex, resultMode, argsList
 * The worker decodes inline with the offsets below (no object per operation: the loop runs a small
 * call in tens of nanoseconds); {@link decodeOps} reads the same offsets, so a round trip checks both.
 */

/** Call tags are two flags: a list of calls (callMany), and going through guest memory (buffers). */
export const TAG_MANY = 1;
export const TAG_BUFFERS = 4;

export const Tag = {
  Call: 0,
  CallMany: TAG_MANY,
  Open: 2,
  Drop: 3,
  CallBuffers: TAG_BUFFERS,
  CallManyBuffers: TAG_BUFFERS | TAG_MANY,
} as const;
export type Tag = (typeof Tag)[keyof typeof Tag];

// Offsets from an operation's tag. Every operation:
export const OP_TAG = 0;
export const OP_INSTANCE = 1;
export const OP_EPOCH = 2;
/** The whole of an open or a drop. */
export const INSTANCE_OP_LENGTH = 3;

// Every call tag:
/** 1: create the instance at the epoch first if the instance id holds none or an older one. */
export const CALL_OPEN = 3;
/** Index into the worker's export table. */
export const CALL_EXPORT = 4;
/** Tags with {@link TAG_BUFFERS}: index into RESULT_MODES. */
export const CALL_MODE = 5;

/** Tag.Call: the argument count, the arguments right after it. */
export const CALL_ARG_COUNT = 5;
/** Tag.CallBuffers: the argument count (after the mode), the arguments right after it. */
export const CALL_BUFFERS_ARG_COUNT = 6;

/** Tag.CallMany: -1 or an index into TYPED_RESULT_KINDS (a buffered list has its mode here instead). */
export const MANY_TYPED_RESULT = 5;
/** Both list tags: the arguments list, sent as given (an array or a typed array). */
export const MANY_LIST = 6;
/** The whole of a list operation. */
export const MANY_OP_LENGTH = 7;

/** Appends `op` to `wire`. A buffered callMany's results are never typed: its `typedResult` is not sent. */
export function encodeOp(op: Op, wire: unknown[]): void {
  switch (op.kind) {
    case 'call':
      if (op.buffers !== undefined) {
        wire.push(Tag.CallBuffers, op.instanceId, op.epoch, op.open ? 1 : 0, op.exportIndex, RESULT_MODES.indexOf(op.buffers), op.args.length, ...op.args);
        return;
      }
      wire.push(Tag.Call, op.instanceId, op.epoch, op.open ? 1 : 0, op.exportIndex, op.args.length, ...op.args);
      return;
    case 'callMany':
      if (op.buffers !== undefined) {
        wire.push(Tag.CallManyBuffers, op.instanceId, op.epoch, op.open ? 1 : 0, op.exportIndex, RESULT_MODES.indexOf(op.buffers), op.argsList);
        return;
      }
      wire.push(Tag.CallMany, op.instanceId, op.epoch, op.open ? 1 : 0, op.exportIndex,
        op.typedResult === undefined ? -1 : TYPED_RESULT_KINDS.indexOf(op.typedResult), op.argsList);
      return;
    case 'open':
      wire.push(Tag.Open, op.instanceId, op.epoch);
      return;
    case 'drop':
      wire.push(Tag.Drop, op.instanceId, op.epoch);
  }
}

/**
 * The operations a wire holds, read with the same offsets the worker's loop uses. Not on the hot path
 * (it builds an object per operation): for tests and diagnostics. Throws on a wire no encoder wrote.
 */
export function decodeOps(wire: readonly unknown[]): Op[] {
  const ops: Op[] = [];
  for (let at = 0; at < wire.length;) {
    const tag = wire[at + OP_TAG];
    const instanceId = wire[at + OP_INSTANCE] as number;
    const epoch = wire[at + OP_EPOCH] as number;
    if (tag === Tag.Open || tag === Tag.Drop) {
      ops.push({ kind: tag === Tag.Open ? 'open' : 'drop', instanceId, epoch });
      at += INSTANCE_OP_LENGTH;
      continue;
    }
    if (typeof tag !== 'number' || !Object.values<number>(Tag).includes(tag)) throw new RangeError(`wire[${at}]: no operation has tag ${String(tag)}`);
    const open = wire[at + CALL_OPEN] === 1;
    const exportIndex = wire[at + CALL_EXPORT] as number;
    const buffers = (tag & TAG_BUFFERS) === 0 ? undefined : RESULT_MODES[wire[at + CALL_MODE] as number];
    const buffered = buffers === undefined ? {} : { buffers };
    if ((tag & TAG_MANY) === 0) {
      const countAt = at + (buffers === undefined ? CALL_ARG_COUNT : CALL_BUFFERS_ARG_COUNT);
      const count = wire[countAt] as number;
      const op: CallOp = { kind: 'call', instanceId, epoch, open, exportIndex, args: wire.slice(countAt + 1, countAt + 1 + count) as CallOp['args'], ...buffered };
      ops.push(op);
      at = countAt + 1 + count;
    } else {
      const typedResult = buffers === undefined ? TYPED_RESULT_KINDS[wire[at + MANY_TYPED_RESULT] as number] : undefined;
      const op: CallManyOp = {
        kind: 'callMany', instanceId, epoch, open, exportIndex, argsList: wire[at + MANY_LIST] as CallManyOp['argsList'],
        ...(typedResult === undefined ? {} : { typedResult }), ...buffered,
      };
      ops.push(op);
      at += MANY_OP_LENGTH;
    }
  }
  return ops;
}
