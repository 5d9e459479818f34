// The session snapshot format: seeded random memories, globals and host state come back exactly through
// encode, decode and writeMemory (against baselines with and without a patch, stored and deflated); bad
// bytes of every kind (not bytes, truncated, flipped, forged with the checksum fixed up, fuzzed) are
// refused as ERR_INVALID_SNAPSHOT or ERR_SNAPSHOT_MISMATCH saying why, never as anything else.

import { createHash } from 'node:crypto';
import { crc32, deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { InvalidSnapshotError, SnapshotMismatchError } from '../dist/src/errors.js';
import { seeded } from '../dist/src/seeded-random.js';
import {
  SNAPSHOT_FORMAT_VERSION, baselineDigest, decodeSnapshot, differingRuns, encodeSnapshot, patchFrom, readSnapshotHeader,
  type DecodedSnapshot, type InstanceHostState, type SnapshotBaseline, type SnapshotGlobalType, type SnapshotIdentity,
} from '../dist/src/snapshot-format.js';
import { depth } from './helpers/depth.js';
import {
  CHUNK, Field, HEADER_BYTES, PAGE, forgeSnapshot, plainBody, plainBodyOf, withCrc, withU32,
  type BodyGlobal, type BodyParts, type BodyRun, type ForgedHeader,
} from './helpers/snapshot-bytes.js';

const SEED = 0x5eed_0520;
const TYPES: readonly SnapshotGlobalType[] = ['i32', 'i64', 'f32', 'f64'];
const sha256 = (text: string): Uint8Array => new Uint8Array(createHash('sha256').update(text).digest());
const MODULE = sha256('the module');
const OTHER_MODULE = sha256('another module');

type Random = () => number;
const below = (random: Random, n: number): number => Math.floor(random() * n);
const u32 = (random: Random): number => below(random, 2 ** 32);
const u64 = (random: Random): bigint => (BigInt(u32(random)) << 32n) | BigInt(u32(random));
const pick = <T>(random: Random, items: readonly T[]): T => items[below(random, items.length)] as T;
const randomBytes = (random: Random, length: number): Uint8Array => Uint8Array.from({ length }, () => below(random, 256));

/** A value of `type` from 64 random bits: every i32/i64, every f32/f64 (NaNs, infinities, subnormals, -0 included). */
function randomGlobal(random: Random, type: SnapshotGlobalType): number | bigint {
  const bits = new DataView(new ArrayBuffer(8));
  bits.setUint32(0, u32(random));
  bits.setUint32(4, u32(random));
  if (type === 'i32') return bits.getInt32(0);
  if (type === 'i64') return bits.getBigInt64(0);
  return type === 'f32' ? bits.getFloat32(0) : bits.getFloat64(0);
}

function randomHost(random: Random): InstanceHostState {
  return {
    monotonicNs: u64(random),
    stackTop: random() < 0.3 ? undefined : u32(random),
    scratch: u32(random),
    scratchSize: u32(random),
    stdio: [0, 1, 2].map(() => ({ open: random() < 0.5, fdflags: below(random, 2 ** 16), rights: u64(random) })),
    stdinRead: u32(random),
  };
}

/** Scribbles `count` sparse changes over `memory`: single bytes and short ranges, some at its very start and end. */
function scribble(random: Random, memory: Uint8Array, count: number): void {
  for (let i = 0; i < count; i++) {
    const length = random() < 0.5 ? 1 : 1 + below(random, 300);
    const where = random();
    const at = where < 0.1 ? 0 : where < 0.2 ? memory.byteLength - length : below(random, memory.byteLength - length);
    memory.set(randomBytes(random, length), at);
  }
}

/** `image`'s bytes in a memory of `pages` (zeros past its end, as grown pages are). */
function grown(image: Uint8Array, pages: number): Uint8Array {
  const memory = new Uint8Array(pages * PAGE);
  memory.set(image.subarray(0, memory.byteLength));
  return memory;
}

/**
 * What a worker has: a fresh instance's memory (the data segments), the post-`_initialize` image
 * (perhaps grown), and a live instance's memory (perhaps grown further) to snapshot. 1-4 pages.
 */
function randomImages(random: Random): { data: Uint8Array; initialized: Uint8Array; live: Uint8Array } {
  const dataPages = 1 + below(random, 2);
  const data = new Uint8Array(dataPages * PAGE);
  for (let segments = 1 + below(random, 4); segments > 0; segments--) {
    const length = 1 + below(random, 3000);
    data.set(randomBytes(random, length), below(random, data.byteLength - length));
  }
  const initialized = grown(data, dataPages + below(random, 2));
  scribble(random, initialized, below(random, 20));
  const live = grown(initialized, initialized.byteLength / PAGE + below(random, 5 - initialized.byteLength / PAGE));
  // Sometimes the grown pages stay zero (nothing to keep there), sometimes not.
  scribble(random, live.byteLength > initialized.byteLength && random() < 0.5 ? live.subarray(0, initialized.byteLength) : live, 1 + below(random, 40));
  return { data, initialized, live };
}

function baselineOf(initialized: boolean, memory: Uint8Array, globals: readonly (number | bigint)[], patch?: SnapshotBaseline['patch']): SnapshotBaseline {
  const digest = baselineDigest(memory, globals);
  return patch === undefined ? { initialized, memory, digest } : { initialized, memory, digest, patch };
}

/** A fresh instance holding `decoded`: the data image grown to the snapshot's pages, then writeMemory. */
function restored(decoded: DecodedSnapshot, data: Uint8Array, fill = 0): Uint8Array {
  const target = new Uint8Array(decoded.pages * PAGE).fill(fill);
  target.set(data.subarray(0, target.byteLength));
  decoded.writeMemory(target);
  return target;
}

/** Where `a` and `b` first differ (-1: nowhere), so a failure says where. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.byteLength, b.byteLength);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return i;
  return a.byteLength === b.byteLength ? -1 : length;
}

/** The body size a snapshot of `memory` against `base` has: the fixed parts (no tables), then only the differing chunks. */
function expectedBodyBytes(globalCount: number, memory: Uint8Array, base: Uint8Array): number {
  return 4 + 9 * globalCount + 4 + 65 + differingRuns(memory, base).reduce((sum, [, chunks]) => sum + 8 + chunks * CHUNK, 0);
}

function expectSameValues(actual: readonly (number | bigint)[], expected: readonly (number | bigint)[]): void {
  expect(actual).toHaveLength(expected.length);
  // Object.is: NaN is NaN, -0 is not 0.
  expected.forEach((value, i) => expect(Object.is(actual[i], value), `global ${i}: ${String(actual[i])} for ${String(value)}`).toBe(true));
}

type Refusal = InvalidSnapshotError | SnapshotMismatchError;
type RefusalCode = 'ERR_INVALID_SNAPSHOT' | 'ERR_SNAPSHOT_MISMATCH';

/** The error `run` throws, which must be one of the two snapshot refusals (anything else is rethrown). */
function refusal(run: () => unknown): Refusal {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidSnapshotError || error instanceof SnapshotMismatchError) return error;
    throw error;
  }
  throw new Error('expected the snapshot to be refused, but it was accepted');
}

