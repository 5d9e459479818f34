// A journal segment damaged at its end (a crash mid-write: truncated at any byte, garbage or zeros
// after the last record) or in its middle (a flipped bit) is cut at the last whole record before the
// damage and the cut is reported (segment, offset, why); nothing before it is lost, and the segments
// after it are still read. A record with a good checksum that does not decode is reported and skipped.

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DirectoryDurableStore } from '../dist/src/durable-store.js';
import { FRAME_BYTES, SEGMENT_HEADER_BYTES, scanSegment, writeFrame } from '../dist/src/journal-file.js';
import { readJournal } from '../dist/src/journal-reader.js';
import { JournalWriter } from '../dist/src/journal-writer.js';
import type { JournalRecord } from '../dist/src/journal-record.js';
import { seeded } from '../dist/src/seeded-random.js';
import { appendAll, bodyOf, callRecords, plain } from './helpers/journal-records.js';
import { useTempDirectory } from './helpers/temp-directory.js';

const IDENTITY = 'a'.repeat(64);
const directory = useTempDirectory('torn');
const segmentPath = (segment: number): string => join(directory(), 'journal', `${String(segment).padStart(16, '0')}.journal`);

/** Writes `records` through a writer (segments from 1, rotating after `perSegment` records) and closes the store. */
async function writeJournal(records: readonly JournalRecord[], perSegment = Infinity): Promise<void> {
  const store = new DirectoryDurableStore(directory());
  await store.open(IDENTITY);
  const writer = new JournalWriter(store, { segment: 1 });
  for (let from = 0; from < records.length; from += perSegment) {
    expect(await appendAll(writer, records.slice(from, from + perSegment))).toEqual(records.slice(from, from + perSegment).map(() => undefined));
    writer.rotate();
  }
  await store.close();
}

async function readBack(): Promise<Awaited<ReturnType<typeof readJournal>>> {
  const store = new DirectoryDurableStore(directory());
  await store.open(IDENTITY);
  try {
    return await readJournal(store);
  } finally {
    await store.close();
  }
}

/** Where each record's frame starts in a segment holding `records`, and where the last one ends. */
function layout(records: readonly JournalRecord[]): { starts: number[]; end: number } {
  const starts: number[] = [];
  let at = SEGMENT_HEADER_BYTES;
  for (const record of records) {
    starts.push(at);
    at += FRAME_BYTES + bodyOf(record).byteLength;
  }
  return { starts, end: at };
}

