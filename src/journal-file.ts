// How journal records sit in a segment: a small header, then each record framed by its length and
// checksum; and the scan that finds the whole records and where a torn or corrupt tail begins.

import { crc32 } from 'node:zlib';

/*
 * Segment layout, little-endian:
 *   0  4  magic "RPJL"
 *   4  2  format version (1)
 *   6  2  zero
 *   8     records, each:
 *           4  body length (1 to MAX_RECORD_BYTES)
 *           4  CRC-32 of the body
 *              body (src/journal-record.ts encodeRecord)
 */

export const JOURNAL_FORMAT_VERSION = 1;
const MAGIC = 0x4c4a5052; // "RPJL" read as a little-endian u32
export const SEGMENT_HEADER_BYTES = 8;
export const FRAME_BYTES = 8;
/** The largest record body a segment holds: a longer length is corruption, never an allocation. */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

/** Writes a segment's header (8 bytes) at `at`. */
export function writeSegmentHeader(view: DataView, at: number): void {
  view.setUint32(at, MAGIC, true);
  view.setUint16(at + 4, JOURNAL_FORMAT_VERSION, true);
  view.setUint16(at + 6, 0, true);
}

/**
 * Fills in the frame of a body already written at `at + FRAME_BYTES` (`length` bytes): its length
 * and its checksum, in the 8 bytes at `at`.
 */
export function writeFrame(bytes: Uint8Array, view: DataView, at: number, length: number): void {
  view.setUint32(at, length, true);
  view.setUint32(at + 4, crc32(bytes.subarray(at + FRAME_BYTES, at + FRAME_BYTES + length)), true);
}

/** A whole record found in a segment: where its frame starts and its body (a view of the segment's bytes). */
export interface ScannedRecord {
  readonly offset: number;
  readonly body: Uint8Array;
}

/**
 * Why a segment's bytes stop being records:
 * - `header`: the segment is shorter than its header, or its magic or version is not this format's;
 * - `torn-frame`: fewer bytes left than a frame (a record cut mid-frame);
 * - `past-end`: a length that runs past the end of the segment (a record cut mid-body, or a corrupt length);
 * - `bad-length`: a length of zero (a zero-filled region) or above {@link MAX_RECORD_BYTES};
 * - `checksum`: the body does not match its checksum (a torn write, or bits changed on the disk).
 */
export type TailReason = 'header' | 'torn-frame' | 'past-end' | 'bad-length' | 'checksum';

/** Where a segment's whole records end and why (everything from `offset` on is cut). */
export interface SegmentTail {
  readonly offset: number;
  readonly reason: TailReason;
  /** What was found there, for a person. */
  readonly message: string;
}

export interface SegmentScan {
  /** Every whole record, in order, up to the first damage. */
  readonly records: ScannedRecord[];
  /** Bytes from the start that are whole (the header and the records). */
  readonly validBytes: number;
  /** Why the scan stopped before the end of the bytes; undefined if every byte was a whole record. */
  readonly tail: SegmentTail | undefined;
}

/** Reads a segment's records up to its end or its first damage. Never throws, whatever the bytes. */
export function scanSegment(bytes: Uint8Array): SegmentScan {
  const records: ScannedRecord[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const cut = (offset: number, reason: TailReason, message: string): SegmentScan => ({ records, validBytes: offset, tail: { offset, reason, message } });
  if (bytes.byteLength < SEGMENT_HEADER_BYTES) return cut(0, 'header', `the segment has ${bytes.byteLength} bytes, fewer than its ${SEGMENT_HEADER_BYTES}-byte header`);
  const magic = view.getUint32(0, true);
  const version = view.getUint16(4, true);
  if (magic !== MAGIC) return cut(0, 'header', `the segment starts with 0x${magic.toString(16).padStart(8, '0')}, not a journal segment's magic`);
  if (version !== JOURNAL_FORMAT_VERSION) return cut(0, 'header', `the segment is format version ${version}; this version reads ${JOURNAL_FORMAT_VERSION}`);
  const reserved = view.getUint16(6, true);
  if (reserved !== 0) return cut(0, 'header', `the segment header's reserved field holds ${reserved}, not 0`);
  let at = SEGMENT_HEADER_BYTES;
  while (at < bytes.byteLength) {
    const left = bytes.byteLength - at;
    if (left < FRAME_BYTES) return cut(at, 'torn-frame', `${left} bytes at the end, fewer than a record's ${FRAME_BYTES}-byte frame`);
    const length = view.getUint32(at, true);
    if (length === 0 || length > MAX_RECORD_BYTES) return cut(at, 'bad-length', `a record length of ${length} (1 to ${MAX_RECORD_BYTES} expected)`);
    if (length > left - FRAME_BYTES) return cut(at, 'past-end', `a record of ${length} bytes with only ${left - FRAME_BYTES} bytes left in the segment`);
    const body = bytes.subarray(at + FRAME_BYTES, at + FRAME_BYTES + length);
    const expected = view.getUint32(at + 4, true);
    const actual = crc32(body);
    if (actual !== expected) return cut(at, 'checksum', `a record of ${length} bytes whose CRC-32 is 0x${actual.toString(16)}, its frame says 0x${expected.toString(16)}`);
    records.push({ offset: at, body });
    at += FRAME_BYTES + length;
  }
  return { records, validBytes: at, tail: undefined };
}
