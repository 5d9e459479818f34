// Durable sessions with host functions: a host call's results, and the memory writes and allocations
// it made through its context, are recorded on the input tape; a rebuild feeds them back without
// calling the host function (whose answers here change on every call), and a replay that asks for
// another host call than the journal recorded diverges.

import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { ReactorPool, ReactorPoolEvents, SessionLostEvent } from '../dist/src/index.js';
import { RecordType, type CallRecord } from '../dist/src/journal-record.js';
import { durableDir } from './helpers/durable-dir.js';
import { lastSegmentFile, recordsIn, rewriteRecord } from './helpers/durable-files.js';
import { fixture } from './helpers/fixtures.js';
import { createPool, rejection, terminateWorker } from './helpers/pool.js';
import { asNumber } from './helpers/results.js';

const MODULE = fixture('host-functions.wasm');
const HOST = fixture('host-functions.mjs');
const KEYS = ['h-0', 'h-1', 'h-2', 'h-3'];

type SessionRecoveredEvent = ReactorPoolEvents['sessionRecovered'][0];

async function open(dir: string, snapshotEvery?: { calls: number }): Promise<{ pool: ReactorPool; lost: SessionLostEvent[]; recovered: SessionRecoveredEvent[] }> {
  const pool = await createPool({ module: MODULE, workers: 2, hostFunctions: HOST, durability: { dir, ...(snapshotEvery === undefined ? {} : { snapshotEvery }) } });
  const lost: SessionLostEvent[] = [];
  const recovered: SessionRecoveredEvent[] = [];
  pool.on('sessionLost', (event) => lost.push(event));
  pool.on('sessionRecovered', (event) => recovered.push(event));
  return { pool, lost, recovered };
}

/** Calls that take host results (noise), host writes (fill) and host allocations (greet); each session's state after them. */
async function useHost(pool: ReactorPool): Promise<Map<string, number>> {
  const states = new Map<string, number>();
  await Promise.all(KEYS.map(async (key) => {
    const session = pool.session(key);
    for (let round = 0; round < 3; round++) {
      await session.call('bump', round);
      await session.call('fill', 5);
      expect(await session.with({ result: 'string' }).call('greet', `r${round}`)).toBe(`hello r${round} from ${key}`);
    }
    expect((await rejection(session.call('fail'))).code).toBe('ERR_HOST_FUNCTION_FAILED');
    states.set(key, asNumber(await session.call('state')));
  }));
  return states;
}

async function expectStates(pool: ReactorPool, expected: Map<string, number>): Promise<void> {
  for (const key of KEYS) expect(await pool.session(key).call('state'), key).toBe(expected.get(key));
}

describe('host functions under durability', () => {
  for (const snapshotEvery of [undefined, { calls: 4 }]) {
    const how = snapshotEvery === undefined ? 'journal only' : 'snapshots every 4 calls';
    it(`after worker crashes every session is exactly where it was, the host never asked again (${how})`, async () => {
      const dir = await durableDir();
      const { pool, lost, recovered } = await open(dir, snapshotEvery);
      const expected = await useHost(pool);
      await terminateWorker(pool, 0);
      await terminateWorker(pool, 1);
      await expectStates(pool, expected);
      expect([...new Set(recovered.map((event) => event.key))].sort()).toEqual([...KEYS].sort());
      expect(lost).toEqual([]);
      // The greet allocations were replayed too: the next one lands where it would have.
      expect(await pool.session('h-0').with({ result: 'string' }).call('greet', 'again')).toBe('hello again from h-0');
    });
  }

  it('after a restart every session is exactly where it was', async () => {
    const dir = await durableDir();
    const first = await open(dir);
    const expected = await useHost(first.pool);
    await first.pool.close();
    const second = await open(dir);
    await expectStates(second.pool, expected);
    expect(second.lost).toEqual([]);
  });

  it('a replay asking for another host call than the journal holds diverges (ERR_REPLAY_DIVERGED)', async () => {
    const dir = await durableDir();
    const first = await open(dir);
    const [key] = KEYS as [string];
    expect(await first.pool.session(key).call('add', 2, 3)).toBe(5);
    await first.pool.close();

    const path = await lastSegmentFile(dir);
    const bytes = new Uint8Array(await readFile(path));
    const found = recordsIn(bytes).find(({ record }) => record.type === RecordType.Call && record.key === key);
    const record = found?.record as CallRecord;
    // The tape: a host call of import 0 (`env.add`), then its return (u8 7, an f64).
    const tape = record.tape.slice();
    const view = new DataView(tape.buffer);
    expect([view.getUint8(0), view.getUint32(1, true), view.getUint8(5), view.getFloat64(6, true)]).toEqual([4, 0, 7, 5]);
    view.setUint32(1, 5, true); // as if it had called `env.key_len`
    await writeFile(path, rewriteRecord(bytes, found as NonNullable<typeof found>, { ...record, tape }));

    const second = await open(dir);
    const error = await rejection(second.pool.session(key).call('state'));
    expect(error.code).toBe('ERR_SESSION_LOST');
    expect(second.lost.map((event) => event.cause.code)).toEqual(['ERR_REPLAY_DIVERGED']);
    expect(second.lost[0]?.cause.message).toContain('host function `env.add` was called, the tape holds a call of `env.key_len`');
  });
});
