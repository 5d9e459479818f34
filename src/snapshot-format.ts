// The session snapshot format: an instance's linear memory (as the chunks that differ from a baseline
// image every process can rebuild), its mutable globals, its tables (when code can change them) and
// its host-side state, compressed, checksummed
// and tied to the module's digest. Read by the main thread (to refuse bad bytes before anything runs)
// and by workers (which take and restore snapshots). RATIONALE.md "Snapshots" explains the choices.

import { types } from 'node:util';
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';
import { InvalidSnapshotError, SnapshotMismatchError, describeValue } from './errors.js';

/*
 * Layout, little-endian:
 *   0  4  magic "RPSS"
 *   4  2  format version (1)
 *   6  2  flags: bit 0 = the baseline is the post-`_initialize` image (else the module's data segments alone)
 *   8  4  CRC-32 of every byte after this field
 *  12 32  SHA-256 of the module's bytes
 *  44  4  baseline digest (CRC-32 of the baseline's memory and globals)
 *  48  4  linear memory size, in 64 KiB pages
 *  52  1  codec: 0 = stored (bodies up to 1 KiB), 1 = raw deflate
 *  53  3  zero
 *  56  4  body length before compression
 *  60     body, compressed:
 *           u32 global count, then per global: u8 type (0 i32, 1 i64, 2 f32, 3 f64), 8 bytes of value
 *           u32 table count (0 when the module's code cannot change its tables), then per table:
 *               u32 size, then per element: u32 function index (0xffffffff: null)
 *           host state: u64 monotonic clock (ns), i64 stack top (-1: none), u32 scratch, u32 scratch size,
 *                       per stdio fd 0-2: u8 open, u16 fdflags, u64 rights; u32 stdin bytes read
 *           memory: u32 chunk count, then runs of chunks that differ from the baseline:
 *                   u32 first chunk, u32 chunks, then their bytes ({@link CHUNK} each)
 */

export const SNAPSHOT_FORMAT_VERSION = 1;
const MAGIC = 0x53535052; // "RPSS" read as a little-endian u32
const HEADER_BYTES = 60;
const CODEC_STORED = 0;
const CODEC_DEFLATE = 1;
/** Bodies up to this many bytes are stored uncompressed. */
const STORE_UP_TO = 1024;
const FLAG_INITIALIZED = 1;
export const PAGE = 65_536;
/** Memory is compared with the baseline in chunks of this many bytes (the unit of a snapshot's runs)... */
const CHUNK = 64;
/** ...after a first pass over blocks of this many (a multiple of CHUNK that divides a page). */
const SCAN = 1024;
/** Pages a 32-bit memory holds at most. */
export const MAX_PAGES = 65_536;
const DIGEST_BYTES = 32;
const GLOBAL_TYPES = ['i32', 'i64', 'f32', 'f64'] as const;
/** A null table element. */
const NULL_ELEMENT = 0xffff_ffff;
/** The most table elements a snapshot holds, all tables together (V8's limit on one table's size). */
export const MAX_TABLE_ELEMENTS = 10_000_000;

/** A global a snapshot can hold. */
export type SnapshotGlobalType = (typeof GLOBAL_TYPES)[number];

/** What an instance holds outside its linear memory and globals: the pool's own state for it. */
export interface InstanceHostState {
  /** The instance's monotonic clock when the snapshot was taken, in ns (it continues from there). */
  readonly monotonicNs: bigint;
  /** The stack pointer's value between calls (put back after a kept trap), if the pool found one. */
  readonly stackTop: number | undefined;
  /** The `cabi_realloc` scratch buffer: guest address and size (0, 0: none yet). */
  readonly scratch: number;
  readonly scratchSize: number;
  /** Virtual fds 0-2 as the guest left them. */
  readonly stdio: readonly { readonly open: boolean; readonly fdflags: number; readonly rights: bigint }[];
  /** Bytes of the configured stdin already read. */
  readonly stdinRead: number;
}

/** A table's contents: each element's function index, or null. */
export type TableContents = readonly (number | null)[];

