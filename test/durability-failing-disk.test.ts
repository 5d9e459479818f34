// A durable pool on a disk that fails: a journal flush refused (nothing written, part of it written, or
// all of it written and the flush refused) rejects the calls of that flush with ERR_JOURNAL_WRITE
// (retryable); their sessions continue from their last acknowledged call, other sessions never notice,
// retries with idempotency keys apply once, and a new pool on the store finds exactly the acknowledged
// state. A checkpoint whose snapshot cannot be written loses nothing: the journal keeps the records.

import { describe, expect, it } from 'vitest';
import { DirectoryDurableStore, type ReactorPool, type SessionLostEvent } from '../dist/src/index.js';
import { CallFlags, RecordType } from '../dist/src/journal-record.js';
import { seeded } from '../dist/src/seeded-random.js';
import { durableDir } from './helpers/durable-dir.js';
import { recordsOf, segmentFiles, valueOf } from './helpers/durable-files.js';
import { FailingDurableStore, eio, enospc } from './helpers/failing-durable-store.js';
import { REACTOR } from './helpers/fixtures.js';
import { IncModel } from './helpers/inc-model.js';
import { runLoad } from './helpers/durable-load.js';
import { eventually } from './helpers/pool-events.js';
import { createPool, rejection, type Rejection } from './helpers/pool.js';

const SEED = 20261303;
const KEYS = ['disk-0', 'disk-1', 'disk-2', 'disk-3'];

interface Opened {
  readonly pool: ReactorPool;
  readonly store: FailingDurableStore;
  readonly lost: SessionLostEvent[];
}

async function openOn(dir: string, snapshotEvery?: { calls: number }): Promise<Opened> {
  const store = new FailingDurableStore(new DirectoryDurableStore(dir));
  const pool = await createPool({ module: REACTOR, workers: 2, durability: { store, ...(snapshotEvery === undefined ? {} : { snapshotEvery }) } });
  const lost: SessionLostEvent[] = [];
  pool.on('sessionLost', (event) => lost.push(event));
  return { pool, store, lost };
}

/** A few acknowledged calls on every key. */
async function warmUp(pool: ReactorPool, model: IncModel, random: () => number): Promise<void> {
  for (let round = 0; round < 3; round++) for (const key of KEYS) void model.send(pool.session(key), 1 + Math.floor(random() * 9));
  await model.settle();
  expect(model.mismatches).toEqual([]);
  expect(model.describeRejections()).toBe('none');
}

function expectJournalWrite(error: Rejection, cause: NodeJS.ErrnoException): void {
  expect(error.code).toBe('ERR_JOURNAL_WRITE');
  expect(error.retryable).toBe(true);
  expect(error.message).toContain(cause.message);
}

/** A new pool on the directory (through the plain directory store) finds exactly what `model` says. */
async function expectReopened(dir: string, model: IncModel): Promise<ReactorPool> {
  const pool = await createPool({ module: REACTOR, workers: 2, durability: { dir } });
  expect([...await pool.durableSessions()].sort()).toEqual([...model.keys()].sort());
  await model.verify(pool);
  expect(model.mismatches).toEqual([]);
  return pool;
}

