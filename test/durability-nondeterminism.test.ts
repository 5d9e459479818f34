// Durable sessions of a module whose state depends on the host's clocks, generator and poll_oneoff:
// rebuilt after a worker crash or a restart, each is exactly where it was (the inputs its calls were
// given are fed back, never new ones), its monotonic clock never goes back (not even behind a time the
// journal recorded), and what its calls printed is not printed again by the replay.

import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { ReactorPool, ReactorPoolEvents, SessionLostEvent } from '../dist/src/index.js';
import { RecordType, type CallRecord } from '../dist/src/journal-record.js';
import { durableDir } from './helpers/durable-dir.js';
import { lastSegmentFile, recordsIn, rewriteRecord, valueOf } from './helpers/durable-files.js';
import { KITCHEN, OutputCollector, fixture } from './helpers/fixtures.js';
import { createPool, terminateWorker } from './helpers/pool.js';
import { asBigInt, asNumber } from './helpers/results.js';

const NONDETERMINISTIC = fixture('nondeterministic.wasm');
const KEYS = ['nd-0', 'nd-1', 'nd-2', 'nd-3', 'nd-4', 'nd-5'];

/** Not exported by name from the package: read off the events' map. */
type SessionRecoveredEvent = ReactorPoolEvents['sessionRecovered'][0];

interface Watched {
  readonly pool: ReactorPool;
  readonly lost: SessionLostEvent[];
  readonly recovered: SessionRecoveredEvent[];
}

async function open(dir: string, snapshotEvery: { calls: number } | undefined): Promise<Watched> {
  const pool = await createPool({ module: NONDETERMINISTIC, workers: 2, durability: { dir, ...(snapshotEvery === undefined ? {} : { snapshotEvery }) } });
  const lost: SessionLostEvent[] = [];
  const recovered: SessionRecoveredEvent[] = [];
  pool.on('sessionLost', (event) => lost.push(event));
  pool.on('sessionRecovered', (event) => recovered.push(event));
  return { pool, lost, recovered };
}

/**
 * Calls on every key that each take an input from the host (random bytes, the monotonic and realtime
 * clocks, a poll); resolves with each session's state after them and the last monotonic time it read.
 */
async function useHostInputs(pool: ReactorPool, rounds: number): Promise<Map<string, { state: number; now: bigint }>> {
  const seen = new Map<string, { state: number; now: bigint }>();
  await Promise.all(KEYS.map(async (key) => {
    const session = pool.session(key);
    for (let round = 0; round < rounds; round++) {
      await session.call('roll');
      await session.call('stamp');
      expect(await session.call('clock', 0)).toBe(0);
      await session.call('nap');
      await session.call('bytes', 16);
    }
    const now = await session.call('now').then(asBigInt);
    seen.set(key, { state: asNumber(await session.call('state')), now });
  }));
  return seen;
}

/** Every session's state is exactly `expected` and its monotonic clock reads no earlier than the last time it was given. */
async function expectExact(pool: ReactorPool, expected: Map<string, { state: number; now: bigint }>): Promise<void> {
  for (const key of KEYS) {
    const before = expected.get(key);
    expect(await pool.session(key).call('state'), key).toBe(before?.state);
    expect(await pool.session(key).call('now').then(asBigInt), key).toBeGreaterThanOrEqual(before?.now ?? 0n);
  }
}