/** A whole instance state, as taken from a live instance or read from a snapshot. */
export interface InstanceState {
  readonly globals: readonly (number | bigint)[];
  /** Every table, in index order, when code can change them (see {@link SnapshotIdentity.tables}); absent: none. */
  readonly tables?: readonly TableContents[];
  readonly host: InstanceHostState;
}

/** The image memory deltas are taken against; every process rebuilds the same one from the module. */
export interface SnapshotBaseline {
  /** The post-`_initialize` image (true) or the data segments alone (false). */
  readonly initialized: boolean;
  readonly memory: Uint8Array;
  /** CRC-32 of the memory and globals: a restore needs a baseline with the same digest. */
  readonly digest: number;
  /**
   * What turns a fresh instance's memory into this image (see {@link patchFrom}); when absent, a
   * restore copies the whole image.
   */
  readonly patch?: readonly (readonly [at: number, bytes: Uint8Array])[];
}

/** Which module (and globals) a snapshot belongs to. */
export interface SnapshotIdentity {
  /** SHA-256 of the module's bytes. */
  readonly moduleDigest: Uint8Array;
  /** The types of the module's mutable globals, in index order. */
  readonly globalTypes: readonly SnapshotGlobalType[];
  /**
   * When code can change the module's tables: how many it has, and the functions they can hold (by
   * function index). Absent: its tables never change, and snapshots hold none.
   */
  readonly tables?: { readonly count: number; readonly functions: ReadonlySet<number> };
  /**
   * Pages of memory a snapshot may hold here: the module's maximum, and the pool's memoryLimit. A
   * snapshot past it is refused from its header, before its body is decompressed.
   */
  readonly maxPages?: number;
}

/** What the fixed header says, checked. */
export interface SnapshotHeader {
  readonly version: number;
  readonly initializedBaseline: boolean;
  readonly baselineDigest: number;
  readonly pages: number;
  readonly bodyBytes: number;
  /** The body is stored uncompressed. */
  readonly stored: boolean;
}

/** A decoded snapshot: its state, and its memory to write into a fresh instance. */
export interface DecodedSnapshot extends InstanceState {
  readonly tables: readonly TableContents[];
  readonly pages: number;
  /** Writes the snapshot's memory into `target` (a fresh instance's memory, grown to `pages`). */
  writeMemory(target: Uint8Array): void;
}

/** The digest of a baseline image (its memory and globals). */
export function baselineDigest(memory: Uint8Array, globals: readonly (number | bigint)[]): number {
  const values = new DataView(new ArrayBuffer(globals.length * 8));
  globals.forEach((value, i) => {
    if (typeof value === 'bigint') values.setBigInt64(i * 8, value, true);
    else values.setFloat64(i * 8, value, true);
  });
  const ofMemory = crc32(memory);
  // zlib's crc32 of a buffer with no backing store (an empty ArrayBuffer's) is 0, not the running value:
  // with no globals, every memory would get digest 0.
  return globals.length === 0 ? ofMemory : crc32(new Uint8Array(values.buffer), ofMemory);
}

const invalid = (why: string): InvalidSnapshotError => new InvalidSnapshotError(`invalid snapshot: ${why}`);
const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex').slice(0, 16);

/**
 * Reads and checks the header of `bytes`: magic, version, checksum, and that it belongs to the module
 * with `moduleDigest`. Throws `ERR_INVALID_SNAPSHOT` or `ERR_SNAPSHOT_MISMATCH` with the reason.
 */
