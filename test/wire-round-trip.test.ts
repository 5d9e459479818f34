// The wire format round-trips both ways: any sequence of operations the main thread encodes into a
// request record decodes, with the offsets the worker reads, to the same operations; any outcomes the
// worker encodes read back the same (property-based, seeded). Values too big for the ring take the
// side port, in order.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RESULT_MODES, Status, TYPED_RESULT_KINDS, type BufferArg, type CallManyOp, type CallOp, type Op, type WasmValue } from '../dist/src/protocol.js';
import { BatchEncoder, Form, FORM_MASK, FORM_SHIFT, OP_HEADER_WORDS, REQUEST_HEADER_WORDS, ResultEncoder, Tag, TAG_MASK, decodeOps, payloadWords, readOutcomes } from '../dist/src/wire.js';
import { depth } from './helpers/depth.js';

const SEED = 0x5eed_0010;

const instance = { instanceId: fc.nat({ max: 2 ** 31 - 1 }), epoch: fc.nat({ max: 2 ** 40 }) };
const callee = { ...instance, open: fc.boolean(), exportIndex: fc.nat({ max: 1_000_000 }) };

const value: fc.Arbitrary<WasmValue> = fc.oneof(
  fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }),
  fc.double(),
  fc.constantFrom(-0, Number.NaN),
  // Past the i64 range too: such a value travels structured, exactly as given.
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
);
const buffer: fc.Arbitrary<BufferArg> = fc.oneof(fc.uint8Array({ maxLength: 8 }), fc.string({ maxLength: 8 }));
const bufferedValue: fc.Arbitrary<WasmValue | BufferArg> = fc.oneof(value, buffer);
const mode = fc.constantFrom(...RESULT_MODES);

const plainCall: fc.Arbitrary<CallOp> = fc.record({ ...callee, args: fc.array(value, { maxLength: 70 }) })
  .map((fields) => ({ kind: 'call', ...fields }));
const bufferedCall: fc.Arbitrary<CallOp> = fc.record({ ...callee, args: fc.array(bufferedValue, { maxLength: 6 }), buffers: mode })
  .map((fields) => ({ kind: 'call', ...fields }));

const plainList: fc.Arbitrary<CallManyOp['argsList']> = fc.oneof(
  fc.array(fc.oneof(value, fc.array(value, { maxLength: 3 })), { maxLength: 5 }),
  fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 200 }).map((items) => Int32Array.from(items)),
  fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 13 }).map((items) => Uint8Array.from(items)),
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
const replayOp: fc.Arbitrary<Op> = fc.record({ ...instance, base: fc.option(fc.uint8Array({ maxLength: 40 }), { nil: undefined }), records: fc.uint8Array({ maxLength: 40 }) })
  .map((fields) => ({ kind: 'replay', ...fields }));
const anyOp: fc.Arbitrary<Op> = fc.oneof(plainCall, bufferedCall, plainMany, bufferedMany, openOp, dropOp, replayOp);

/** Encodes `ops` as one record; values over `sideWords` words go to the side list. */
function encode(ops: readonly Op[], sideWords: number): { encoder: BatchEncoder; side: unknown[] } {
  const encoder = new BatchEncoder(sideWords);
  encoder.begin(7);
  for (const op of ops) encoder.add(op);
  encoder.finish(true);
  return { encoder, side: [...encoder.side] };
}

