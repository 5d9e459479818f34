// The files a durable pool leaves in its directory, for tests that damage them on purpose: journal
// segments read record by record (where each frame starts and ends), a record rewritten with its
// frame's checksum made right again, and the snapshot files of a session by generation.

import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FRAME_BYTES, scanSegment, writeFrame } from '../../dist/src/journal-file.js';
import { ByteReader, ByteWriter, decodeRecord, encodeRecord, readValue, type JournalRecord } from '../../dist/src/journal-record.js';

/** A record found in a segment file: its frame's start and end, and what it says. */
export interface RecordInFile {
  readonly offset: number;
  readonly end: number;
  readonly record: JournalRecord;
}

/** The journal segment files of a durable directory, ascending. */
export async function segmentFiles(dir: string): Promise<string[]> {
  const names = (await readdir(join(dir, 'journal'))).filter((name) => name.endsWith('.journal')).sort();
  return names.map((name) => join(dir, 'journal', name));
}

/** The last journal segment file (the one a crash would tear). */
export async function lastSegmentFile(dir: string): Promise<string> {
  const files = await segmentFiles(dir);
  const last = files[files.length - 1];
  if (last === undefined) throw new Error(`${dir} holds no journal segment`);
  return last;
}

/** Every whole record of a segment's bytes, decoded, with where it sits. */
export function recordsIn(bytes: Uint8Array): RecordInFile[] {
  return scanSegment(bytes).records.map(({ offset, body }) => ({ offset, end: offset + FRAME_BYTES + body.byteLength, record: decodeRecord(body) }));
}

/** Every whole record of a segment file. */
export async function recordsOf(path: string): Promise<RecordInFile[]> {
  return recordsIn(new Uint8Array(await readFile(path)));
}

/** A value in the journal's value codec (arguments, outcomes), decoded. */
export function valueOf(bytes: Uint8Array): unknown {
  return readValue(new ByteReader(bytes));
}

/** A value encoded in the journal's value codec. */
export function encodedValue(write: (out: ByteWriter) => void): Uint8Array {
  const out = new ByteWriter();
  write(out);
  return out.take();
}

/**
 * `bytes` (a segment) with the record at `found` replaced by `record`, framed with its length and a
 * CRC-32 that matches: a change no checksum catches, as a bug or a forger would make it. The new body
 * must have the old one's length (the records after it stay where they are).
 */
export function rewriteRecord(bytes: Uint8Array, found: RecordInFile, record: JournalRecord): Uint8Array {
  const body = new ByteWriter();
  encodeRecord(body, record);
  const length = found.end - found.offset - FRAME_BYTES;
  if (body.length !== length) throw new Error(`the rewritten record is ${body.length} bytes, the one it replaces ${length}`);
  const copy = bytes.slice();
  copy.set(body.take(), found.offset + FRAME_BYTES);
  writeFrame(copy, new DataView(copy.buffer, copy.byteOffset, copy.byteLength), found.offset, length);
  return copy;
}

/** The store's name of a session's snapshot (as the pool names them: 40 hex digits of SHA-256 of the key, then the generation). */
export function snapshotName(key: string, generation: number): string {
  return `${createHash('sha256').update(key).digest('hex').slice(0, 40)}-${generation}`;
}

/** Where the directory store keeps a session's snapshot of `generation`. */
export function snapshotFile(dir: string, key: string, generation: number): string {
  return join(dir, 'snapshots', `${snapshotName(key, generation)}.snapshot`);
}

/** The generations of a session's snapshot files in the directory, ascending. */
export async function snapshotGenerations(dir: string, key: string): Promise<number[]> {
  const prefix = `${snapshotName(key, 0).slice(0, 40)}-`;
  return (await readdir(join(dir, 'snapshots')))
    .filter((name) => name.startsWith(prefix) && name.endsWith('.snapshot'))
    .map((name) => Number(name.slice(prefix.length, -'.snapshot'.length)))
    .sort((a, b) => a - b);
}
