// The batch wire format round-trips: any sequence of operations the main thread encodes decodes, with the
// layout offsets the worker's loop reads, to the same operations (property-based, seeded).

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RESULT_MODES, TYPED_RESULT_KINDS, type BufferArg, type CallManyOp, type CallOp, type Op, type WasmValue } from '../dist/src/protocol.js';
import { Tag, decodeOps, encodeOp } from '../dist/src/wire.js';

const SEED = 0x5eed_0010;

const instance = { instanceId: fc.nat({ max: 2 ** 31 - 1 }), epoch: fc.nat({ max: 2 ** 31 - 1 }) };
const callee = { ...instance, open: fc.boolean(), exportIndex: fc.nat({ max: 1_000_000 }) };

const value: fc.Arbitrary<WasmValue> = fc.oneof(
  fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }),
  fc.double(),
  fc.constantFrom(-0, Number.NaN),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
);
const buffer: fc.Arbitrary<BufferArg> = fc.oneof(fc.uint8Array({ maxLength: 8 }), fc.string({ maxLength: 8 }));
const bufferedValue: fc.Arbitrary<WasmValue | BufferArg> = fc.oneof(value, buffer);
const mode = fc.constantFrom(...RESULT_MODES);

const plainCall: fc.Arbitrary<CallOp> = fc.record({ ...callee, args: fc.array(value, { maxLength: 6 }) })
  .map((fields) => ({ kind: 'call', ...fields }));
const bufferedCall: fc.Arbitrary<CallOp> = fc.record({ ...callee, args: fc.array(bufferedValue, { maxLength: 6 }), buffers: mode })
  .map((fields) => ({ kind: 'call', ...fields }));

const plainList: fc.Arbitrary<CallManyOp['argsList']> = fc.oneof(
  fc.array(fc.oneof(value, fc.array(value, { maxLength: 3 })), { maxLength: 5 }),
  fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 5 }).map((items) => Int32Array.from(items)),
  fc.array(fc.double(), { maxLength: 5 }).map((items) => Float64Array.from(items)),
  fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { maxLength: 5 }).map((items) => BigInt64Array.from(items)),
);
const plainMany: fc.Arbitrary<CallManyOp> = fc.record(
  { ...callee, argsList: plainList, typedResult: fc.constantFrom(...TYPED_RESULT_KINDS) },
  { requiredKeys: ['instanceId', 'epoch', 'open', 'exportIndex', 'argsList'] },
).map((fields) => ({ kind: 'callMany', ...fields }));
// A buffered list's results are never typed (the session refuses the pair), so it carries no typedResult.
const bufferedMany: fc.Arbitrary<CallManyOp> = fc.record({
  ...callee,
  argsList: fc.array(fc.oneof(bufferedValue, fc.array(bufferedValue, { maxLength: 3 })), { maxLength: 5 }),
  buffers: mode,
}).map((fields) => ({ kind: 'callMany', ...fields }));

const openOp: fc.Arbitrary<Op> = fc.record(instance).map((fields) => ({ kind: 'open', ...fields }));
const dropOp: fc.Arbitrary<Op> = fc.record(instance).map((fields) => ({ kind: 'drop', ...fields }));
const anyOp: fc.Arbitrary<Op> = fc.oneof(plainCall, bufferedCall, plainMany, bufferedMany, openOp, dropOp);

function encodeAll(ops: readonly Op[]): unknown[] {
  const wire: unknown[] = [];
  for (const op of ops) encodeOp(op, wire);
  return wire;
}

describe('the batch wire format', () => {
  it('decodes any encoded sequence of operations to the same operations', () => {
    fc.assert(fc.property(fc.array(anyOp, { maxLength: 24 }), (ops) => {
      const wire = encodeAll(ops);
      expect(wire.every((entry) => typeof entry !== 'object' || entry === null || ArrayBuffer.isView(entry) || Array.isArray(entry))).toBe(true);
      const decoded = decodeOps(wire);
      expect(decoded).toStrictEqual(ops);
      // Lists travel as given: a typed array is not copied into an array on the way.
      decoded.forEach((op, i) => {
        if (op.kind === 'callMany') expect(op.argsList).toBe((ops[i] as CallManyOp).argsList);
      });
    }), { seed: SEED, numRuns: 500 });
  });

  it('lays each kind out as documented (tag first, then instance id and epoch)', () => {
    const bytes = new Uint8Array([1, 2]);
    const list = new Int32Array([7, 8]);
    expect(encodeAll([
      { kind: 'call', instanceId: 3, epoch: 4, open: true, exportIndex: 5, args: [6, 7n] },
      { kind: 'call', instanceId: 3, epoch: 4, open: false, exportIndex: 5, args: [bytes], buffers: 'string' },
      { kind: 'callMany', instanceId: 3, epoch: 4, open: false, exportIndex: 5, argsList: list, typedResult: 'Float64Array' },
      { kind: 'callMany', instanceId: 3, epoch: 4, open: true, exportIndex: 5, argsList: ['x'], buffers: 'bytes' },
      { kind: 'open', instanceId: 9, epoch: 1 },
      { kind: 'drop', instanceId: 9, epoch: 0 },
    ])).toStrictEqual([
      Tag.Call, 3, 4, 1, 5, 2, 6, 7n,
      Tag.CallBuffers, 3, 4, 0, 5, RESULT_MODES.indexOf('string'), 1, bytes,
      Tag.CallMany, 3, 4, 0, 5, TYPED_RESULT_KINDS.indexOf('Float64Array'), list,
      Tag.CallManyBuffers, 3, 4, 1, 5, RESULT_MODES.indexOf('bytes'), ['x'],
      Tag.Open, 9, 1,
      Tag.Drop, 9, 0,
    ]);
  });

  it('refuses a wire with a tag no operation has', () => {
    expect(() => decodeOps([Tag.Open, 0, 0, 6, 0, 0])).toThrow(/wire\[3\]: no operation has tag 6/);
    expect(() => decodeOps(['0', 0, 0])).toThrow(/no operation has tag 0/);
  });
});