function expectRefused(run: () => unknown, code: RefusalCode, why: RegExp): void {
  const error = refusal(run);
  expect(error).toBeInstanceOf(code === 'ERR_INVALID_SNAPSHOT' ? InvalidSnapshotError : SnapshotMismatchError);
  expect(error.code).toBe(code);
  expect(error.message).toMatch(why);
}

/** Decodes with `baselines` standing for this process's two images. */
function decode(bytes: Uint8Array, identity: SnapshotIdentity, baselines: { initialized: SnapshotBaseline; data: SnapshotBaseline }): DecodedSnapshot {
  return decodeSnapshot(bytes, identity, (initialized) => (initialized ? baselines.initialized : baselines.data));
}

describe('round trips', () => {
  it('seeded random memories, globals and host state come back exactly, against every kind of baseline', () => {
    const random = seeded(SEED);
    for (let round = 0; round < depth(30); round++) {
      const { data, initialized, live } = randomImages(random);
      const globalTypes = Array.from({ length: below(random, 7) }, () => pick(random, TYPES));
      const identity: SnapshotIdentity = { moduleDigest: MODULE, globalTypes };
      const globals = globalTypes.map((type) => randomGlobal(random, type));
      const host = randomHost(random);
      const initGlobals = globalTypes.map((type) => randomGlobal(random, type));
      const dataGlobals = globalTypes.map((type) => randomGlobal(random, type));
      const baselines: [string, SnapshotBaseline][] = [
        ['the post-_initialize image with its patch', baselineOf(true, initialized, initGlobals, patchFrom(data, initialized))],
        ['the post-_initialize image without a patch', baselineOf(true, initialized, initGlobals)],
        ['the data image with an empty patch', baselineOf(false, data, dataGlobals, [])],
        ['the data image without a patch', baselineOf(false, data, dataGlobals)],
      ];
      for (const [name, base] of baselines) {
        const what = `round ${round}, ${name}`;
        const bytes = encodeSnapshot(live, { globals, host }, identity, base);
        const header = readSnapshotHeader(bytes, MODULE);
        expect(header, what).toStrictEqual({
          version: SNAPSHOT_FORMAT_VERSION, initializedBaseline: base.initialized, baselineDigest: base.digest,
          pages: live.byteLength / PAGE, bodyBytes: expectedBodyBytes(globals.length, live, base.memory), stored: header.bodyBytes <= 1024,
        });
        const other = base.initialized ? baselineOf(false, data, dataGlobals) : baselineOf(true, initialized, initGlobals);
        const decoded = decode(bytes, identity, base.initialized ? { initialized: base, data: other } : { initialized: other, data: base });
        expect(decoded.pages, what).toBe(live.byteLength / PAGE);
        expect(firstDifference(restored(decoded, data), live), what).toBe(-1);
        expectSameValues(decoded.globals, globals);
        expect(decoded.host, what).toStrictEqual(host);
      }
    }
  });

  it('every global type keeps its exact value: i32 and i64 extremes, f32 and f64 NaN, -0, infinities, subnormals', () => {
    const values: [SnapshotGlobalType, number | bigint][] = [
      ...[0, 1, -1, -(2 ** 31), 2 ** 31 - 1, -123_456_789].map((v): [SnapshotGlobalType, number] => ['i32', v]),
      ...[0n, 1n, -1n, -(2n ** 63n), 2n ** 63n - 1n, -(2n ** 40n) + 3n].map((v): [SnapshotGlobalType, bigint] => ['i64', v]),
      ...[0, -0, Number.NaN, Infinity, -Infinity, Math.fround(0.1), Math.fround(3.4028234663852886e38), Math.fround(1.401298464324817e-45), Math.fround(-1e-40)]
        .map((v): [SnapshotGlobalType, number] => ['f32', v]),
      ...[0, -0, Number.NaN, Infinity, -Infinity, Number.MIN_VALUE, -Number.MAX_VALUE, Math.PI, 2 ** 53 + 2]
        .map((v): [SnapshotGlobalType, number] => ['f64', v]),
    ];
    const identity: SnapshotIdentity = { moduleDigest: MODULE, globalTypes: values.map(([type]) => type) };
    const globals = values.map(([, value]) => value);
    const memory = new Uint8Array(PAGE);
    const base = baselineOf(false, memory, []);
    const host = randomHost(seeded(SEED + 1));
    const decoded = decode(encodeSnapshot(memory, { globals, host }, identity, base), identity, { initialized: base, data: base });
    expectSameValues(decoded.globals, globals);
  });

  it('host state at its edges: no stack top, a stack top of 0, every field at its largest', () => {
    const stdio = [
      { open: true, fdflags: 0, rights: 0n },
      { open: false, fdflags: 0xffff, rights: 2n ** 64n - 1n },
      { open: true, fdflags: 1, rights: 0x1234_5678_9abc_def0n },
    ];
    const hosts: InstanceHostState[] = [
      { monotonicNs: 0n, stackTop: undefined, scratch: 0, scratchSize: 0, stdio, stdinRead: 0 },
      { monotonicNs: 1n, stackTop: 0, scratch: 16, scratchSize: 64, stdio, stdinRead: 3 },
      { monotonicNs: 2n ** 64n - 1n, stackTop: 2 ** 32 - 1, scratch: 2 ** 32 - 1, scratchSize: 2 ** 32 - 1, stdio, stdinRead: 2 ** 32 - 1 },
    ];
    const identity: SnapshotIdentity = { moduleDigest: MODULE, globalTypes: [] };
    const memory = new Uint8Array(PAGE);
    const base = baselineOf(false, memory, []);
    for (const host of hosts) {
      const decoded = decode(encodeSnapshot(memory, { globals: [], host }, identity, base), identity, { initialized: base, data: base });
      expect(decoded.host).toStrictEqual(host);
    }
  });

  it('the bytes are exactly the documented layout', () => {
    const random = seeded(SEED + 2);
    const host = randomHost(random);
    const base = baselineOf(true, randomBytes(random, PAGE), [7]);
    const live = grown(base.memory, 2);
    live.fill(1, 128, 300); // chunks 2-4 (chunk 4 only partly)
    live[PAGE + 64] = 9; // chunk 1025, in the grown page
    const identity: SnapshotIdentity = { moduleDigest: MODULE, globalTypes: ['i32', 'i64', 'f32', 'f64'] };
    const globals = [-5, -(2n ** 63n), 1.5, -0];
    const parts: BodyParts = {
      globals: [{ type: 'i32', value: -5 }, { type: 'i64', value: -(2n ** 63n) }, { type: 'f32', value: 1.5 }, { type: 'f64', value: -0 }],
      host,
      chunks: 2048,
      runs: [{ first: 2, chunks: 3, bytes: live.slice(128, 320) }, { first: 1025, chunks: 1, bytes: live.slice(PAGE + 64, PAGE + 128) }],
    };
    const bytes = encodeSnapshot(live, { globals, host }, identity, base);
    expect(differingRuns(live, base.memory)).toEqual([[128, 3], [PAGE + 64, 1]]);
    expect(bytes).toEqual(forgeSnapshot({ flags: 1, moduleDigest: MODULE, baselineDigest: base.digest, pages: 2 }, plainBody(parts)));
  });
});

