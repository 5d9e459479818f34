// A durable pool's journal torn at its end on purpose (a crash mid-write: the last segment cut at
// points inside its last record, garbage or zeros after it, its tail zero-filled): a new pool on the
// directory opens fine, every session is back at its last whole record with its value exact, nothing
// before the cut is lost, and the sessions carry on (through another restart too).

import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { ReactorPool } from '../dist/src/index.js';
import { CallFlags, RecordType } from '../dist/src/journal-record.js';
import { seeded } from '../dist/src/seeded-random.js';
import { durableDir } from './helpers/durable-dir.js';
import { lastSegmentFile, recordsIn, valueOf } from './helpers/durable-files.js';
import { REACTOR } from './helpers/fixtures.js';
import { IncModel } from './helpers/inc-model.js';
import { createPool } from './helpers/pool.js';

const SEED = 20261301;
const KEYS = Array.from({ length: 8 }, (_, i) => `torn-${i}`);
/** The session whose call is the journal's last record: the one a damaged tail takes. */
const LAST = 'torn-last';
const open = (dir: string): Promise<ReactorPool> => createPool({ module: REACTOR, workers: 2, durability: { dir } });

interface Written {
  readonly dir: string;
  readonly model: IncModel;
  /** The segment's bytes as the pool left them. */
  readonly bytes: Uint8Array;
  readonly path: string;
  /** Where the last record's frame starts and ends. */
  readonly last: { readonly offset: number; readonly end: number };
  /** LAST's value before its last call (what it must come back to when that record is torn). */
  readonly before: number | undefined;
}

/**
 * Seeded calls on every key (several in flight per session, sessions interleaved in the journal), then
 * LAST's calls alone so its call is the last record; `lastOpens`: that call is LAST's first (the record
 * that started its instance). Closed (or destroyed) after.
 */
async function writeJournal(how: 'close' | 'destroy', lastOpens: boolean): Promise<Written> {
  const dir = await durableDir();
  const model = new IncModel();
  const random = seeded(SEED);
  const pool = await open(dir);
  for (let round = 0; round < 6; round++) for (const key of KEYS) void model.send(pool.session(key), 1 + Math.floor(random() * 9));
  await model.settle();
  let before: number | undefined;
  if (!lastOpens) {
    await model.send(pool.session(LAST), 3);
    await model.settle();
    before = model.valueOf(LAST);
  }
  await model.send(pool.session(LAST), 5);
  await model.settle();
  expect(model.mismatches).toEqual([]);
  expect(model.describeRejections()).toBe('none');
  await (how === 'close' ? pool.close() : pool.destroy());

  const path = await lastSegmentFile(dir);
  const bytes = new Uint8Array(await readFile(path));
  const records = recordsIn(bytes);
  const last = records[records.length - 1];
  // The journal is what the test thinks it is: whole to its end, LAST's call last, its outcome acknowledged.
  expect(last?.end).toBe(bytes.byteLength);
  expect(last?.record).toMatchObject({ type: RecordType.Call, key: LAST, seq: lastOpens ? 1 : 2 });
  if (last?.record.type === RecordType.Call) {
    expect(valueOf(last.record.outcome)).toBe(model.valueOf(LAST));
    expect(last.record.flags & CallFlags.Opened).toBe(lastOpens ? CallFlags.Opened : 0);
  }
  return { dir, model, bytes, path, last: { offset: last?.offset ?? 0, end: last?.end ?? 0 }, before };
}

/** Opens a pool on the damaged directory and checks every session: LAST at `lastValue` (undefined: no state), the others exact. */
async function expectRecovered(written: Written, lastValue: number | undefined): Promise<ReactorPool> {
  const pool = await open(written.dir);
  const held = lastValue === undefined ? KEYS : [...KEYS, LAST];
  expect([...await pool.durableSessions()].sort()).toEqual([...held].sort());
  for (const key of KEYS) expect(await pool.session(key).call('inc', 0), key).toBe(written.model.valueOf(key));
  // A session with no state left starts afresh (20), like a key never used.
  expect(await pool.session(LAST).call('inc', 0)).toBe(lastValue ?? 20);
  return pool;
}

