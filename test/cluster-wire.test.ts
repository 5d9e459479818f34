// The cluster's batch codec: any request or reply round-trips exactly (NaN, ±Infinity and -0, bigints,
// strings with lone surrogates, every typed-array kind with its type, nested arrays, errors), and any
// bytes at all decode to a message or throw ERR_INVALID_ARGUMENT, never anything else (seeded).

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  decodeBatchReply, decodeBatchRequest, encodeBatchReply, encodeBatchRequest,
  type BatchReply, type BatchRequest, type WireOp, type WireOutcome, type WireValue,
} from '../dist/src/cluster/batch-wire.js';
import { depth } from './helpers/depth.js';
import { ReactorPoolError, deserializeError, ERROR_CODES, type SerializedError } from '../dist/src/errors.js';

const SEED = 0x5eed_c1a5;

const typedArray: fc.Arbitrary<WireValue> = fc.oneof(
  fc.uint8Array({ maxLength: 9 }),
  fc.int8Array({ maxLength: 5 }),
  fc.int16Array({ maxLength: 5 }),
  fc.uint16Array({ maxLength: 5 }),
  fc.int32Array({ maxLength: 5 }),
  fc.uint32Array({ maxLength: 5 }),
  fc.float32Array({ maxLength: 5 }),
  fc.float64Array({ maxLength: 5 }),
  fc.bigInt64Array({ maxLength: 5 }),
  fc.bigUint64Array({ maxLength: 5 }),
);
const scalar: fc.Arbitrary<WireValue> = fc.oneof(
  fc.double(),
  fc.constantFrom(Number.NaN, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
  fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constant(undefined),
  typedArray,
);
const { value } = fc.letrec<{ value: WireValue }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, fc.array(tie('value'), { maxLength: 4 })),
}));

const serializedError: fc.Arbitrary<SerializedError> = fc.letrec<{ error: SerializedError }>((tie) => ({
  error: fc.record(
    {
      code: fc.constantFrom(...ERROR_CODES),
      message: fc.string({ unit: 'binary', maxLength: 20 }),
      sessionKey: fc.string({ maxLength: 8 }),
      exportName: fc.string({ maxLength: 8 }),
      completed: fc.nat(),
      limit: fc.nat(),
      workerId: fc.nat({ max: 64 }),
      cause: tie('error'),
    },
    { requiredKeys: ['code', 'message'] },
  ),
})).error;

const text = fc.string({ unit: 'binary', maxLength: 16 });
const options = fc.record({ result: fc.constantFrom('value', 'bytes', 'string'), timeout: fc.oneof(fc.integer({ min: 1, max: 2 ** 31 }), fc.constant(Number.POSITIVE_INFINITY)) }, { requiredKeys: [] });
const op: fc.Arbitrary<WireOp> = fc.oneof(
  fc.record({ op: fc.constant('call' as const), key: text, id: text, name: text, args: fc.array(value, { maxLength: 5 }), options }),
  fc.record({ op: fc.constant('callMany' as const), key: text, id: text, name: text, list: value, options }),
  fc.record({ op: fc.constantFrom('snapshot' as const, 'reset' as const, 'close' as const), key: text }),
  fc.record({ op: fc.constant('restore' as const), key: text, snapshot: fc.uint8Array({ maxLength: 64 }) }),
);
const request: fc.Arbitrary<BatchRequest> = fc.record({ partition: fc.nat({ max: 4095 }), ops: fc.array(op, { maxLength: 6 }) });
const outcome: fc.Arbitrary<WireOutcome> = fc.oneof(
  fc.record({ ok: fc.constant(true as const), value }),
  fc.record({ ok: fc.constant(false as const), error: serializedError }),
  fc.record({ retry: text }),
);
const reply: fc.Arbitrary<BatchReply> = fc.oneof(
  fc.record({ status: fc.constant('served' as const), outcomes: fc.array(outcome, { maxLength: 6 }) }),
  fc.record({ status: fc.constant('moved' as const), reason: text }),
  fc.record({ status: fc.constant('refused' as const), error: serializedError }),
);