describe('a torn or damaged segment', () => {
  const records = callRecords(40, seeded(1));
  const { starts, end } = layout(records);

  it('truncated at every byte keeps the records wholly before the cut and reports where the torn one starts', async () => {
    await writeJournal(records);
    const bytes = new Uint8Array(await readFile(segmentPath(1)));
    expect(bytes.byteLength).toBe(end);
    for (let length = 0; length <= end; length++) {
      const scan = scanSegment(bytes.subarray(0, length));
      const whole = starts.filter((start, i) => (starts[i + 1] ?? end) <= length && start >= 0).length;
      expect(scan.records.map((found) => found.offset)).toEqual(starts.slice(0, whole));
      const boundary = length === end || (length >= SEGMENT_HEADER_BYTES && starts.includes(length));
      if (boundary) {
        expect(scan.tail).toBeUndefined();
        continue;
      }
      const cutAt = length < SEGMENT_HEADER_BYTES ? 0 : (starts[whole] ?? -1);
      const reason = length < SEGMENT_HEADER_BYTES ? 'header' : length - cutAt < FRAME_BYTES ? 'torn-frame' : 'past-end';
      expect(scan.tail, `cut at ${length}`).toMatchObject({ offset: cutAt, reason });
      expect(scan.validBytes).toBe(cutAt);
    }
  });

  it('read back through the store: the records before the cut decode as written, the cut is reported', async () => {
    await writeJournal(records);
    const bytes = new Uint8Array(await readFile(segmentPath(1)));
    const cutInside = (starts[30] ?? 0) + FRAME_BYTES + 3;
    await writeFile(segmentPath(1), bytes.subarray(0, cutInside));
    const journal = await readBack();
    expect(journal.entries.map((entry) => plain(entry.record))).toEqual(records.slice(0, 30).map(plain));
    expect(journal.entries.map((entry) => entry.segment)).toEqual(records.slice(0, 30).map(() => 1));
    expect(journal.damage).toEqual([{ segment: 1, offset: starts[30], reason: 'past-end', message: expect.stringContaining('bytes left') }]);
    expect(journal.nextSegment).toBe(2);
  });

  it('with garbage or zeros after the last record keeps every record and reports the tail', async () => {
    await writeJournal(records);
    const bytes = new Uint8Array(await readFile(segmentPath(1)));
    const random = seeded(2);
    for (let trial = 0; trial < 200; trial++) {
      const garbage = Uint8Array.from({ length: 1 + Math.floor(random() * 64) }, () => (trial % 4 === 0 ? 0 : Math.floor(random() * 256)));
      const damaged = new Uint8Array([...bytes, ...garbage]);
      const scan = scanSegment(damaged);
      expect(scan.records.map((found) => found.offset)).toEqual(starts);
      expect(scan.tail?.offset).toBe(end);
      expect(['torn-frame', 'past-end', 'bad-length', 'checksum']).toContain(scan.tail?.reason);
      if (trial % 4 === 0 && garbage.byteLength >= FRAME_BYTES) expect(scan.tail?.reason).toBe('bad-length');
    }
  });

  it('with a bit flipped anywhere is cut at the record holding it, keeping every record before', async () => {
    await writeJournal(records);
    const bytes = new Uint8Array(await readFile(segmentPath(1)));
    const random = seeded(3);
    for (let at = 0; at < end; at++) {
      const damaged = bytes.slice();
      damaged[at] = (damaged[at] ?? 0) ^ (1 << Math.floor(random() * 8));
      const scan = scanSegment(damaged);
      const holder = starts.filter((start) => start <= at).length - 1;
      const cutAt = at < SEGMENT_HEADER_BYTES ? 0 : (starts[holder] ?? -1);
      expect(scan.tail?.offset, `bit flipped in byte ${at}`).toBe(cutAt);
      expect(scan.records.map((found) => found.offset)).toEqual(at < SEGMENT_HEADER_BYTES ? [] : starts.slice(0, holder));
    }
  });

  it('damaged in one segment: the later segments are read whole', async () => {
    await writeJournal(records, 10);
    const second = new Uint8Array(await readFile(segmentPath(2)));
    second[second.byteLength - 5] = (second[second.byteLength - 5] ?? 0) ^ 0x10;
    await writeFile(segmentPath(2), second);
    const journal = await readBack();
    const lastOfSecond = layout(records.slice(10, 20)).starts[9];
    expect(journal.segments).toEqual([1, 2, 3, 4]);
    expect(journal.entries.map((entry) => plain(entry.record))).toEqual([...records.slice(0, 19), ...records.slice(20)].map(plain));
    expect(journal.damage).toEqual([{ segment: 2, offset: lastOfSecond, reason: 'checksum', message: expect.stringContaining('CRC-32') }]);
    expect(journal.nextSegment).toBe(5);
  });

  it('a record with a good checksum that does not decode is reported as corrupt and skipped', async () => {
    await writeJournal(records.slice(0, 3));
    const bytes = new Uint8Array(await readFile(segmentPath(1)));
    const second = layout(records).starts[1] ?? 0;
    // An unknown record type, checksummed as if written so.
    const forged = bytes.slice();
    forged[second + FRAME_BYTES] = 99;
    writeFrame(forged, new DataView(forged.buffer), second, bodyOf(records[1] as JournalRecord).byteLength);
    await writeFile(segmentPath(1), forged);
    const journal = await readBack();
    expect(journal.entries.map((entry) => plain(entry.record))).toEqual([records[0], records[2]].map((record) => plain(record as JournalRecord)));
    expect(journal.damage).toEqual([{ segment: 1, offset: second, reason: 'record', message: expect.stringContaining('unknown record type 99') }]);
  });
});