describe('codecs', () => {
  const identityOf = (count: number): SnapshotIdentity => ({ moduleDigest: MODULE, globalTypes: Array.from({ length: count }, () => 'i64') });
  const base = baselineOf(false, new Uint8Array(PAGE), []);

  /** A snapshot with `globalCount` globals and one run of `chunks` random chunks. */
  function snapshotWith(globalCount: number, chunks: number, random: Random): { bytes: Uint8Array; live: Uint8Array; globals: bigint[] } {
    const live = new Uint8Array(PAGE);
    live.set(randomBytes(random, chunks * CHUNK), 10 * CHUNK);
    const globals = Array.from({ length: globalCount }, () => BigInt.asIntN(64, u64(random)));
    return { bytes: encodeSnapshot(live, { globals, host: randomHost(random) }, identityOf(globalCount), base), live, globals };
  }

  it.each([
    { name: 'a small body is stored', globals: 2, chunks: 3, stored: true },
    { name: 'a body of exactly 1 KiB is stored', globals: 55, chunks: 7, stored: true },
    { name: 'a body of 1 KiB and a byte is deflated', globals: 48, chunks: 8, stored: false },
    { name: 'a large body is deflated', globals: 3, chunks: 300, stored: false },
  ])('$name, and comes back exactly', ({ globals: count, chunks, stored }) => {
    const { bytes, live, globals } = snapshotWith(count, chunks, seeded(SEED + count));
    const header = readSnapshotHeader(bytes, MODULE);
    // Globals, the table count (no tables), host state and the memory's size; then one run.
    expect(header.bodyBytes).toBe(73 + 9 * count + 8 + chunks * CHUNK);
    expect(header.stored).toBe(stored);
    expect(bytes[Field.codec]).toBe(stored ? 0 : 1);
    if (stored) expect(bytes.byteLength).toBe(HEADER_BYTES + header.bodyBytes);
    const decoded = decode(bytes, identityOf(count), { initialized: base, data: base });
    expect(firstDifference(restored(decoded, base.memory), live)).toBe(-1);
    expectSameValues(decoded.globals, globals);
  });
});

