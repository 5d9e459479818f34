// A failed journal write (a full disk, an I/O error; before writing anything, after writing part of
// the group, or after writing all of it) fails exactly the records of that group with the store's
// error; the writer moves to a new segment whose first group starts with a Void of the failed range
// (repeated at the head of every retry until one is written), later records are durable, and a
// reader ignores the voided bytes even where they reached the disk whole.

import { describe, expect, it } from 'vitest';
import { DirectoryDurableStore } from '../dist/src/durable-store.js';
import { FRAME_BYTES, scanSegment } from '../dist/src/journal-file.js';
import { readJournal } from '../dist/src/journal-reader.js';
import { RecordType, decodeRecord, type JournalRecord } from '../dist/src/journal-record.js';
import { JournalWriter } from '../dist/src/journal-writer.js';
import { seeded } from '../dist/src/seeded-random.js';
import { FailingDurableStore, enospc } from './helpers/failing-durable-store.js';
import { appendAll, bodyOf, callRecords, plain } from './helpers/journal-records.js';
import { useTempDirectory } from './helpers/temp-directory.js';

const directory = useTempDirectory('journal-fail');

async function openStore(): Promise<FailingDurableStore> {
  const store = new FailingDurableStore(new DirectoryDurableStore(directory()));
  await store.open('f'.repeat(64));
  return store;
}

const durable = (records: readonly JournalRecord[]): undefined[] => records.map(() => undefined);

describe('a failed journal write', () => {
  const records = callRecords(30, seeded(11));
  const [before, failing, after] = [records.slice(0, 10), records.slice(10, 20), records.slice(20)];

  // Bytes of the failed group that reach the disk: none, part of its first frame, part of a body, its
  // first record whole and part of the next, all of it (the write went through, the flush failed).
  const wholeFirst = FRAME_BYTES + bodyOf(failing[0] as JournalRecord).byteLength;
  const cases: [string, number][] = [
    ['nothing', 0], ['part of a frame', 5], ['a frame', 8], ['part of a body', 20], ['a whole record and part of the next', wholeFirst + 11], ['all', Infinity],
  ];
  for (const [label, writeBytes] of cases) {
    it(`fails its group's records only, and the reader ignores it (written: ${label})`, async () => {
      const store = await openStore();
      const writer = new JournalWriter(store, { segment: 1 });
      expect(await appendAll(writer, before)).toEqual(durable(before));

      const error = enospc();
      store.failNextAppend({ error, writeBytes });
      const outcome = await appendAll(writer, failing);
      expect(outcome).toEqual(failing.map(() => error));
      expect(outcome[0]).toBe(error);

      expect(await appendAll(writer, after)).toEqual(durable(after));
      await writer.idle();
      const journal = await readJournal(store);
      await store.close();
      expect(journal.entries.map((entry) => plain(entry.record))).toEqual([...before, ...after].map(plain));
      expect(journal.damage).toEqual([]);
    });
  }

  it('repeats the Void at the head of every retry until a group is written', async () => {
    const store = await openStore();
    const writer = new JournalWriter(store, { segment: 1 });
    expect(await appendAll(writer, before)).toEqual(durable(before));
    const error = enospc();
    store.failNextAppend({ error, writeBytes: 12 });
    expect(await appendAll(writer, failing.slice(0, 5))).toEqual(failing.slice(0, 5).map(() => error));
    expect(writer.segment).toBe(2);
    store.failNextAppend({ error, writeBytes: 40 });
    expect(await appendAll(writer, failing.slice(5))).toEqual(failing.slice(5).map(() => error));
    expect(writer.segment).toBe(3);
    expect(await appendAll(writer, after.slice(0, 4))).toEqual(durable(after.slice(0, 4)));
    expect(await appendAll(writer, after.slice(4))).toEqual(durable(after.slice(4)));

    const heads = (segment: number): Promise<JournalRecord[]> =>
      store.readSegment(segment).then((bytes) => scanSegment(bytes).records.map((found) => decodeRecord(found.body)));
    const third = await heads(3);
    // The first group written after the failures starts with both voids; once it is written, later groups carry none.
    expect(third.slice(0, 2).map((record) => record.type)).toEqual([RecordType.Void, RecordType.Void]);
    expect(third.slice(0, 2)).toMatchObject([{ segment: 1 }, { segment: 2, from: 0 }]);
    expect(third.slice(2).map((record) => record.type)).toEqual(after.map(() => RecordType.Call));

    const journal = await readJournal(store);
    await store.close();
    expect(journal.entries.map((entry) => plain(entry.record))).toEqual([...before, ...after].map(plain));
    expect(journal.damage).toEqual([]);
  });

  it('fails the records gathered behind the failed group with it, unwritten; later records go to the new segment', async () => {
    const store = await openStore();
    const writer = new JournalWriter(store, { segment: 1 });
    expect(await appendAll(writer, before)).toEqual(durable(before));

    const held = store.holdNextAppend();
    const error = enospc();
    const failed = appendAll(writer, failing);
    await held.started;
    // These gather while the failing group is in flight: they may follow its records, so they fail with them.
    const behind = appendAll(writer, failing);
    store.failNextAppend({ error, writeBytes: 30 });
    held.release();
    expect(await failed).toEqual(failing.map(() => error));
    expect(await behind).toEqual(failing.map(() => error));
    expect(await appendAll(writer, after)).toEqual(durable(after));
    expect(store.appends.map(([segment]) => segment)).toEqual([1, 1, 2]);

    const journal = await readJournal(store);
    await store.close();
    expect(journal.entries.map((entry) => plain(entry.record))).toEqual([...before, ...after].map(plain));
    expect(journal.entries.map((entry) => entry.segment)).toEqual([...before.map(() => 1), ...after.map(() => 2)]);
    expect(journal.damage).toEqual([]);
  });

  it('treats a store that throws instead of rejecting as a failed write', async () => {
    const store = await openStore();
    const error = new Error('thrown by the store');
    const throwing = Object.assign(Object.create(store) as FailingDurableStore, {
      append: (): Promise<void> => {
        throw error;
      },
    });
    const writer = new JournalWriter(throwing, { segment: 1 });
    expect(await appendAll(writer, before)).toEqual(before.map(() => error));
    await store.close();
  });
});