/** Deep equality that tells -0 from 0, keeps NaN equal to itself, and requires typed arrays of the same kind. */
function same(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' || typeof b === 'number') return Object.is(a, b);
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!ArrayBuffer.isView(a) || !ArrayBuffer.isView(b) || a.constructor !== b.constructor) return false;
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    return x.length === y.length && x.every((byte, index) => byte === y[index]);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, index) => same(item, b[index]));
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const keys = Object.keys(a).filter((key) => (a as Record<string, unknown>)[key] !== undefined);
    const otherKeys = Object.keys(b).filter((key) => (b as Record<string, unknown>)[key] !== undefined);
    return keys.length === otherKeys.length && keys.every((key) => same((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
  }
  return a === b;
}

/** Decoding must return or throw ERR_INVALID_ARGUMENT: anything else fails the property. */
function decodesOrRefuses(decode: (bytes: Uint8Array) => unknown, bytes: Uint8Array): void {
  try {
    decode(bytes);
  } catch (error) {
    if (!(error instanceof ReactorPoolError) || error.code !== 'ERR_INVALID_ARGUMENT') throw error;
  }
}

describe('cluster batch codec', () => {
  it('round-trips every request exactly', () => {
    fc.assert(fc.property(request, (given) => {
      expect(same(decodeBatchRequest(encodeBatchRequest(given)), given)).toBe(true);
    }), { seed: SEED, numRuns: depth(400) });
  });

  it('round-trips every reply exactly, and errors rebuild their class', () => {
    fc.assert(fc.property(reply, (given) => {
      const back = decodeBatchReply(encodeBatchReply(given));
      expect(same(back, given)).toBe(true);
      if (back.status === 'refused') expect(deserializeError(back.error).code).toBe(given.status === 'refused' ? given.error.code : '');
    }), { seed: SEED + 1, numRuns: depth(400) });
  });

  it('keeps the special numbers, -0 and the typed-array kinds', () => {
    const values: WireValue[] = [Number.NaN, -0, 0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 2n ** 63n, -(2n ** 64n), '\ud800x', undefined,
      new Float32Array([1.5, -0]), new BigUint64Array([2n ** 64n - 1n]), [[new Int16Array([-1])], []]];
    const back = decodeBatchReply(encodeBatchReply({ status: 'served', outcomes: values.map((item) => ({ ok: true, value: item })) }));
    expect(back.status).toBe('served');
    if (back.status !== 'served') return;
    back.outcomes.forEach((item, index) => expect(same('ok' in item && item.ok ? item.value : 'not a value', values[index])).toBe(true));
  });

  it('decodes a payload from an unaligned view of a larger buffer', () => {
    const bytes = encodeBatchReply({ status: 'served', outcomes: [{ ok: true, value: new Float64Array([1, 2]) }] });
    const shifted = new Uint8Array(bytes.byteLength + 3);
    shifted.set(bytes, 3);
    const back = decodeBatchReply(shifted.subarray(3));
    expect(back.status === 'served' && same(back.outcomes[0], { ok: true, value: new Float64Array([1, 2]) })).toBe(true);
  });

  it('decodes from a Buffer (as NATS may hand it over) into payloads of their own', () => {
    const bytes = Buffer.concat([Buffer.alloc(5), Buffer.from(encodeBatchReply({ status: 'served', outcomes: [{ ok: true, value: new Float32Array([3]) }, { ok: true, value: new Uint8Array([7]) }] }))]);
    const back = decodeBatchReply(bytes.subarray(5));
    expect(back.status === 'served' && same(back.outcomes, [{ ok: true, value: new Float32Array([3]) }, { ok: true, value: new Uint8Array([7]) }])).toBe(true);
    const payload = back.status === 'served' ? back.outcomes[1] : undefined;
    expect(payload !== undefined && 'ok' in payload && payload.ok && payload.value instanceof Uint8Array && payload.value.buffer.byteLength).toBe(1);
  });

  it('refuses a value the wire cannot carry with ERR_INVALID_ARGUMENT', () => {
    const bad = { status: 'served', outcomes: [{ ok: true, value: { not: 'a wire value' } }] } as unknown as BatchReply;
    expect(() => encodeBatchReply(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }) as Error);
    const cyclic: WireValue[] = [];
    cyclic.push(cyclic);
    expect(() => encodeBatchRequest({ partition: 0, ops: [{ op: 'callMany', key: 'k', id: 'i', name: 'f', list: cyclic, options: {} }] }))
      .toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }) as Error);
  });

  it('refuses a message of another version, another kind or none at all', () => {
    const bytes = encodeBatchRequest({ partition: 1, ops: [] });
    const otherVersion = bytes.slice();
    otherVersion[3] = 2;
    for (const broken of [otherVersion, bytes.subarray(0, 5), new Uint8Array(0), encodeBatchReply({ status: 'moved', reason: 'r' })]) {
      expect(() => decodeBatchRequest(broken)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }) as Error);
    }
  });

  it('decodes any bytes or refuses them with ERR_INVALID_ARGUMENT (fuzz: random bytes)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      decodesOrRefuses(decodeBatchRequest, bytes);
      decodesOrRefuses(decodeBatchReply, bytes);
    }), { seed: SEED + 2, numRuns: depth(2000) });
  });

  it('decodes any mutation of a real message or refuses it with ERR_INVALID_ARGUMENT (fuzz: flipped bytes)', () => {
    const messages = fc.oneof(request.map(encodeBatchRequest), reply.map(encodeBatchReply));
    const mutations = fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 4 });
    fc.assert(fc.property(messages, mutations, fc.nat(), (message, changes, cut) => {
      const bytes = message.slice(0, message.byteLength - (cut % 3 === 0 ? cut % (message.byteLength + 1) : 0));
      for (const { at, byte } of changes) if (bytes.byteLength > 0) bytes[at % bytes.byteLength] = byte;
      decodesOrRefuses(decodeBatchRequest, bytes);
      decodesOrRefuses(decodeBatchReply, bytes);
    }), { seed: SEED + 3, numRuns: depth(3000) });
  });

  it('refuses hostile JSON parts with ERR_INVALID_ARGUMENT', () => {
    const framed = (json: string, kind: number): Uint8Array => {
      const body = new TextEncoder().encode(json);
      const out = new Uint8Array(9 + body.byteLength);
      out.set([0x52, 0x50, 0x57, 1, kind], 0);
      new DataView(out.buffer).setUint32(5, body.byteLength, true);
      out.set(body, 9);
      return out;
    };
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const hostile = [
      '{"s":"served","o":[{"v":' + deep + '}]}',
      '{"s":"served","o":[{"v":{"i":"' + '9'.repeat(100_000) + '"}}]}',
      '{"s":"served","o":[{"v":{"t":7,"o":0,"n":9}}]}',
      '{"s":"served","o":[{"v":{"t":99,"o":0,"n":0}}]}',
      '{"s":"served","o":[{"v":{"__proto__":{"f":"NaN"}}}]}',
      '{"s":"refused","e":{"code":"constructor","message":"m"}}',
      '{"s":"served","o":[{"e":{"code":"ERR_X","message":"m","cause":' + '{"code":"ERR_X","message":"m","cause":'.repeat(20) + 'null' + '}'.repeat(21) + '}]}',
      '{"s":"served","o":[{"v":true}]}',
      '{"s":"served"}',
    ];
    for (const json of hostile) {
      expect(() => decodeBatchReply(framed(json, 2)), json.slice(0, 60)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }) as Error);
    }
    expect(() => decodeBatchRequest(framed('{"p":-1,"ops":[]}', 1))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }) as Error);
    expect(() => decodeBatchRequest(framed('{"p":0,"ops":[{"op":"call","k":"a","id":"b","x":"c","a":[],"opt":{"r":"nope"}}]}', 1)))
      .toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }) as Error);
  });
});
