// A durable session's snapshot file: the session's snapshot (opaque here) with what recovery needs
// beside it: whose it is, the last journal record it covers, and its remembered idempotency outcomes.

import { crc32 } from 'node:zlib';
import { DurableStoreError } from './errors.js';
import { ByteReader, ByteWriter } from './journal-record.js';

/*
 * Layout, little-endian:
 *   0  4  magic "RPDS"
 *   4  2  format version (1)
 *   6  2  zero
 *   8  4  CRC-32 of every byte after this field
 *  12  4  length of the body (every byte after this field)
 *  16     body:
 *           string   session key (u32 byte length, UTF-8)
 *           f64      seq of the last journal record the snapshot covers
 *           u32      idempotency entries, oldest first, each: string key, u32 length + outcome bytes
 *           u32 length + the snapshot's bytes (src/snapshot-format.ts)
 */

export const DURABLE_SNAPSHOT_VERSION = 1;
const MAGIC = 0x53445052; // "RPDS" read as a little-endian u32
const HEADER_BYTES = 16;

/** An idempotency key the session remembers and the outcome (value codec) its call had. */
export interface IdempotencyEntry {
  readonly key: string;
  readonly outcome: Uint8Array;
}

export interface DurableSnapshot {
  readonly sessionKey: string;
  /** The seq of the last journal record the snapshot covers: replay starts after it. */
  readonly seq: number;
  /** Remembered idempotency keys, oldest first. */
  readonly idempotency: readonly IdempotencyEntry[];
  /** The session's snapshot (its bytes are not looked into here). */
  readonly snapshot: Uint8Array;
}

/** The bytes of a durable snapshot file. */
export function encodeDurableSnapshot({ sessionKey, seq, idempotency, snapshot }: DurableSnapshot): Uint8Array {
  let capacity = HEADER_BYTES + 4 + sessionKey.length * 3 + 8 + 4 + 4 + snapshot.byteLength;
  for (const entry of idempotency) capacity += 8 + entry.key.length * 3 + entry.outcome.byteLength;
  const out = new ByteWriter(capacity);
  out.u32(MAGIC);
  out.u16(DURABLE_SNAPSHOT_VERSION);
  out.u16(0);
  out.u32(0); // CRC-32, below
  out.u32(0); // body length, below
  out.string(sessionKey);
  out.f64(seq);
  out.u32(idempotency.length);
  for (const { key, outcome } of idempotency) {
    out.string(key);
    out.blob(outcome);
  }
  out.blob(snapshot);
  out.view.setUint32(12, out.length - HEADER_BYTES, true);
  out.view.setUint32(8, crc32(out.bytes.subarray(12, out.length)), true);
  return out.bytes.subarray(0, out.length);
}

/**
 * Reads a durable snapshot file. Throws `ERR_DURABLE_STORE` (saying what is wrong) for bytes that
 * are not a whole one: truncated, corrupted, of another format version. Byte fields are views of `bytes`.
 */
export function decodeDurableSnapshot(bytes: Uint8Array): DurableSnapshot {
  if (bytes.byteLength < HEADER_BYTES) throw corrupt(`${bytes.byteLength} bytes, fewer than its ${HEADER_BYTES}-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, true);
  if (magic !== MAGIC) throw corrupt(`it starts with 0x${magic.toString(16).padStart(8, '0')}, not a durable snapshot's magic`);
  const version = view.getUint16(4, true);
  if (version !== DURABLE_SNAPSHOT_VERSION) throw corrupt(`format version ${version}; this version reads ${DURABLE_SNAPSHOT_VERSION}`);
  const reserved = view.getUint16(6, true);
  if (reserved !== 0) throw corrupt(`its header's reserved field holds ${reserved}, not 0`);
  const bodyBytes = view.getUint32(12, true);
  if (bytes.byteLength !== HEADER_BYTES + bodyBytes) {
    throw corrupt(`${bytes.byteLength} bytes where its header says ${HEADER_BYTES + bodyBytes}${bytes.byteLength < HEADER_BYTES + bodyBytes ? ' (truncated)' : ''}`);
  }
  const expected = view.getUint32(8, true);
  const actual = crc32(bytes.subarray(12));
  if (actual !== expected) throw corrupt(`its CRC-32 is 0x${actual.toString(16)}, its header says 0x${expected.toString(16)}`);
  // The checksum matched: what follows was written by encodeDurableSnapshot, unless a bug or a forger
  // made it; ByteReader bounds every length, so even then nothing reads past the end.
  try {
    const input = new ByteReader(bytes.subarray(HEADER_BYTES));
    const sessionKey = input.string();
    const seq = input.f64();
    const count = input.u32();
    // Every entry takes 8 bytes at least: a corrupt count cannot make a huge list.
    if (count > (input.bytes.byteLength - input.at) / 8) throw new Error(`${count} idempotency entries in ${input.bytes.byteLength - input.at} bytes`);
    const idempotency: IdempotencyEntry[] = [];
    for (let i = 0; i < count; i++) idempotency.push({ key: input.string(), outcome: input.blob() });
    const snapshot = input.blob();
    if (!input.done) throw new Error(`${input.bytes.byteLength - input.at} bytes left over`);
    if (!Number.isSafeInteger(seq) || seq < 0) throw new Error(`a seq of ${seq}`);
    return { sessionKey, seq, idempotency, snapshot };
  } catch (error) {
    throw corrupt((error as Error).message);
  }
}

function corrupt(why: string): DurableStoreError {
  return new DurableStoreError(`not a whole durable snapshot file: ${why}`);
}
