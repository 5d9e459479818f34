// Durability and worker crashes: worker threads terminated (as a crash would end them) while calls are in
// flight on many sessions. No session is lost; every acknowledged value is exact; a call in flight either
// resolved (applied once) or rejected (never applied), as the model checks.

import { describe, expect, it } from 'vitest';
import type { SessionLostEvent, WorkerFailedEvent } from '../dist/src/index.js';
import { seeded } from '../dist/src/seeded-random.js';
import { durableDir } from './helpers/durable-dir.js';
import { runLoad } from './helpers/durable-load.js';
import { REACTOR } from './helpers/fixtures.js';
import { IncModel } from './helpers/inc-model.js';
import { createPool, terminateWorker } from './helpers/pool.js';

const SEED = 20261209;
const CALLS = 4_000;

describe('durability: worker crashes under load', () => {
  it('lose no session: acknowledged values exact, calls in flight applied once or not at all', async () => {
    const dir = await durableDir();
    const pool = await createPool({ module: REACTOR, workers: 2, maxRestarts: 100, durability: { dir } });
    const lost: SessionLostEvent[] = [];
    const failed: WorkerFailedEvent[] = [];
    pool.on('sessionLost', (event) => lost.push(event));
    pool.on('workerFailed', (event) => failed.push(event));
    const random = seeded(SEED);
    const keys = Array.from({ length: 64 }, (_, i) => `crash-${i}`);
    const model = new IncModel();
    // Kills at seeded points of the load, each while a full window of calls is in flight.
    const points = [0.15, 0.4, 0.65, 0.85].map((at) => Math.floor(CALLS * (at + random() * 0.1)));
    const faults = points.map((after, i) => ({ after, run: () => terminateWorker(pool, i % 2) }));
    await runLoad({ pool, model, keys, calls: CALLS, window: 256, random, faults });
    await model.verify(pool);
    console.log(`worker crashes (seed ${SEED}): ${model.resolved} resolved; rejected: ${model.describeRejections()}; ${failed.length} workers failed`);
    expect(model.mismatches, `seed ${SEED}`).toEqual([]);
    expect(model.rejections.has('ERR_SESSION_LOST')).toBe(false);
    expect(lost).toEqual([]);
    expect(pool.stats().lostSessions).toBe(0);
    expect(failed.map((event) => event.workerId)).toEqual([0, 1, 0, 1]);
    // Every session carries on from there.
    for (const key of keys) expect(await pool.session(key).call('inc', 1)).toBe(model.valueOf(key) + 1);
  }, 120_000);
});