describe('the request wire format', () => {
  it('decodes any encoded sequence of operations to the same operations, whether values go in the ring or by the side port', () => {
    fc.assert(fc.property(fc.array(anyOp, { maxLength: 24 }), fc.constantFrom(1 << 20, 4, 0), (ops, sideWords) => {
      const { encoder, side } = encode(ops, sideWords);
      const words = encoder.words;
      expect(words.i32[0]).toBe(words.length);
      expect(words.i32[2]).toBe(7);
      expect(words.i32[3]).toBe(1);
      let sideAt = 0;
      const decoded = decodeOps(words, 0, () => side[sideAt++]);
      expect(sideAt).toBe(side.length);
      expect(decoded).toStrictEqual(ops);
    }), { seed: SEED, numRuns: depth(500) });
  });

  it('lays each operation out as documented: tag, instance id, epoch, then the payload of its form', () => {
    const list = new Int32Array([7, 8, 9]);
    const ops: Op[] = [
      { kind: 'call', instanceId: 3, epoch: 4, open: true, exportIndex: 5, args: [6, 7n] },
      { kind: 'call', instanceId: 3, epoch: 4, open: false, exportIndex: 5, args: [new Uint8Array([1, 2])], buffers: 'string' },
      { kind: 'callMany', instanceId: 3, epoch: 4, open: false, exportIndex: 5, argsList: list, typedResult: 'Float64Array' },
      { kind: 'open', instanceId: 9, epoch: 1 },
      { kind: 'drop', instanceId: 9, epoch: 0 },
    ];
    const { encoder } = encode(ops, 1 << 20);
    const { i32, f64, i64 } = encoder.words;
    const seen: { tag: number; form: number; instanceId: number; epoch: number; count: number }[] = [];
    let p = REQUEST_HEADER_WORDS;
    for (let n = 0; n < (i32[4] as number); n++) {
      const bits = i32[2 * p] as number;
      seen.push({ tag: bits & TAG_MASK, form: (bits >> FORM_SHIFT) & FORM_MASK, instanceId: i32[2 * p + 2] as number, epoch: f64[p + 2] as number, count: i32[2 * p + 3] as number });
      if (n === 0) {
        // Two arguments: one word of bits (the second is an i64), then the two values.
        expect(i32[2 * (p + OP_HEADER_WORDS)]).toBe(0b10);
        expect(f64[p + OP_HEADER_WORDS + 1]).toBe(6);
        expect(i64[p + OP_HEADER_WORDS + 2]).toBe(7n);
      }
      if (n === 2) expect(Array.from(new Int32Array(encoder.words.u8.buffer, (p + OP_HEADER_WORDS) * 8, 3))).toEqual([7, 8, 9]);
      p += OP_HEADER_WORDS + payloadWords(encoder.words, p);
    }
    expect(p).toBe(encoder.words.length);
    expect(seen).toEqual([
      { tag: Tag.Call, form: Form.Values, instanceId: 3, epoch: 4, count: 2 },
      { tag: Tag.Call, form: Form.Structured, instanceId: 3, epoch: 4, count: expect.any(Number) as number },
      { tag: Tag.CallMany, form: Form.Typed, instanceId: 3, epoch: 4, count: 3 },
      { tag: Tag.Open, form: Form.None, instanceId: 9, epoch: 1, count: 0 },
      { tag: Tag.Drop, form: Form.None, instanceId: 9, epoch: 0, count: 0 },
    ]);
  });

  it('lays a replay out as its base (its length in the export index word, -1 for none) then its records, raw', () => {
    const base = new Uint8Array([1, 2, 3]);
    const records = new Uint8Array([4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const { encoder } = encode([
      { kind: 'replay', instanceId: 2, epoch: 5, base, records },
      { kind: 'replay', instanceId: 2, epoch: 6, base: undefined, records },
    ], 1 << 20);
    const { i32, u8 } = encoder.words;
    const first = REQUEST_HEADER_WORDS;
    expect((i32[2 * first] as number) & TAG_MASK).toBe(Tag.Replay);
    expect(((i32[2 * first] as number) >> FORM_SHIFT) & FORM_MASK).toBe(Form.Bytes);
    expect([i32[2 * first + 1], i32[2 * first + 3]]).toEqual([3, 12]);
    expect(Array.from(u8.subarray((first + OP_HEADER_WORDS) * 8, (first + OP_HEADER_WORDS) * 8 + 12))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const second = first + OP_HEADER_WORDS + payloadWords(encoder.words, first);
    expect(second).toBe(first + OP_HEADER_WORDS + 2);
    expect([i32[2 * second + 1], i32[2 * second + 3]]).toEqual([-1, 9]);
  });

  it('sends a replay too big for the ring on the side port as the pair [base, records]', () => {
    const base = new Uint8Array(64).fill(1);
    const records = new Uint8Array(8).fill(2);
    const { encoder, side } = encode([{ kind: 'replay', instanceId: 1, epoch: 1, base, records }], 4);
    expect(((encoder.words.i32[2 * REQUEST_HEADER_WORDS] as number) >> FORM_SHIFT) & FORM_MASK).toBe(Form.Side);
    expect(side).toEqual([[base, records]]);
  });

  it('refuses a record with a tag no operation has', () => {
    const { encoder } = encode([{ kind: 'open', instanceId: 0, epoch: 0 }], 1 << 20);
    encoder.words.i32[2 * REQUEST_HEADER_WORDS] = 7;
    expect(() => decodeOps(encoder.words, 0, () => undefined)).toThrow(/no operation has tag 7/);
  });
});

// Records are rebuilt as plain objects: structured clone gives plain objects back, not fast-check's null-prototype ones.
const outcome: fc.Arbitrary<[Status, unknown]> = fc.oneof(
  value.map((v): [Status, unknown] => [Status.Ok, v]),
  fc.constant<[Status, unknown]>([Status.Ok, undefined]),
  fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 100 }).map((items): [Status, unknown] => [Status.Ok, Int32Array.from(items)]),
  fc.array(fc.double(), { maxLength: 9 }).map((items): [Status, unknown] => [Status.Ok, Float64Array.from(items)]),
  fc.array(value, { maxLength: 4 }).map((items): [Status, unknown] => [Status.Ok, items]),
  buffer.map((b): [Status, unknown] => [Status.Ok, b]),
  fc.record({ value: value, output: fc.constant([[1, new Uint8Array([104, 105])]]) }).map((p): [Status, unknown] => [Status.OkWithOutput, { ...p }]),
  // A durable operation's input tape comes back with its value (output may be empty then), or with a failure.
  fc.record({ value: value, output: fc.constant([]), tape: fc.uint8Array({ minLength: 1, maxLength: 40 }) }).map((p): [Status, unknown] => [Status.OkWithOutput, { ...p }]),
  fc.record({ error: fc.record({ code: fc.constant('ERR_REACTOR_TRAP'), message: fc.string() }), lost: fc.constant(false), tape: fc.uint8Array({ minLength: 1, maxLength: 40 }) })
    .map((p): [Status, unknown] => [Status.Failed, { ...p, error: { ...p.error } }]),
  fc.record({ error: fc.record({ name: fc.constant('ReactorTrapError'), code: fc.constant('ERR_REACTOR_TRAP'), message: fc.string() }), lost: fc.boolean() })
    .map((p): [Status, unknown] => [Status.Failed, { ...p, error: { ...p.error } }]),
);

describe('the response wire format', () => {
  it('reads back any outcomes in order, with their batch number and index, in the ring or by the side port', () => {
    fc.assert(fc.property(fc.array(outcome, { maxLength: 30 }), fc.nat({ max: 1000 }), fc.constantFrom(1 << 20, 3, 0), (outcomes, first, sideWords) => {
      const encoder = new ResultEncoder(sideWords);
      encoder.begin(42, first);
      for (const [status, payload] of outcomes) {
        if (status === Status.Ok) encoder.ok(payload);
        else encoder.outcome(status, payload);
      }
      const side = [...encoder.side];
      const words = encoder.finish();
      const read: [number, number, Status, unknown][] = [];
      let sideAt = 0;
      readOutcomes(words, 0, (seq, index, status, payload) => read.push([seq, index, status, payload]), () => side[sideAt++]);
      expect(sideAt).toBe(side.length);
      expect(read).toStrictEqual(outcomes.map(([status, payload], i) => [42, first + i, status, payload]));
    }), { seed: SEED, numRuns: depth(500) });
  });
});