describe('durability: a failing disk', () => {
  // Bytes of the failed flush that reach the disk before the error: none, a torn part, all (the fsync failed).
  const writes: [string, number][] = [['nothing written', 0], ['13 bytes written', 13], ['all written, the flush refused', Infinity]];

  for (const [label, writeBytes] of writes) {
    it(`a refused flush (${label}): its call rejects ERR_JOURNAL_WRITE, its session rolls back, the others carry on, a restart agrees`, async () => {
      const dir = await durableDir();
      const { pool, store, lost } = await openOn(dir);
      const model = new IncModel();
      const random = seeded(SEED);
      await warmUp(pool, model, random);
      const [failing, other] = KEYS as [string, string];
      const before = model.valueOf(failing);

      const cause = enospc();
      store.failNextAppend({ error: cause, writeBytes });
      expectJournalWrite(await rejection(pool.session(failing).call('inc', 5)), cause);
      // Not acknowledged, not applied: the session continues from its last acknowledged call.
      expect(await pool.session(failing).call('inc', 0)).toBe(before);
      expect(await model.send(pool.session(other), 4)).toEqual({ value: model.valueOf(other) + 4 });
      await model.settle();
      expect(await model.send(pool.session(failing), 2)).toEqual({ value: before + 2 });
      await model.settle();
      expect(lost).toEqual([]);
      await pool.close();
      await expectReopened(dir, model);
    });
  }

  it('a refused flush right before close(), nothing written after it: the restart finds only what was acknowledged', async () => {
    // All of the failed flush reached the disk; the Void that says to ignore it is written with the
    // next flush, and here there is none before the pool closes.
    // The writer writes that Void when it is asked to go idle (as close() does), in a flush of its own.
    const dir = await durableDir();
    const { pool, store } = await openOn(dir);
    const model = new IncModel();
    await warmUp(pool, model, seeded(SEED + 1));
    const [failing] = KEYS as [string];
    const cause = eio();
    store.failNextAppend({ error: cause, writeBytes: Infinity });
    expectJournalWrite(await rejection(pool.session(failing).call('inc', 500)), cause);
    await pool.close();
    await expectReopened(dir, model);
  });

  it('retries with an idempotency key after the fault cleared apply exactly once, across a restart too', async () => {
    const dir = await durableDir();
    const { pool, store } = await openOn(dir);
    const model = new IncModel();
    await warmUp(pool, model, seeded(SEED + 2));
    const [key] = KEYS as [string];
    const session = pool.session(key);
    const before = model.valueOf(key);
    const cause = enospc();
    store.failNextAppend({ error: cause, writeBytes: 9 });
    expectJournalWrite(await rejection(session.with({ idempotencyKey: 'order-1' }).call('inc', 7)), cause);
    // The key was never acknowledged: the retry runs; a second retry answers the recorded outcome.
    expect(await session.with({ idempotencyKey: 'order-1' }).call('inc', 7)).toBe(before + 7);
    expect(await session.with({ idempotencyKey: 'order-1' }).call('inc', 7)).toBe(before + 7);
    expect(await session.call('inc', 0)).toBe(before + 7);
    model.assume(key, before + 7);
    await pool.close();
    const reopened = await expectReopened(dir, model);
    expect(await reopened.session(key).with({ idempotencyKey: 'order-1' }).call('inc', 7)).toBe(before + 7);
    expect(await reopened.session(key).call('inc', 0)).toBe(before + 7);
  });

  it('under load, flushes refused at seeded points: every call applied once or not at all, other sessions exact, a restart agrees', async () => {
    const dir = await durableDir();
    const { pool, store, lost } = await openOn(dir);
    const model = new IncModel();
    const random = seeded(SEED + 3);
    const keys = Array.from({ length: 24 }, (_, i) => `load-${i}`);
    const calls = 1_500;
    const failures = [0.2, 0.45, 0.7].map((at, i) => ({
      after: Math.floor(calls * (at + random() * 0.1)),
      run: (): Promise<void> => {
        store.failNextAppend({ error: i === 1 ? eio() : enospc(), writeBytes: [0, 40, Infinity][i] ?? 0 });
        return Promise.resolve();
      },
    }));
    await runLoad({ pool, model, keys, calls, window: 64, random, faults: failures });
    console.log(`failing disk (seed ${SEED + 3}): ${model.resolved} resolved; rejected: ${model.describeRejections()}`);
    expect(model.mismatches, `seed ${SEED + 3}`).toEqual([]);
    expect([...model.rejections.keys()]).toEqual(['ERR_JOURNAL_WRITE']);
    expect(lost).toEqual([]);
    await model.verify(pool);
    expect(model.mismatches).toEqual([]);
    await pool.close();
    await expectReopened(dir, model);
  }, 60_000);

  it('a checkpoint whose snapshot cannot be written: nothing lost, the session keeps working, the journal keeps its records', async () => {
    const dir = await durableDir();
    const { pool, store, lost } = await openOn(dir, { calls: 3 });
    const model = new IncModel();
    const key = 'checkpoint';
    store.failSnapshotWrites(eio('write'));
    const random = seeded(SEED + 4);
    const drive = async (count: number): Promise<void> => {
      for (let i = 0; i < count; i++) await model.send(pool.session(key), 1 + Math.floor(random() * 9));
      await model.settle();
    };
    await drive(4);
    // Past the 3-call bound a checkpoint is made and its write refused (a handshake, not a timer); then more of them.
    await store.snapshotsRefused(1);
    await drive(6);
    await store.snapshotsRefused(2);
    expect(model.mismatches).toEqual([]);
    expect(model.describeRejections()).toBe('none');
    expect(lost).toEqual([]);
    expect(await store.snapshots()).toEqual([]);
    await pool.close();

    // Every call is in the journal still (nothing compacted away), the last one with the value acknowledged.
    const calls = [];
    for (const file of await segmentFiles(dir)) for (const { record } of await recordsOf(file)) if (record.key === key) calls.push(record);
    expect(calls.map((record) => record.type)).toEqual(calls.map(() => RecordType.Call));
    expect(calls.map((record) => record.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    const last = calls[calls.length - 1];
    expect(last?.type === RecordType.Call && (last.flags & CallFlags.Failed) === 0 ? valueOf(last.outcome) : undefined).toBe(model.valueOf(key));

    // The disk is well again: a restart is exact, and checkpoints resume (a snapshot is written).
    const again = await openOn(dir, { calls: 3 });
    await model.verify(again.pool);
    expect(model.mismatches).toEqual([]);
    for (let i = 0; i < 6; i++) await model.send(again.pool.session(key), 1);
    // A checkpoint began past the 3-call bound; it ends on its own.
    await eventually(async () => (await again.store.snapshots()).length > 0, 'a checkpoint once the disk is well');
    await model.settle();
    expect(model.mismatches).toEqual([]);
    await model.verify(again.pool);
    expect(model.mismatches).toEqual([]);
    expect(again.lost).toEqual([]);
  });
});
