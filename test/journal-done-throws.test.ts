// A journal writer's `done` callback that throws stops neither the other records' callbacks nor the
// writer: every record settles, later groups are written, the error surfaces afterwards, uncaught.

import { afterEach, beforeEach, expect, it } from 'vitest';
import { DirectoryDurableStore } from '../dist/src/durable-store.js';
import { JournalWriter } from '../dist/src/journal-writer.js';
import { seeded } from '../dist/src/seeded-random.js';
import { appendAll, callRecords } from './helpers/journal-records.js';
import { useTempDirectory } from './helpers/temp-directory.js';

const directory = useTempDirectory('done-throws');

/** Uncaught exceptions seen during a test, instead of the test runner's own handlers. */
let uncaught: unknown[] = [];
let runnerHandlers: NodeJS.UncaughtExceptionListener[] = [];
const record = (error: unknown): void => {
  uncaught.push(error);
};

beforeEach(() => {
  uncaught = [];
  runnerHandlers = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  process.on('uncaughtException', record);
});

afterEach(() => {
  process.removeListener('uncaughtException', record);
  for (const handler of runnerHandlers) process.on('uncaughtException', handler);
});

it('settles every other record, keeps writing, and rethrows the error later', async () => {
  const store = new DirectoryDurableStore(directory());
  await store.open('d'.repeat(64));
  const writer = new JournalWriter(store, { segment: 1 });
  const records = callRecords(4, seeded(31));
  const done: (Error | undefined)[] = [];
  writer.appendRecord(records[0]!, (error) => done.push(error));
  writer.appendRecord(records[1]!, () => {
    throw new Error('a throwing callback');
  });
  writer.appendRecord(records[2]!, (error) => done.push(error));
  await writer.idle();
  expect(done).toEqual([undefined, undefined]);
  expect(await appendAll(writer, records.slice(3))).toEqual([undefined]);
  await new Promise((resolve) => setImmediate(resolve));
  expect(uncaught).toMatchObject([{ message: 'a throwing callback' }]);
  await store.close();
});
