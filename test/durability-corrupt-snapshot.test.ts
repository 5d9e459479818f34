// A durable session's snapshot files damaged on purpose between two runs: the newest one corrupted,
// truncated or gone, the session comes back from the one before it plus the journal, its value exact,
// and it carries on (checkpoints again); both gone or unreadable, that session alone is lost
// (ERR_SESSION_LOST, cause ERR_DURABLE_STORE, `sessionLost` once) and every other session is exact.

import { readFile, rm, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { ReactorPool, SessionLostEvent } from '../dist/src/index.js';
import { RecordType } from '../dist/src/journal-record.js';
import { seeded } from '../dist/src/seeded-random.js';
import { durableDir } from './helpers/durable-dir.js';
import { recordsOf, segmentFiles, snapshotFile, snapshotGenerations } from './helpers/durable-files.js';
import { REACTOR } from './helpers/fixtures.js';
import { IncModel } from './helpers/inc-model.js';
import { eventually } from './helpers/pool-events.js';
import { createPool, rejection } from './helpers/pool.js';

const SEED = 20261302;
const KEYS = ['snap-0', 'snap-1', 'snap-2'];
const TARGET = 'snap-1';
const CALLS = 15;
const open = (dir: string): Promise<ReactorPool> => createPool({ module: REACTOR, workers: 2, durability: { dir, snapshotEvery: { calls: 4 } } });

/** The generations the journal's Snapshot records name for `key`, in the order written. */
async function journaledGenerations(dir: string, key: string): Promise<number[]> {
  const generations: number[] = [];
  for (const file of await segmentFiles(dir)) {
    for (const { record } of await recordsOf(file)) if (record.type === RecordType.Snapshot && record.key === key) generations.push(record.generation);
  }
  return generations;
}

interface Written {
  readonly dir: string;
  readonly model: IncModel;
  /** TARGET's newest snapshot generation and the one before it (both on disk). */
  readonly newest: number;
  readonly previous: number;
}

/** Calls on every key, one at a time per session, until each has two snapshots in the journal; then closed. */
async function writeSessions(): Promise<Written> {
  const dir = await durableDir();
  const model = new IncModel();
  const random = seeded(SEED);
  const pool = await open(dir);
  for (let i = 0; i < CALLS; i++) {
    await Promise.all(KEYS.map((key) => model.send(pool.session(key), 1 + Math.floor(random() * 9))));
  }
  // Checkpoints run beside the calls: wait until each session has two in its journal (the newest and a fallback).
  await eventually(async () => {
    for (const key of KEYS) if ((await journaledGenerations(dir, key)).length < 2) return false;
    return true;
  }, 'two snapshots per session');
  await model.settle();
  expect(model.mismatches).toEqual([]);
  expect(model.describeRejections()).toBe('none');
  await pool.close();
  const generations = await journaledGenerations(dir, TARGET);
  const [previous, newest] = generations.slice(-2) as [number, number];
  // The store keeps the newest snapshot and the one before it (a checkpoint cut short by close() may
  // have left a later file no record names: the next open deletes it).
  expect(await snapshotGenerations(dir, TARGET)).toEqual(expect.arrayContaining([previous, newest]));
  return { dir, model, newest, previous };
}

/**
 * Opens a pool on the directory and checks every session exact; then they carry on, through new
 * checkpoints. (A second restart after those is test/durability-compaction-restart.test.ts.)
 */
async function expectAllExact({ dir, model }: Written): Promise<void> {
  const pool = await open(dir);
  const lost: SessionLostEvent[] = [];
  pool.on('sessionLost', (event) => lost.push(event));
  expect([...await pool.durableSessions()].sort()).toEqual([...KEYS].sort());
  await model.verify(pool);
  expect(model.mismatches).toEqual([]);
  const random = seeded(SEED + 1);
  for (let i = 0; i < 6; i++) await Promise.all(KEYS.map((key) => model.send(pool.session(key), 1 + Math.floor(random() * 9))));
  await model.settle();
  expect(model.mismatches).toEqual([]);
  expect(model.describeRejections()).toBe('none');
  await model.verify(pool);
  expect(model.mismatches).toEqual([]);
  expect(lost).toEqual([]);
}

/** Opens a pool on the directory: TARGET is lost (cause ERR_DURABLE_STORE, one event), every other session exact. */
async function expectTargetLost({ dir, model }: Written): Promise<void> {
  const pool = await open(dir);
  const lost: SessionLostEvent[] = [];
  pool.on('sessionLost', (event) => lost.push(event));
  const error = await rejection(pool.session(TARGET).call('inc', 1));
  expect(error.code).toBe('ERR_SESSION_LOST');
  expect((error.cause as { code?: string } | undefined)?.code).toBe('ERR_DURABLE_STORE');
  expect(error.message).toContain(TARGET);
  // Lost stays lost (the loss rule): no silent fresh instance.
  expect((await rejection(pool.session(TARGET).call('inc', 0))).code).toBe('ERR_SESSION_LOST');
  expect(lost.map((event) => [event.key, event.cause.code])).toEqual([[TARGET, 'ERR_DURABLE_STORE']]);
  for (const key of KEYS.filter((other) => other !== TARGET)) expect(await pool.session(key).call('inc', 0), key).toBe(model.valueOf(key));
  expect(lost).toHaveLength(1);
}

/** Flips one byte in the middle of a file. */
async function flipByte(path: string): Promise<void> {
  const bytes = new Uint8Array(await readFile(path));
  const at = Math.floor(bytes.byteLength / 2);
  bytes[at] = (bytes[at] ?? 0) ^ 0x40;
  await writeFile(path, bytes);
}

/** Cuts a file to half its length. */
async function truncateHalf(path: string): Promise<void> {
  const bytes = new Uint8Array(await readFile(path));
  await writeFile(path, bytes.subarray(0, Math.floor(bytes.byteLength / 2)));
}

describe('durability: a corrupt snapshot file', () => {
  const damages: [string, (path: string) => Promise<void>][] = [
    ['a byte flipped', flipByte],
    ['truncated', truncateHalf],
    ['deleted', (path) => rm(path)],
  ];

  for (const [what, damage] of damages) {
    it(`the newest one ${what}: the session comes back from the one before plus the journal, value exact`, async () => {
      const written = await writeSessions();
      await damage(snapshotFile(written.dir, TARGET, written.newest));
      await expectAllExact(written);
    });
  }

  it('the newest flipped and the one before truncated: that session is lost with ERR_DURABLE_STORE, the others exact', async () => {
    const written = await writeSessions();
    await flipByte(snapshotFile(written.dir, TARGET, written.newest));
    await truncateHalf(snapshotFile(written.dir, TARGET, written.previous));
    await expectTargetLost(written);
  });

  it('both deleted: that session is lost with ERR_DURABLE_STORE, the others exact', async () => {
    const written = await writeSessions();
    await rm(snapshotFile(written.dir, TARGET, written.newest));
    await rm(snapshotFile(written.dir, TARGET, written.previous));
    await expectTargetLost(written);
  });

  it('the newest swapped for another session\'s file: not taken for it, the one before stands in', async () => {
    const written = await writeSessions();
    const [other] = (await journaledGenerations(written.dir, 'snap-0')).slice(-1);
    await writeFile(snapshotFile(written.dir, TARGET, written.newest), await readFile(snapshotFile(written.dir, 'snap-0', other ?? 0)));
    await expectAllExact(written);
  });
});