/** The sessions carry on from there, and a second restart (the torn tail still in the older segment) finds it all again. */
async function expectCarriesOn(written: Written, pool: ReactorPool, lastValue: number | undefined): Promise<void> {
  const model = new IncModel();
  for (const key of KEYS) model.assume(key, written.model.valueOf(key));
  model.assume(LAST, lastValue ?? 20);
  const random = seeded(SEED + 1);
  for (let round = 0; round < 3; round++) for (const key of [...KEYS, LAST]) void model.send(pool.session(key), 1 + Math.floor(random() * 9));
  await model.settle();
  expect(model.mismatches).toEqual([]);
  expect(model.describeRejections()).toBe('none');
  await pool.close();
  const again = await open(written.dir);
  await model.verify(again);
  expect(model.mismatches).toEqual([]);
}

describe('durability: a torn journal tail', () => {
  // Cuts inside the last record: in its frame's length, in its checksum, right after the frame, inside its body, one byte short.
  const cuts: [string, (last: Written['last']) => number][] = [
    ['1 byte into its frame', (last) => last.offset + 1],
    ['inside its checksum', (last) => last.offset + 6],
    ['after its frame, before its body', (last) => last.offset + 8],
    ['inside its body', (last) => last.offset + 8 + Math.floor((last.end - last.offset - 8) / 2)],
    ['one byte short of its end', (last) => last.end - 1],
  ];
  for (const [where, cutAt] of cuts) {
    it(`truncated ${where}: the last record is gone, every other session exact, and they carry on`, async () => {
      const written = await writeJournal('close', false);
      await writeFile(written.path, written.bytes.subarray(0, cutAt(written.last)));
      const pool = await expectRecovered(written, written.before);
      await expectCarriesOn(written, pool, written.before);
    });
  }

  it('truncated inside a record that started its session: the session has no state left, and starts afresh', async () => {
    const written = await writeJournal('close', true);
    await writeFile(written.path, written.bytes.subarray(0, written.last.offset + 8 + 3));
    const pool = await expectRecovered(written, undefined);
    await expectCarriesOn(written, pool, undefined);
  });

  it('with garbage after the last record: every record is kept', async () => {
    const written = await writeJournal('destroy', false);
    const random = seeded(SEED + 2);
    const garbage = Uint8Array.from({ length: 300 }, () => Math.floor(random() * 256));
    await writeFile(written.path, new Uint8Array([...written.bytes, ...garbage]));
    const pool = await expectRecovered(written, written.model.valueOf(LAST));
    await expectCarriesOn(written, pool, written.model.valueOf(LAST));
  });

  it('with zeros after the last record (a file extended but never written): every record is kept', async () => {
    const written = await writeJournal('close', false);
    await writeFile(written.path, new Uint8Array([...written.bytes, ...new Uint8Array(4096)]));
    const pool = await expectRecovered(written, written.model.valueOf(LAST));
    await expectCarriesOn(written, pool, written.model.valueOf(LAST));
  });

  it('with its tail zero-filled from inside the last record (a block never written): the last record is gone', async () => {
    const written = await writeJournal('destroy', false);
    const damaged = written.bytes.slice();
    damaged.fill(0, written.last.offset + 8 + 2);
    await writeFile(written.path, new Uint8Array([...damaged, ...new Uint8Array(512)]));
    const pool = await expectRecovered(written, written.before);
    await expectCarriesOn(written, pool, written.before);
  });

  it('with its last frame zero-filled and the rest of the file zeros: the last record is gone', async () => {
    const written = await writeJournal('close', false);
    const damaged = written.bytes.slice();
    damaged.fill(0, written.last.offset);
    await writeFile(written.path, damaged);
    const pool = await expectRecovered(written, written.before);
    await expectCarriesOn(written, pool, written.before);
  });
});
