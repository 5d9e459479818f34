// Compaction of the journal: with small segments, busy sessions checkpoint and idle ones are carried
// forward, old segments are deleted, and a new pool on the same directory finds every session exact.

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ReactorPoolOptions } from '../dist/src/index.js';
import { durableDir } from './helpers/durable-dir.js';
import { REACTOR } from './helpers/fixtures.js';
import { createPool } from './helpers/pool.js';
import { asNumber } from './helpers/results.js';

const SESSIONS = 30;
const BUSY = 10;
const ROUNDS = 60;

describe('durability: journal compaction', () => {
  it('deletes the segments no session needs and keeps every session exact across a restart', async () => {
    const dir = await durableDir();
    const options: Omit<ReactorPoolOptions, 'results'> = {
      module: REACTOR, workers: 2, stderr: 'ignore',
      durability: { dir, segmentBytes: 4096, snapshotEvery: { calls: 25 } },
    };
    const expected = new Map<string, number>();
    let pool = await createPool(options);
    for (let round = 0; round < ROUNDS; round++) {
      const calls: Promise<number>[] = [];
      for (let s = 0; s < SESSIONS; s++) {
        // Sessions past BUSY go idle after a few rounds: their records must be carried forward.
        if (s >= BUSY && round > 2) continue;
        const key = `s${s}`;
        expected.set(key, (expected.get(key) ?? 20) + s);
        calls.push(pool.session(key).call('inc', s).then(asNumber));
      }
      await Promise.all(calls);
    }
    const segments = await readdir(join(dir, 'journal'));
    // Every file name is its segment number: the highest says how many there have been.
    const rotationsAtLeast = Math.max(...segments.map((name) => Number.parseInt(name, 10)));
    expect(rotationsAtLeast).toBeGreaterThan(10);
    expect(segments.length).toBeLessThan(rotationsAtLeast / 2);
    await pool.close();

    pool = await createPool(options);
    expect((await pool.durableSessions()).sort()).toEqual([...expected.keys()].sort());
    for (const [key, want] of expected) expect(await pool.session(key).call('inc', 0), key).toBe(want);
  });
});