describe('differingRuns, patchFrom and baselineDigest', () => {
  it('differingRuns finds exactly the differing chunks (zeros past the base), as maximal runs in order', () => {
    const random = seeded(SEED + 3);
    for (let round = 0; round < depth(40); round++) {
      const { data, live } = randomImages(random);
      const runs = differingRuns(live, data);
      const inRuns = new Set(runs.flatMap(([at, chunks]) => Array.from({ length: chunks }, (_, i) => at / CHUNK + i)));
      for (let chunk = 0; chunk < live.byteLength / CHUNK; chunk++) {
        const differs = live.subarray(chunk * CHUNK, (chunk + 1) * CHUNK).some((byte, i) => byte !== (data[chunk * CHUNK + i] ?? 0));
        expect(inRuns.has(chunk), `round ${round}, chunk ${chunk}`).toBe(differs);
      }
      runs.forEach(([at, chunks], i) => {
        expect(at % CHUNK).toBe(0);
        expect(chunks).toBeGreaterThan(0);
        const next = runs[i + 1];
        // Sorted, and never touching: touching runs would be one.
        if (next !== undefined) expect(next[0]).toBeGreaterThan(at + chunks * CHUNK);
      });
    }
  });

  it('patchFrom turns the fresh image into the baseline', () => {
    const random = seeded(SEED + 4);
    for (let round = 0; round < 20; round++) {
      const { data, initialized } = randomImages(random);
      const memory = grown(data, initialized.byteLength / PAGE);
      for (const [at, bytes] of patchFrom(data, initialized)) memory.set(bytes, at);
      expect(firstDifference(memory, initialized), `round ${round}`).toBe(-1);
    }
  });

  it('baselineDigest is the CRC-32 of the memory then each global as 8 little-endian bytes, with or without globals', () => {
    const random = seeded(SEED + 9);
    for (const globals of [[], [-3], [2n ** 63n - 1n, -0, 0.5]] as (number | bigint)[][]) {
      const memory = randomBytes(random, PAGE);
      const values = new DataView(new ArrayBuffer(globals.length * 8));
      globals.forEach((g, i) => (typeof g === 'bigint' ? values.setBigInt64(i * 8, g, true) : values.setFloat64(i * 8, g, true)));
      expect(baselineDigest(memory, globals)).toBe(crc32(Buffer.concat([memory, new Uint8Array(values.buffer)])));
      const changed = memory.slice();
      const at = below(random, PAGE);
      changed[at] = (changed[at] ?? 0) ^ 1;
      expect(baselineDigest(changed, globals)).not.toBe(baselineDigest(memory, globals));
    }
    expect(baselineDigest(new Uint8Array(PAGE), [0])).not.toBe(baselineDigest(new Uint8Array(PAGE), [-0]));
  });

  it('writeMemory writes the patch when there is one, else the whole baseline, then the runs; nothing else', () => {
    const data = new Uint8Array(PAGE);
    const initialized = new Uint8Array(PAGE).fill(3, 0, 1000);
    const live = initialized.slice();
    live.fill(4, 5000, 5001);
    const identity: SnapshotIdentity = { moduleDigest: MODULE, globalTypes: [] };
    const host = randomHost(seeded(SEED + 5));
    const withPatch = baselineOf(true, initialized, [], patchFrom(data, initialized));
    const decoded = decode(encodeSnapshot(grown(live, 2), { globals: [], host }, identity, withPatch), identity, { initialized: withPatch, data: withPatch });
    // Bytes of the target that neither the patch nor a run covers are left as they are.
    const patched = restored(decoded, new Uint8Array(0), 0xee);
    expect(patched.subarray(0, 1000).every((b) => b === 3)).toBe(true);
    expect(patched[1024]).toBe(0xee);
    expect(patched.subarray(4992, 5056).every((b, i) => b === (i === 8 ? 4 : 0))).toBe(true);
    expect(patched[PAGE]).toBe(0xee);
    const whole = decode(encodeSnapshot(grown(live, 2), { globals: [], host }, identity, baselineOf(true, initialized, [])), identity, {
      initialized: baselineOf(true, initialized, []), data: withPatch,
    });
    const copied = restored(whole, new Uint8Array(0), 0xee);
    expect(firstDifference(copied.subarray(0, PAGE), live)).toBe(-1);
    // Past the baseline a fresh instance's memory is zero already: nothing is written there.
    expect(copied[PAGE]).toBe(0xee);
  });
});

