// Group commit: the records appended while a journal write is in flight gather into one group and go
// out as one store append (one fsync), however many ticks they were appended over; the records of
// one tick share a write; `idle()` waits for every record. Segments rotate past `segmentBytes` and on
// `rotate()`, a group never spanning two; the reader gets every record back in order.

import { describe, expect, it } from 'vitest';
import { DirectoryDurableStore } from '../dist/src/durable-store.js';
import { readJournal } from '../dist/src/journal-reader.js';
import { JournalWriter } from '../dist/src/journal-writer.js';
import { seeded } from '../dist/src/seeded-random.js';
import { FailingDurableStore } from './helpers/failing-durable-store.js';
import { appendAll, callRecords, plain } from './helpers/journal-records.js';
import { useTempDirectory } from './helpers/temp-directory.js';

const directory = useTempDirectory('group-commit');

async function openStore(): Promise<FailingDurableStore> {
  const store = new FailingDurableStore(new DirectoryDurableStore(directory()));
  await store.open('c'.repeat(64));
  return store;
}

describe('group commit', () => {
  it('gathers every record appended during a write into the next single append', async () => {
    const store = await openStore();
    const writer = new JournalWriter(store, { segment: 1 });
    const records = callRecords(2001, seeded(21));
    const [first, ...rest] = records;

    const held = store.holdNextAppend();
    const settled: (Error | undefined)[] = [];
    writer.appendRecord(first ?? records[0]!, (error) => settled.push(error));
    await held.started;
    // 2000 records over 20 ticks while the first write is held in flight.
    const gathering: Promise<(Error | undefined)[]>[] = [];
    for (let tick = 0; tick < 20; tick++) {
      gathering.push(appendAll(writer, rest.slice(tick * 100, tick * 100 + 100)));
      await Promise.resolve();
    }
    expect(store.appends).toHaveLength(1);
    expect(writer.pending).toBe(2001);
    held.release();
    expect((await Promise.all(gathering)).flat()).toEqual(rest.map(() => undefined));
    expect(settled).toEqual([undefined]);
    expect(store.appends).toHaveLength(2);
    expect(writer.pending).toBe(0);

    const journal = await readJournal(store);
    await store.close();
    expect(journal.entries.map((entry) => plain(entry.record))).toEqual(records.map(plain));
  });

  it('writes the records of one tick with one append, and idle() waits for them', async () => {
    const store = await openStore();
    const writer = new JournalWriter(store, { segment: 1 });
    const records = callRecords(500, seeded(22));
    const done: (Error | undefined)[] = [];
    for (const record of records) writer.appendRecord(record, (error) => done.push(error));
    await writer.idle();
    expect(done).toEqual(records.map(() => undefined));
    expect(store.appends).toEqual([[1, expect.any(Number)]]);
    await store.close();
  });

  it('rotates past segmentBytes and on demand; each append targets one segment; records read back in order', async () => {
    const store = await openStore();
    const writer = new JournalWriter(store, { segment: 5, segmentBytes: 1000 });
    const records = callRecords(300, seeded(23));
    const segmentsOf: number[] = [];
    const offsets: number[] = [];
    const done: Promise<Error | undefined>[] = [];
    const random = seeded(24);
    let rotatedTo = 0;
    for (let i = 0; i < records.length; i++) {
      // Random bursts: some records in one tick, some alone.
      if (random() < 0.3) await Promise.resolve();
      if (i === 150) rotatedTo = writer.rotate();
      done.push(new Promise((resolve) => offsets.push(writer.appendRecord(records[i]!, resolve))));
      segmentsOf.push(writer.segment);
    }
    expect(await Promise.all(done)).toEqual(records.map(() => undefined));
    expect(segmentsOf[149]).toBeLessThan(rotatedTo);
    expect(segmentsOf[150]).toBe(rotatedTo);

    const journal = await readJournal(store);
    await store.close();
    expect(journal.entries.map((entry) => plain(entry.record))).toEqual(records.map(plain));
    expect(journal.entries.map((entry) => [entry.segment, entry.offset])).toEqual(segmentsOf.map((segment, i) => [segment, offsets[i]]));
    expect(journal.segments[0]).toBe(5);
    expect(journal.segments.length).toBeGreaterThan(10);
    // A segment is closed once it holds segmentBytes: only its last record may cross the line.
    for (const segment of journal.segments.slice(0, -1)) {
      const inSegment = journal.entries.filter((entry) => entry.segment === segment);
      expect(inSegment.slice(0, -1).every((entry) => entry.offset < 1000)).toBe(true);
    }
    expect(journal.damage).toEqual([]);
    expect(journal.nextSegment).toBe((journal.segments.at(-1) ?? 0) + 1);
  });
});