export function readSnapshotHeader(bytes: unknown, moduleDigest: Uint8Array): SnapshotHeader {
  // A brand check, not `instanceof`: an object that merely inherits from Uint8Array.prototype has no bytes.
  if (!types.isUint8Array(bytes)) throw invalid(`expected a Uint8Array, got ${describeValue(bytes)}`);
  if (bytes.byteLength < HEADER_BYTES) throw invalid(`${bytes.byteLength} bytes is shorter than a snapshot's ${HEADER_BYTES}-byte header (truncated?)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw invalid('it does not start with "RPSS" (not a reactor-pool snapshot)');
  const version = view.getUint16(4, true);
  if (version !== SNAPSHOT_FORMAT_VERSION) {
    throw invalid(`format version ${version}; this version of reactor-pool reads version ${SNAPSHOT_FORMAT_VERSION}`);
  }
  const stored = view.getUint32(8, true);
  const actual = crc32(bytes.subarray(12));
  if (stored !== actual) throw invalid(`checksum mismatch (stored ${stored.toString(16)}, computed ${actual.toString(16)}): the bytes are corrupt or truncated`);
  const digest = bytes.subarray(12, 12 + DIGEST_BYTES);
  if (!digest.every((b, i) => b === moduleDigest[i])) {
    throw new SnapshotMismatchError(`the snapshot was taken of another module (module digest ${hex(digest)}…, this pool runs ${hex(moduleDigest)}…)`);
  }
  const flags = view.getUint16(6, true);
  const pages = view.getUint32(48, true);
  const codec = view.getUint8(52);
  const bodyBytes = view.getUint32(56, true);
  if ((flags & ~FLAG_INITIALIZED) !== 0) throw invalid(`unknown flags ${flags.toString(16)}`);
  if (codec !== CODEC_DEFLATE && codec !== CODEC_STORED) throw invalid(`unknown codec ${codec}`);
  if (view.getUint8(53) !== 0 || view.getUint16(54, true) !== 0) throw invalid('the reserved header bytes 53-55 are not zero');
  if (pages > MAX_PAGES) throw invalid(`${pages} pages of memory is more than a 32-bit memory holds`);
  if (bodyBytes > maxBodyBytes(pages)) throw invalid(`a body of ${bodyBytes} bytes cannot belong to ${pages} pages of memory`);
  if (codec === CODEC_STORED && bodyBytes !== bytes.byteLength - HEADER_BYTES) {
    throw invalid(`the stored body is ${bytes.byteLength - HEADER_BYTES} bytes, the header says ${bodyBytes}`);
  }
  return { version, initializedBaseline: (flags & FLAG_INITIALIZED) !== 0, baselineDigest: view.getUint32(44, true), pages, bodyBytes, stored: codec === CODEC_STORED };
}

/** The most a body can hold for `pages` of memory: every chunk changed, one run each, globals and host state aside. */
function maxBodyBytes(pages: number): number {
  const chunks = (pages * PAGE) / CHUNK;
  return 4 + chunks * (CHUNK + 8) + 4 + 9 * 1_000_000 + 4 * MAX_TABLE_ELEMENTS + 4 * 100_000 + 128;
}

/** Appends little-endian values to a growing buffer. */
class Writer {
  #bytes = new Uint8Array(4096);
  #view = new DataView(this.#bytes.buffer);
  length = 0;

  #room(n: number): number {
    const at = this.length;
    if (at + n > this.#bytes.byteLength) {
      const bigger = new Uint8Array(Math.max(this.#bytes.byteLength * 2, at + n));
      bigger.set(this.#bytes.subarray(0, at));
      this.#bytes = bigger;
      this.#view = new DataView(bigger.buffer);
    }
    this.length = at + n;
    return at;
  }

  // Room first, then the (possibly new) buffer: `this.#view.set…(this.#room(n))` would write to the old one.
  u8(value: number): void { const at = this.#room(1); this.#view.setUint8(at, value); }
  u16(value: number): void { const at = this.#room(2); this.#view.setUint16(at, value, true); }
  u32(value: number): void { const at = this.#room(4); this.#view.setUint32(at, value, true); }
  i64(value: bigint): void { const at = this.#room(8); this.#view.setBigInt64(at, value, true); }
  u64(value: bigint): void { const at = this.#room(8); this.#view.setBigUint64(at, value, true); }
  f32(value: number): void { const at = this.#room(4); this.#view.setFloat32(at, value, true); }
  f64(value: number): void { const at = this.#room(8); this.#view.setFloat64(at, value, true); }
  i32(value: number): void { const at = this.#room(4); this.#view.setInt32(at, value, true); }
  bytes(value: Uint8Array): void { const at = this.#room(value.byteLength); this.#bytes.set(value, at); }
  done(): Uint8Array { return this.#bytes.subarray(0, this.length); }
}

/** Reads little-endian values, refusing to read past the end. */
class Reader {
  readonly #view: DataView;
  readonly #bytes: Uint8Array;
  pos = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  #take(n: number): number {
    const at = this.pos;
    if (at + n > this.#bytes.byteLength) throw invalid(`the body ends early (reading ${n} bytes at ${at} of ${this.#bytes.byteLength})`);
    this.pos = at + n;
    return at;
  }

  u8(): number { return this.#view.getUint8(this.#take(1)); }
  u16(): number { return this.#view.getUint16(this.#take(2), true); }
  u32(): number { return this.#view.getUint32(this.#take(4), true); }
  i64(): bigint { return this.#view.getBigInt64(this.#take(8), true); }
  u64(): bigint { return this.#view.getBigUint64(this.#take(8), true); }
  bytes(n: number): Uint8Array { const at = this.#take(n); return this.#bytes.subarray(at, at + n); }
  get left(): number { return this.#bytes.byteLength - this.pos; }
}

/** A block of zeros, to compare grown memory with. */
const ZEROS = Buffer.alloc(SCAN);

/** A Buffer view of `bytes` (no copy): its `compare` takes ranges, so no view is made per comparison. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Whether `length` bytes at `from` of `memory` equal those of `base` (zeros past its end). */
function same(memory: Buffer, base: Buffer, from: number, length: number): boolean {
  if (from + length <= base.byteLength) return base.compare(memory, from, from + length, from, from + length) === 0;
  // Past the baseline (memory grown since): compared with zeros, natively too.
  if (from >= base.byteLength && length <= ZEROS.byteLength) return ZEROS.compare(memory, from, from + length, 0, length) === 0;
  for (let i = 0; i < length; i++) {
    if (memory[from + i] !== (from + i < base.byteLength ? base[from + i] : 0)) return false;
  }
  return true;
}

/**
 * The runs of whole chunks where `memory` differs from `base` (zeros past its end), as [byte offset,
 * chunk count]: scanned {@link SCAN} bytes at a time, then each differing block chunk by chunk.
 */
export function differingRuns(memoryBytes: Uint8Array, baseBytes: Uint8Array): [at: number, chunks: number][] {
  const memory = asBuffer(memoryBytes);
  const base = asBuffer(baseBytes);
  const runs: [number, number][] = [];
  let open: [number, number] | undefined;
  for (let block = 0; block < memory.byteLength; block += SCAN) {
    if (same(memory, base, block, SCAN)) {
      open = undefined;
      continue;
    }
    for (let at = block; at < block + SCAN; at += CHUNK) {
      if (same(memory, base, at, CHUNK)) {
        open = undefined;
      } else if (open !== undefined && open[0] + open[1] * CHUNK === at) {
        open[1]++;
      } else {
        open = [at, 1];
        runs.push(open);
      }
    }
  }
  return runs;
}

/**
 * The writes that turn a fresh instance's memory (`fresh`, its data segments) into `baseline`: what a
 * restore writes before the snapshot's own chunks, instead of copying the whole baseline.
 */
export function patchFrom(fresh: Uint8Array, baseline: Uint8Array): readonly [at: number, bytes: Uint8Array][] {
  return differingRuns(baseline, fresh).map(([at, chunks]) => [at, baseline.slice(at, at + chunks * CHUNK)]);
}

/**
 * Encodes an instance's state: `memory` is its whole linear memory (a multiple of 64 KiB), compared
 * chunk by chunk with `baseline`; only differing chunks are kept, then the body is compressed.
 */
export function encodeSnapshot(memory: Uint8Array, state: InstanceState, identity: SnapshotIdentity, baseline: SnapshotBaseline): Uint8Array {
  const body = new Writer();
  const { globalTypes } = identity;
  body.u32(globalTypes.length);
  globalTypes.forEach((type, i) => {
    const value = state.globals[i];
    body.u8(GLOBAL_TYPES.indexOf(type));
    if (type === 'i64') {
      body.i64(value as bigint);
    } else if (type === 'i32') {
      body.i32(value as number);
      body.u32(0);
    } else if (type === 'f32') {
      body.f32(value as number);
      body.u32(0);
    } else {
      body.f64(value as number);
    }
  });
  writeTables(body, state.tables ?? [], identity);
  const { host } = state;
  body.u64(host.monotonicNs);
  body.i64(host.stackTop === undefined ? -1n : BigInt(host.stackTop));
  body.u32(host.scratch);
  body.u32(host.scratchSize);
  for (let fd = 0; fd < 3; fd++) {
    const io = host.stdio[fd];
    body.u8(io?.open === true ? 1 : 0);
    body.u16(io?.fdflags ?? 0);
    body.u64(io?.rights ?? 0n);
  }
  body.u32(host.stdinRead);
  body.u32(memory.byteLength / CHUNK);
  for (const [at, chunks] of differingRuns(memory, baseline.memory)) {
    body.u32(at / CHUNK);
    body.u32(chunks);
    body.bytes(memory.subarray(at, at + chunks * CHUNK));
  }
  const plain = body.done();
  // A small body is stored as it is: inflating costs a restore more than its few bytes cost the store.
  const codec = plain.byteLength <= STORE_UP_TO ? CODEC_STORED : CODEC_DEFLATE;
  const packed = codec === CODEC_STORED ? plain : deflateRawSync(plain, { level: 1 });
  const out = new Uint8Array(HEADER_BYTES + packed.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint16(4, SNAPSHOT_FORMAT_VERSION, true);
  view.setUint16(6, baseline.initialized ? FLAG_INITIALIZED : 0, true);
  out.set(identity.moduleDigest.subarray(0, DIGEST_BYTES), 12);
  view.setUint32(44, baseline.digest, true);
  view.setUint32(48, memory.byteLength / PAGE, true);
  view.setUint8(52, codec);
  view.setUint32(56, plain.byteLength, true);
  out.set(packed, HEADER_BYTES);
  view.setUint32(8, crc32(out.subarray(12)), true);
  return out;
}

/** The tables part of a body; throws (a plain Error: the snapshot cannot be taken) on a state the identity does not describe. */
function writeTables(body: Writer, tables: readonly TableContents[], identity: SnapshotIdentity): void {
  const count = identity.tables?.count ?? 0;
  if (tables.length !== count) throw new Error(`the instance has ${tables.length} tables to hold, the module ${count}`);
  if (tables.reduce((sum, t) => sum + t.length, 0) > MAX_TABLE_ELEMENTS) throw new Error(`its tables hold more than ${MAX_TABLE_ELEMENTS} elements`);
  body.u32(count);
  for (const table of tables) {
    body.u32(table.length);
    for (const element of table) body.u32(element ?? NULL_ELEMENT);
  }
}

/** Reads the tables part of a body, checked against the module's tables and the functions they can hold. */
function readTables(r: Reader, identity: SnapshotIdentity): TableContents[] {
  const count = r.u32();
  const expected = identity.tables?.count ?? 0;
  if (count !== expected) throw new SnapshotMismatchError(`the snapshot holds ${count} tables, this module has ${expected} that change`);
  const functions = identity.tables?.functions ?? new Set<number>();
  const tables: TableContents[] = [];
  let total = 0;
  for (let t = 0; t < count; t++) {
    const size = r.u32();
    total += size;
    if (total > MAX_TABLE_ELEMENTS || size * 4 > r.left) throw invalid(`table ${t} of ${size} elements does not fit in the body (or past ${MAX_TABLE_ELEMENTS} elements in all)`);
    const elements: (number | null)[] = new Array<number | null>(size);
    for (let i = 0; i < size; i++) {
      const element = r.u32();
      if (element !== NULL_ELEMENT && !functions.has(element)) {
        throw invalid(`element ${i} of table ${t} is function ${element}, which is not one this module can put in a table`);
      }
      elements[i] = element === NULL_ELEMENT ? null : element;
    }
    tables.push(elements);
  }
  return tables;
}

/**
 * Decodes `bytes` (checked as {@link readSnapshotHeader} does) against this process's `baseline`,
 * which must be of the kind and digest the snapshot was taken against.
 */
export function decodeSnapshot(bytes: Uint8Array, identity: SnapshotIdentity, baseline: (initialized: boolean) => SnapshotBaseline): DecodedSnapshot {
  const header = readSnapshotHeader(bytes, identity.moduleDigest);
  if (identity.maxPages !== undefined && header.pages > identity.maxPages) {
    throw invalid(`its memory of ${header.pages} pages is more than ${identity.maxPages}, the most this pool lets an instance hold`);
  }
  const base = baseline(header.initializedBaseline);
  if (base.digest !== header.baselineDigest) {
    throw new SnapshotMismatchError(
      `the snapshot was taken against another ${header.initializedBaseline ? 'post-_initialize' : 'initial'} image of this module (digest ${header.baselineDigest.toString(16)}, here ${base.digest.toString(16)}): the pool's WASI configuration (args, env, stdin) differs from the one that took it`,
    );
  }
  let plain = bytes.subarray(HEADER_BYTES);
  if (!header.stored) {
    try {
      plain = inflateRawSync(plain, { maxOutputLength: Math.max(1, header.bodyBytes) });
    } catch (error) {
      throw invalid(`the body does not decompress (${(error as Error).message})`);
    }
  }
  if (plain.byteLength !== header.bodyBytes) throw invalid(`the body holds ${plain.byteLength} bytes, the header says ${header.bodyBytes}`);
  const r = new Reader(plain);
  const count = r.u32();
  if (count !== identity.globalTypes.length) {
    throw new SnapshotMismatchError(`the snapshot holds ${count} mutable globals, this module has ${identity.globalTypes.length}`);
  }
  const globals: (number | bigint)[] = [];
  for (let i = 0; i < count; i++) {
    const type = GLOBAL_TYPES[r.u8()];
    if (type !== identity.globalTypes[i]) throw new SnapshotMismatchError(`global ${i} is ${type ?? 'of an unknown type'} in the snapshot, ${identity.globalTypes[i]} in this module`);
    const raw = r.bytes(8);
    const view = new DataView(raw.buffer, raw.byteOffset, 8);
    globals.push(type === 'i64' ? view.getBigInt64(0, true) : type === 'i32' ? view.getInt32(0, true) : type === 'f32' ? view.getFloat32(0, true) : view.getFloat64(0, true));
  }
  const tables = readTables(r, identity);
  const monotonicNs = r.u64();
  const stack = r.i64();
  if (stack > 0xffff_ffffn) throw invalid(`the stack top ${stack} is not a 32-bit value`);
  const scratch = r.u32();
  const scratchSize = r.u32();
  const stdio = [0, 1, 2].map(() => ({ open: r.u8() === 1, fdflags: r.u16(), rights: r.u64() }));
  const stdinRead = r.u32();
  const chunks = r.u32();
  if (chunks * CHUNK !== header.pages * PAGE) throw invalid(`the body describes ${chunks} chunks of memory, the header ${header.pages} pages`);
  const runs: [number, Uint8Array][] = [];
  let next = 0;
  while (r.left > 0) {
    const first = r.u32();
    const length = r.u32();
    if (first < next || length === 0 || first + length > chunks) throw invalid(`a memory run (chunks ${first}+${length}) is out of order or outside ${chunks} chunks`);
    runs.push([first * CHUNK, r.bytes(length * CHUNK)]);
    next = first + length;
  }
  const host: InstanceHostState = {
    monotonicNs, stackTop: stack < 0n ? undefined : Number(stack), scratch, scratchSize, stdio, stdinRead,
  };
  return {
    pages: header.pages,
    globals,
    tables,
    host,
    writeMemory(target: Uint8Array): void {
      const size = header.pages * PAGE;
      // Past the baseline a fresh instance's memory is zero already (grown pages are).
      if (base.patch === undefined) target.set(base.memory.subarray(0, Math.min(size, base.memory.byteLength)));
      else for (const [at, run] of base.patch) if (at < size) target.set(run.subarray(0, size - at), at);
      for (const [at, run] of runs) target.set(run, at);
    },
  };
}