describe('refusals', () => {
  const random = seeded(SEED + 6);
  const globalTypes: SnapshotGlobalType[] = ['i32', 'i64', 'f64'];
  const identity: SnapshotIdentity = { moduleDigest: MODULE, globalTypes };
  const { data, initialized, live } = randomImages(random);
  const globals = globalTypes.map((type) => randomGlobal(random, type));
  const baselines = {
    initialized: baselineOf(true, initialized, globals.map((g) => (typeof g === 'bigint' ? g + 1n : g + 1)), patchFrom(data, initialized)),
    data: baselineOf(false, data, globals, []),
  };
  const host = randomHost(random);
  const small = encodeSnapshot(grown(baselines.initialized.memory, 1 + initialized.byteLength / PAGE), { globals, host }, identity, baselines.initialized);
  const large = encodeSnapshot(live, { globals, host }, identity, baselines.initialized);
  const snapshots = { stored: small, deflated: large };
  const decodeAll = (bytes: unknown): DecodedSnapshot => decode(bytes as Uint8Array, identity, baselines);

  it('the two snapshots used below are valid, one stored and one deflated', () => {
    expect(readSnapshotHeader(small, MODULE).stored).toBe(true);
    expect(readSnapshotHeader(large, MODULE).stored).toBe(false);
    expect(firstDifference(restored(decodeAll(large), data), live)).toBe(-1);
    // Any Uint8Array will do: a Buffer, or a view into the middle of a larger buffer.
    const inside = new Uint8Array(large.byteLength + 7);
    inside.set(large, 3);
    expect(firstDifference(restored(decodeAll(inside.subarray(3, 3 + large.byteLength)), data), live)).toBe(-1);
    expect(firstDifference(restored(decodeAll(Buffer.from(large)), data), live)).toBe(-1);
  });

  it.each([
    ['null', null, '`null` \\(null\\)'],
    ['undefined', undefined, '`undefined` \\(undefined\\)'],
    ['a string', 'RPSS', '`"RPSS"` \\(string\\)'],
    ['a number', 60, '`60` \\(number\\)'],
    ['an array of bytes', [...small], '.*\\(array\\)'],
    ['an ArrayBuffer', small.slice().buffer, '`ArrayBuffer\\(\\d+\\)` \\(object\\)'],
    ['a DataView', new DataView(small.slice().buffer), '.*\\(object\\)'],
    ['an Int8Array', new Int8Array(small.slice().buffer), '.*\\(object\\)'],
    ['an object inheriting from Uint8Array.prototype', Object.create(Uint8Array.prototype) as unknown, '.*\\(object\\)'],
    ['a Proxy of a Uint8Array', new Proxy(small.slice(), {}), '.*\\(object\\)'],
  ])('not a Uint8Array: %s', (_name, value, shown) => {
    expectRefused(() => readSnapshotHeader(value, MODULE), 'ERR_INVALID_SNAPSHOT', new RegExp(`expected a Uint8Array, got ${shown}`));
  });

  it('shorter than the header, at every length', () => {
    for (let length = 0; length < HEADER_BYTES; length++) {
      expectRefused(() => readSnapshotHeader(small.slice(0, length), MODULE), 'ERR_INVALID_SNAPSHOT', new RegExp(`^invalid snapshot: ${length} bytes is shorter than a snapshot's 60-byte header`));
    }
  });

  it('wrong magic', () => {
    for (const at of [0, 1, 2, 3]) {
      const bytes = small.slice();
      bytes[at] = (bytes[at] ?? 0) ^ 0x20;
      expectRefused(() => readSnapshotHeader(withCrc(bytes), MODULE), 'ERR_INVALID_SNAPSHOT', /does not start with "RPSS"/);
    }
    expectRefused(() => decodeAll(new Uint8Array(100)), 'ERR_INVALID_SNAPSHOT', /not a reactor-pool snapshot/);
  });

  it.each([0, 2, 0xffff])('format version %i', (version) => {
    const bytes = small.slice();
    new DataView(bytes.buffer).setUint16(Field.version, version, true);
    expectRefused(() => decodeAll(withCrc(bytes)), 'ERR_INVALID_SNAPSHOT', new RegExp(`format version ${version}; this version of reactor-pool reads version 1`));
  });

  it('checksum mismatch', () => {
    const bytes = large.slice();
    bytes[bytes.byteLength - 1] = (bytes[bytes.byteLength - 1] ?? 0) ^ 1;
    expectRefused(() => decodeAll(bytes), 'ERR_INVALID_SNAPSHOT', /checksum mismatch .*corrupt or truncated/);
    expectRefused(() => decodeAll(Buffer.concat([large, new Uint8Array(1)])), 'ERR_INVALID_SNAPSHOT', /checksum mismatch/);
  });

  it('every single-bit flip of the stored snapshot is refused', () => {
    // CRC-32 catches every single-bit error; the header before it says what it says.
    const bytes = small;
    for (let at = 0; at < bytes.byteLength; at++) {
      for (let bit = 0; bit < 8; bit++) {
        const flipped = bytes.slice();
        flipped[at] = (flipped[at] ?? 0) ^ (1 << bit);
        const error = refusal(() => decodeAll(flipped));
        expect(['ERR_INVALID_SNAPSHOT', 'ERR_SNAPSHOT_MISMATCH'], `byte ${at}, bit ${bit}`).toContain(error.code);
      }
    }
  });

  it.each(Object.entries(snapshots))('every byte of the %s snapshot inverted is refused', (_name, bytes) => {
    for (let at = 0; at < bytes.byteLength; at++) {
      const flipped = bytes.slice();
      flipped[at] = (flipped[at] ?? 0) ^ 0xff;
      const error = refusal(() => decodeAll(flipped));
      expect(['ERR_INVALID_SNAPSHOT', 'ERR_SNAPSHOT_MISMATCH'], `byte ${at}`).toContain(error.code);
    }
  });

  it.each(Object.entries(snapshots))('the %s snapshot truncated at every length', (_name, bytes) => {
    for (let length = 0; length < bytes.byteLength; length++) {
      expect(refusal(() => decodeAll(bytes.subarray(0, length))).code, `${length} bytes`).toBe('ERR_INVALID_SNAPSHOT');
    }
  });

  it('a snapshot of another module', () => {
    expectRefused(() => readSnapshotHeader(small, OTHER_MODULE), 'ERR_SNAPSHOT_MISMATCH', /taken of another module \(module digest [0-9a-f]{16}…, this pool runs [0-9a-f]{16}…\)/);
    expectRefused(() => decodeSnapshot(large, { ...identity, moduleDigest: OTHER_MODULE }, () => baselines.data), 'ERR_SNAPSHOT_MISMATCH', /another module/);
  });

  it('a snapshot taken against another baseline image', () => {
    const elsewhere = baselineOf(true, initialized, globals.map(() => 0));
    expectRefused(() => decodeSnapshot(large, identity, () => elsewhere), 'ERR_SNAPSHOT_MISMATCH', /taken against another post-_initialize image of this module \(digest [0-9a-f]+, here [0-9a-f]+\)/);
    const ofData = encodeSnapshot(live, { globals, host }, identity, baselines.data);
    expectRefused(() => decodeSnapshot(ofData, identity, () => elsewhere), 'ERR_SNAPSHOT_MISMATCH', /another initial image/);
    // The flag choosing the image is outside the checksum: flipped, it picks the other image, whose digest differs.
    const flipped = ofData.slice();
    flipped[Field.flags] = 1;
    expectRefused(() => decodeAll(flipped), 'ERR_SNAPSHOT_MISMATCH', /another post-_initialize image/);
  });

  it('a snapshot of a module without globals, taken against another baseline image', () => {
    const none: SnapshotIdentity = { moduleDigest: MODULE, globalTypes: [] };
    const bytes = encodeSnapshot(live, { globals: [], host }, none, baselineOf(false, data, []));
    expectRefused(() => decodeSnapshot(bytes, none, () => baselineOf(false, initialized, [])), 'ERR_SNAPSHOT_MISMATCH', /another initial image/);
  });

  it('a module with other globals', () => {
    expectRefused(() => decodeSnapshot(large, { ...identity, globalTypes: [...globalTypes, 'i32'] }, () => baselines.initialized), 'ERR_SNAPSHOT_MISMATCH', /holds 3 mutable globals, this module has 4/);
    expectRefused(() => decodeSnapshot(small, { ...identity, globalTypes: ['i32'] }, () => baselines.initialized), 'ERR_SNAPSHOT_MISMATCH', /holds 3 mutable globals, this module has 1/);
    expectRefused(() => decodeSnapshot(small, { ...identity, globalTypes: ['i32', 'i64', 'f32'] }, () => baselines.initialized), 'ERR_SNAPSHOT_MISMATCH', /global 2 is f64 in the snapshot, f32 in this module/);
  });
});