describe('durability: non-deterministic host inputs', () => {
  for (const snapshotEvery of [undefined, { calls: 4 }]) {
    const how = snapshotEvery === undefined ? 'journal only' : 'snapshots every 4 calls';
    it(`after worker crashes every session is exactly where it was (${how})`, async () => {
      const dir = await durableDir();
      const { pool, lost, recovered } = await open(dir, snapshotEvery);
      const expected = await useHostInputs(pool, 3);
      await terminateWorker(pool, 0);
      await terminateWorker(pool, 1);
      await expectExact(pool, expected);
      // Each was rebuilt (by a replay), none lost: a replay fed new inputs would have diverged or drifted.
      expect([...new Set(recovered.map((event) => event.key))].sort()).toEqual([...KEYS].sort());
      expect(lost).toEqual([]);
      // They carry on from there on fresh inputs, and are exact through a second crash.
      const later = await useHostInputs(pool, 1);
      for (const key of KEYS) expect(later.get(key)?.state).not.toBe(expected.get(key)?.state);
      await terminateWorker(pool, 0);
      await expectExact(pool, later);
      expect(lost).toEqual([]);
    });

    it(`after a restart every session is exactly where it was (${how})`, async () => {
      const dir = await durableDir();
      const first = await open(dir, snapshotEvery);
      const expected = await useHostInputs(first.pool, 3);
      await first.pool.close();
      const second = await open(dir, snapshotEvery);
      await expectExact(second.pool, expected);
      expect([...new Set(second.recovered.map((event) => event.key))].sort()).toEqual([...KEYS].sort());
      expect(second.lost).toEqual([]);
    });
  }

  it('the monotonic clock continues from the latest time the journal recorded, even one ahead of the host\'s clock', async () => {
    const dir = await durableDir();
    const first = await open(dir, undefined);
    const [key] = KEYS as [string];
    const session = first.pool.session(key);
    await session.call('roll');
    expect(await session.call('clock', 1)).toBe(0);
    const state = await session.call('state');
    await first.pool.close();

    // As if the journal came from a host whose monotonic clock was far ahead (another machine, before a
    // reboot): the clock(1) call's recorded time moved 2^40 ns later, its low 32 bits (what the state
    // took in) unchanged, so the replay still ends where it did.
    const path = await lastSegmentFile(dir);
    const bytes = new Uint8Array(await readFile(path));
    const records = recordsIn(bytes);
    // Records of the session: roll (seq 1, which started its instance), clock(1) (seq 2), state (seq 3).
    const clockCall = records.find(({ record }) => record.type === RecordType.Call && record.key === key && record.seq === 2);
    const record = clockCall?.record as CallRecord;
    expect(valueOf(record.outcome)).toBe(0);
    // The tape holds one clock entry: u8 kind (1), u32 clock id, u64 the time written.
    expect(record.tape.byteLength).toBe(13);
    const tape = record.tape.slice();
    const view = new DataView(tape.buffer);
    expect([view.getUint8(0), view.getUint32(1, true)]).toEqual([1, 1]);
    const recorded = view.getBigUint64(5, true);
    const ahead = recorded + 2n ** 40n;
    view.setBigUint64(5, ahead, true);
    await writeFile(path, rewriteRecord(bytes, clockCall as NonNullable<typeof clockCall>, { ...record, tape }));

    const second = await open(dir, undefined);
    expect(await second.pool.session(key).call('state')).toBe(state);
    expect(await second.pool.session(key).call('now').then(asBigInt)).toBeGreaterThanOrEqual(ahead);
    expect(second.lost).toEqual([]);
  });

  it('what calls printed is not printed again when a crash or a restart replays them', async () => {
    const dir = await durableDir();
    const stdout = new OutputCollector();
    const stderr = new OutputCollector();
    const pool = await createPool({ module: KITCHEN, workers: 1, stdout: stdout.callback, stderr: stderr.callback, durability: { dir } });
    const key = 'printer';
    const session = pool.session(key);
    await session.call('say', 1);
    await session.call('say', 2);
    await terminateWorker(pool, 0);
    await session.call('say', 3);
    expect(stdout.of(key)).toBe('say 1\nsay 2\nsay 3\n');
    // `_initialize` printed once: the replay's `_initialize` is silent too.
    expect(stderr.of(key)).toBe('s = 20\nerr 1\nerr 2\nerr 3\n');
    await pool.close();

    const stdoutAfter = new OutputCollector();
    const stderrAfter = new OutputCollector();
    const again = await createPool({ module: KITCHEN, workers: 1, stdout: stdoutAfter.callback, stderr: stderrAfter.callback, durability: { dir } });
    await again.session(key).call('say', 4);
    expect(stdoutAfter.of(key)).toBe('say 4\n');
    expect(stderrAfter.of(key)).toBe('err 4\n');
    expect(await again.session(key).call('get')).toBe(20);
  });
});
