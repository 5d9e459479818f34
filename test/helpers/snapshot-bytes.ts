// Snapshot bytes built by hand from the layout documented at the top of src/snapshot-format.ts, as a
// forger would: any header fields, any body, packed either way, with the CRC-32 recomputed to match.

import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';
import type { InstanceHostState } from '../../dist/src/snapshot-format.js';

export const HEADER_BYTES = 60;
export const CHUNK = 64;
export const PAGE = 65_536;
export const MAGIC = 0x53535052;

/** Where each header field starts. */
export const Field = { magic: 0, version: 4, flags: 6, crc: 8, moduleDigest: 12, baselineDigest: 44, pages: 48, codec: 52, bodyBytes: 56 } as const;

const viewOf = (bytes: Uint8Array): DataView => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** A copy of `bytes` whose checksum (CRC-32 of every byte from offset 12, little-endian at 8) matches again. */
export function withCrc(bytes: Uint8Array): Uint8Array {
  const copy = bytes.slice();
  viewOf(copy).setUint32(Field.crc, crc32(copy.subarray(Field.moduleDigest)), true);
  return copy;
}

/** A copy of `bytes` with the u32 at `at` set to `value` and the checksum fixed up. */
export function withU32(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const copy = bytes.slice();
  viewOf(copy).setUint32(at, value, true);
  return withCrc(copy);
}

/** The body of a valid snapshot, unpacked. */
export function plainBodyOf(bytes: Uint8Array): Uint8Array {
  const packed = bytes.subarray(HEADER_BYTES);
  return bytes[Field.codec] === 0 ? packed.slice() : new Uint8Array(inflateRawSync(packed));
}

/** Appends little-endian values. */
export class BodyWriter {
  readonly #parts: Uint8Array[] = [];

  #put(size: number, write: (view: DataView) => void): this {
    const part = new Uint8Array(size);
    write(viewOf(part));
    this.#parts.push(part);
    return this;
  }

  u8(value: number): this { return this.#put(1, (v) => v.setUint8(0, value)); }
  u16(value: number): this { return this.#put(2, (v) => v.setUint16(0, value, true)); }
  u32(value: number): this { return this.#put(4, (v) => v.setUint32(0, value, true)); }
  i32(value: number): this { return this.#put(4, (v) => v.setInt32(0, value, true)); }
  u64(value: bigint): this { return this.#put(8, (v) => v.setBigUint64(0, value, true)); }
  i64(value: bigint): this { return this.#put(8, (v) => v.setBigInt64(0, value, true)); }
  f32(value: number): this { return this.#put(4, (v) => v.setFloat32(0, value, true)); }
  f64(value: number): this { return this.#put(8, (v) => v.setFloat64(0, value, true)); }
  bytes(value: Uint8Array): this { this.#parts.push(value.slice()); return this; }
  /** A plain Uint8Array of its own (not a view into Buffer's shared pool). */
  done(): Uint8Array { return new Uint8Array(Buffer.concat(this.#parts)); }
}

/** A global as the body holds it: a type byte (0 i32, 1 i64, 2 f32, 3 f64; others are forged) and 8 value bytes. */
export type BodyGlobal =
  | { readonly type: 'i32' | 'f32' | 'f64'; readonly value: number }
  | { readonly type: 'i64'; readonly value: bigint }
  | { readonly type: number; readonly raw: bigint };

/** A run of changed chunks: its first chunk, its chunk count, and bytes (default: count × 64 bytes of `fill`). */
export interface BodyRun { readonly first: number; readonly chunks: number; readonly bytes?: Uint8Array; readonly fill?: number }

export interface BodyParts {
  readonly globals: readonly BodyGlobal[];
  /** Each table's elements: a function index, or null (written 0xffffffff). Default: no tables. */
  readonly tables?: readonly (readonly (number | null)[])[];
  readonly host: InstanceHostState;
  /** The memory's size in chunks. */
  readonly chunks: number;
  readonly runs: readonly BodyRun[];
}

/** A body laid out as documented: globals, tables, host state, then the memory's runs. */
export function plainBody(parts: BodyParts): Uint8Array {
  const w = new BodyWriter().u32(parts.globals.length);
  for (const global of parts.globals) {
    if ('raw' in global) w.u8(global.type).u64(global.raw);
    else if (global.type === 'i32') w.u8(0).i32(global.value).u32(0);
    else if (global.type === 'i64') w.u8(1).i64(global.value);
    else if (global.type === 'f32') w.u8(2).f32(global.value).u32(0);
    else w.u8(3).f64(global.value);
  }
  const tables = parts.tables ?? [];
  w.u32(tables.length);
  for (const table of tables) {
    w.u32(table.length);
    for (const element of table) w.u32(element ?? 0xffff_ffff);
  }
  const { host } = parts;
  w.u64(host.monotonicNs).i64(host.stackTop === undefined ? -1n : BigInt(host.stackTop)).u32(host.scratch).u32(host.scratchSize);
  for (let fd = 0; fd < 3; fd++) {
    const io = host.stdio[fd];
    w.u8(io?.open === true ? 1 : 0).u16(io?.fdflags ?? 0).u64(io?.rights ?? 0n);
  }
  w.u32(host.stdinRead).u32(parts.chunks);
  for (const run of parts.runs) {
    w.u32(run.first).u32(run.chunks).bytes(run.bytes ?? new Uint8Array(run.chunks * CHUNK).fill(run.fill ?? 0xa5));
  }
  return w.done();
}

/** The header fields of a forged snapshot; all but the identities default to what a valid one holds. */
export interface ForgedHeader {
  readonly magic?: number;
  readonly version?: number;
  readonly flags?: number;
  readonly moduleDigest: Uint8Array;
  readonly baselineDigest: number;
  readonly pages: number;
  /** Default: 0 (stored) for bodies up to 1 KiB, else 1 (raw deflate), as the encoder chooses. */
  readonly codec?: number;
  /** Default: the plain body's length. */
  readonly bodyBytes?: number;
  /** The bytes after the header. Default: the body, deflated when the codec is 1. */
  readonly packed?: Uint8Array;
}

/** Snapshot bytes with these header fields and this plain `body`, the checksum computed over them. */
export function forgeSnapshot(header: ForgedHeader, body: Uint8Array): Uint8Array {
  const codec = header.codec ?? (body.byteLength <= 1024 ? 0 : 1);
  const packed = header.packed ?? (codec === 1 ? deflateRawSync(body) : body);
  const out = new Uint8Array(HEADER_BYTES + packed.byteLength);
  const view = viewOf(out);
  view.setUint32(Field.magic, header.magic ?? MAGIC, true);
  view.setUint16(Field.version, header.version ?? 1, true);
  view.setUint16(Field.flags, header.flags ?? 0, true);
  out.set(header.moduleDigest.subarray(0, 32), Field.moduleDigest);
  view.setUint32(Field.baselineDigest, header.baselineDigest, true);
  view.setUint32(Field.pages, header.pages, true);
  view.setUint8(Field.codec, codec);
  view.setUint32(Field.bodyBytes, header.bodyBytes ?? body.byteLength, true);
  out.set(packed, HEADER_BYTES);
  return withCrc(out);
}