describe('forged snapshots (checksum fixed up)', () => {
  const identity: SnapshotIdentity = { moduleDigest: MODULE, globalTypes: ['i32', 'i64'] };
  const base = baselineOf(false, new Uint8Array(PAGE).fill(0x11, 0, 500), [1, 2n]);
  const host = randomHost(seeded(SEED + 7));
  const parts = (runs: readonly BodyRun[] = [{ first: 3, chunks: 2 }], more: Partial<BodyParts> = {}): BodyParts => ({
    globals: [{ type: 'i32', value: -7 }, { type: 'i64', value: 2n ** 62n }], host, chunks: PAGE / CHUNK, runs, ...more,
  });
  const forged = (header: Partial<ForgedHeader> = {}, body: Uint8Array = plainBody(parts())): Uint8Array =>
    forgeSnapshot({ moduleDigest: MODULE, baselineDigest: base.digest, pages: 1, ...header }, body);
  const decodeForged = (bytes: Uint8Array): DecodedSnapshot => decodeSnapshot(bytes, identity, () => base);
  const bodyLength = plainBody(parts()).byteLength;

  it('the forgery itself, unchanged, is a valid snapshot (stored and deflated)', () => {
    for (const codec of [0, 1]) {
      const decoded = decodeForged(forged({ codec }));
      expectSameValues(decoded.globals, [-7, 2n ** 62n]);
      expect(decoded.host).toStrictEqual(host);
      const memory = base.memory.slice();
      memory.fill(0xa5, 3 * CHUNK, 5 * CHUNK);
      expect(firstDifference(restored(decoded, base.memory), memory)).toBe(-1);
    }
  });

  it.each<[string, Partial<ForgedHeader>, RegExp]>([
    ['an unknown codec (2)', { codec: 2 }, /unknown codec 2/],
    ['an unknown codec (255)', { codec: 255 }, /unknown codec 255/],
    ['an unknown flag (bit 1)', { flags: 2 }, /unknown flags 2/],
    ['an unknown flag (bit 15) beside the known one', { flags: 0x8001 }, /unknown flags 8001/],
    ['more pages than a 32-bit memory holds', { pages: 65_537 }, /65537 pages of memory is more than a 32-bit memory holds/],
    ['the largest page count', { pages: 2 ** 32 - 1 }, /4294967295 pages/],
    ['a body larger than 1 page could need', { codec: 1, bodyBytes: 2 ** 32 - 1 }, /a body of 4294967295 bytes cannot belong to 1 pages of memory/],
    ['a body larger than 0 pages could need', { codec: 1, pages: 0, bodyBytes: 60_000_000 }, /a body of 60000000 bytes cannot belong to 0 pages/],
    ['a stored body longer than the header says', { codec: 0, bodyBytes: bodyLength - 1 }, new RegExp(`the stored body is ${bodyLength} bytes, the header says ${bodyLength - 1}`)],
    ['a stored body shorter than the header says', { codec: 0, bodyBytes: bodyLength + 1 }, new RegExp(`the stored body is ${bodyLength} bytes, the header says ${bodyLength + 1}`)],
    ['a deflated body shorter than the header says', { codec: 1, bodyBytes: bodyLength + 1 }, new RegExp(`the body holds ${bodyLength} bytes, the header says ${bodyLength + 1}`)],
    ['a deflated body longer than the header says', { codec: 1, bodyBytes: bodyLength - 1 }, /the body does not decompress/],
    ['a deflated body that is not deflate', { codec: 1, packed: new Uint8Array(100).fill(0xff) }, /the body does not decompress/],
    ['a deflated body cut short', { codec: 1, packed: deflateRawSync(plainBody(parts())).subarray(0, 20) }, /the body does not decompress/],
    ['an empty stored body', { codec: 0, bodyBytes: 0, packed: new Uint8Array(0) }, /the body ends early \(reading 4 bytes at 0 of 0\)/],
  ])('%s', (_name, header, why) => {
    expectRefused(() => decodeForged(forged(header)), 'ERR_INVALID_SNAPSHOT', why);
  });

  it('a decompression bomb is refused after inflating no more than the header says', () => {
    // 32 MiB of zeros deflate to some 32 KiB; the header claims a 2,000-byte body.
    const bomb = deflateRawSync(new Uint8Array(32 * 2 ** 20));
    expectRefused(() => decodeForged(forged({ codec: 1, bodyBytes: 2000, packed: bomb })), 'ERR_INVALID_SNAPSHOT', /the body does not decompress \(.*2000/);
  });

  it.each<[string, readonly BodyRun[]]>([
    ['out of order', [{ first: 10, chunks: 1 }, { first: 5, chunks: 1 }]],
    ['overlapping', [{ first: 3, chunks: 4 }, { first: 5, chunks: 1 }]],
    ['repeated', [{ first: 3, chunks: 1 }, { first: 3, chunks: 1 }]],
    ['of zero length', [{ first: 3, chunks: 0 }]],
    ['running past the end', [{ first: 1023, chunks: 2 }]],
    ['starting past the end', [{ first: 1024, chunks: 1 }]],
    ['of the largest length, no bytes following', [{ first: 0, chunks: 2 ** 32 - 1, bytes: new Uint8Array(0) }]],
    ['at the largest chunk, no bytes following', [{ first: 2 ** 32 - 1, chunks: 1, bytes: new Uint8Array(0) }]],
  ])('memory runs %s', (_name, runs) => {
    for (const codec of [0, 1]) {
      expectRefused(() => decodeForged(forged({ codec }, plainBody(parts(runs)))), 'ERR_INVALID_SNAPSHOT', /a memory run \(chunks \d+\+\d+\) is out of order or outside 1024 chunks/);
    }
  });

  it('a run whose bytes or header are cut short', () => {
    const missingBytes = plainBody(parts([{ first: 3, chunks: 2, bytes: new Uint8Array(CHUNK) }]));
    expectRefused(() => decodeForged(forged({}, missingBytes)), 'ERR_INVALID_SNAPSHOT', /the body ends early \(reading 128 bytes/);
    const halfHeader = Buffer.concat([plainBody(parts()), new Uint8Array([1, 0, 0, 0])]);
    expectRefused(() => decodeForged(forged({}, halfHeader)), 'ERR_INVALID_SNAPSHOT', /the body ends early \(reading 4 bytes/);
  });

  it('a body that ends inside the globals or the host state, at every length', () => {
    const body = plainBody(parts([]));
    for (let length = 0; length < body.byteLength; length++) {
      for (const codec of [0, 1]) {
        expectRefused(() => decodeForged(forged({ codec }, body.subarray(0, length))), 'ERR_INVALID_SNAPSHOT', /the body ends early/);
      }
    }
  });

  it.each([0, 1023, 1025, 2048, 2 ** 26, 2 ** 32 - 1])('a chunk count of %i for 1 page', (chunks) => {
    expectRefused(() => decodeForged(forged({}, plainBody(parts([], { chunks })))), 'ERR_INVALID_SNAPSHOT', new RegExp(`the body describes ${chunks} chunks of memory, the header 1 pages`));
  });

  it('tables: round trip, another count, a function no table can hold, sizes past the body', () => {
    const withTables: SnapshotIdentity = { ...identity, tables: { count: 2, functions: new Set([3, 7]) } };
    const decodeTables = (bytes: Uint8Array, id: SnapshotIdentity = withTables): DecodedSnapshot => decodeSnapshot(bytes, id, () => base);
    const tables = [[3, null, 7, 7], []];
    for (const codec of [0, 1]) expect(decodeTables(forged({ codec }, plainBody(parts(undefined, { tables })))).tables).toEqual(tables);
    // The encoder writes the same bytes as the documented layout.
    const memory = restored(decodeForged(forged()), base.memory);
    const encoded = encodeSnapshot(memory, { globals: [-7, 2n ** 62n], tables, host }, withTables, base);
    expect(plainBodyOf(encoded)).toEqual(plainBody(parts(undefined, { tables })));
    expect(() => encodeSnapshot(memory, { globals: [-7, 2n ** 62n], tables: [[3]], host }, withTables, base)).toThrow(/has 1 tables to hold, the module 2/);
    // A body without tables (as before tables were held) against a module whose tables change, and the reverse.
    expectRefused(() => decodeTables(forged()), 'ERR_SNAPSHOT_MISMATCH', /holds 0 tables, this module has 2 that change/);
    expectRefused(() => decodeForged(forged({}, plainBody(parts(undefined, { tables })))), 'ERR_SNAPSHOT_MISMATCH', /holds 2 tables, this module has 0 that change/);
    expectRefused(() => decodeTables(forged({}, plainBody(parts(undefined, { tables: [[3, 4], []] })))), 'ERR_INVALID_SNAPSHOT', /element 1 of table 0 is function 4, which is not one this module can put in a table/);
    const huge = plainBody(parts(undefined, { tables: [[], []] }));
    // The first table's size, right after the table count.
    new DataView(huge.buffer).setUint32(4 + 9 * 2 + 4, 2 ** 30, true);
    expectRefused(() => decodeTables(forged({}, huge)), 'ERR_INVALID_SNAPSHOT', /table 0 of 1073741824 elements does not fit in the body/);
  });

  it('globals of another count or type', () => {
    const globals = (...list: BodyGlobal[]): Uint8Array => plainBody(parts(undefined, { globals: list }));
    expectRefused(() => decodeForged(forged({}, globals({ type: 'i32', value: 1 }))), 'ERR_SNAPSHOT_MISMATCH', /holds 1 mutable globals, this module has 2/);
    const huge = plainBody(parts());
    new DataView(huge.buffer).setUint32(0, 2 ** 32 - 1, true);
    expectRefused(() => decodeForged(forged({}, huge)), 'ERR_SNAPSHOT_MISMATCH', /holds 4294967295 mutable globals/);
    expectRefused(() => decodeForged(forged({}, globals({ type: 'i32', value: 1 }, { type: 'f64', value: 2 }))), 'ERR_SNAPSHOT_MISMATCH', /global 1 is f64 in the snapshot, i64 in this module/);
    for (const type of [4, 0x80, 0xff]) {
      expectRefused(() => decodeForged(forged({}, globals({ type: 'i32', value: 1 }, { type, raw: 2n }))), 'ERR_SNAPSHOT_MISMATCH', /global 1 is of an unknown type in the snapshot, i64 in this module/);
    }
  });

  it('seeded fuzz: random changes with the checksum fixed up are decoded or refused, never anything else', () => {
    const random = seeded(SEED + 8);
    const fuzzIdentity: SnapshotIdentity = { moduleDigest: MODULE, globalTypes: ['i32', 'f64', 'i64'], tables: { count: 1, functions: new Set([2, 5]) } };
    const tables = [[2, null, 5, 2]];
    const { data, initialized, live } = randomImages(random);
    const globals = fuzzIdentity.globalTypes.map((type) => randomGlobal(random, type));
    const baselines = { initialized: baselineOf(true, initialized, globals, patchFrom(data, initialized)), data: baselineOf(false, data, globals, []) };
    const sparse = grown(initialized, initialized.byteLength / PAGE);
    sparse[100] = 1;
    const seeds = [
      encodeSnapshot(sparse, { globals, tables, host: randomHost(random) }, fuzzIdentity, baselines.initialized),
      encodeSnapshot(live, { globals, tables, host: randomHost(random) }, fuzzIdentity, baselines.initialized),
      encodeSnapshot(live, { globals, tables, host: randomHost(random) }, fuzzIdentity, baselines.data),
    ];
    const interesting = [0, 1, 2, 3, 4, 63, 64, 1023, 1024, 1025, 65_535, 65_536, 65_537, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1];
    const outcomes = { decoded: 0, ERR_INVALID_SNAPSHOT: 0, ERR_SNAPSHOT_MISMATCH: 0 };

    /** One random change to `seed`, the checksum fixed up. */
    function mutant(seed: Uint8Array): Uint8Array {
      const kind = random();
      if (kind < 0.35) {
        // Random bytes anywhere, half the time in the header.
        const bytes = seed.slice();
        for (let n = 1 + below(random, 4); n > 0; n--) bytes[random() < 0.5 ? below(random, HEADER_BYTES) : below(random, bytes.byteLength)] = below(random, 256);
        return withCrc(bytes);
      }
      if (kind < 0.55) {
        // One header field set to an edge value.
        const value = random() < 0.8 ? pick(random, interesting) : u32(random);
        const [at, size] = pick(random, [[Field.pages, 4], [Field.bodyBytes, 4], [Field.baselineDigest, 4], [Field.codec, 1], [Field.flags, 2], [Field.version, 2]] as const);
        if (size === 4) return withU32(seed, at, value);
        const bytes = seed.slice();
        if (size === 2) new DataView(bytes.buffer).setUint16(at, value & 0xffff, true);
        else bytes[at] = value & 0xff;
        return withCrc(bytes);
      }
      // The plain body changed, then packed again: its structure gets fuzzed, not just deflate's.
      const body = plainBodyOf(seed);
      const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
      let changed: Uint8Array = body;
      const how = random();
      if (how < 0.4) {
        for (let n = 1 + below(random, 3); n > 0; n--) view.setUint32(below(random, body.byteLength - 3), random() < 0.8 ? pick(random, interesting) : u32(random), true);
      } else if (how < 0.7) {
        for (let n = 1 + below(random, 4); n > 0; n--) body[below(random, body.byteLength)] = below(random, 256);
      } else if (how < 0.85) {
        changed = body.subarray(0, below(random, body.byteLength));
      } else {
        changed = Buffer.concat([body, randomBytes(random, 1 + below(random, 80))]);
      }
      const { pages, initializedBaseline, baselineDigest: digest } = readSnapshotHeader(seed, MODULE);
      const codec = random() < 0.5 ? 0 : 1;
      const bodyBytes = changed.byteLength + (random() < 0.8 ? 0 : below(random, 3) - 1);
      return forgeSnapshot({ flags: initializedBaseline ? 1 : 0, moduleDigest: MODULE, baselineDigest: digest, pages, codec, bodyBytes }, changed);
    }

    for (let i = 0; i < 2000; i++) {
      const bytes = mutant(pick(random, seeds));
      let decoded: DecodedSnapshot;
      try {
        decoded = decode(bytes, fuzzIdentity, baselines);
      } catch (error) {
        if (!(error instanceof InvalidSnapshotError || error instanceof SnapshotMismatchError)) throw new Error(`iteration ${i}: ${String(error)}`, { cause: error });
        outcomes[error instanceof InvalidSnapshotError ? 'ERR_INVALID_SNAPSHOT' : 'ERR_SNAPSHOT_MISMATCH']++;
        continue;
      }
      outcomes.decoded++;
      expect(decoded.globals, `iteration ${i}`).toHaveLength(3);
      expect(decoded.tables, `iteration ${i}`).toHaveLength(1);
      for (const element of decoded.tables[0] ?? []) expect([null, 2, 5], `iteration ${i}`).toContain(element);
      expect(decoded.host.stdio).toHaveLength(3);
      if (decoded.pages <= 8) restored(decoded, data);
    }
    // Each outcome happened often enough for the loop to have tested something.
    expect(outcomes.decoded).toBeGreaterThan(100);
    expect(outcomes.ERR_INVALID_SNAPSHOT).toBeGreaterThan(100);
    expect(outcomes.ERR_SNAPSHOT_MISMATCH).toBeGreaterThan(20);
  });
});
