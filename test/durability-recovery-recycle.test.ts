// Durability and recycleWorker: workers replaced while calls are in flight on many sessions. A recycle
// is graceful: every call resolves, every value is exact, no session is lost.

import { describe, expect, it } from 'vitest';
import type { SessionLostEvent } from '../dist/src/index.js';
import { seeded } from '../dist/src/seeded-random.js';
import { durableDir } from './helpers/durable-dir.js';
import { runLoad } from './helpers/durable-load.js';
import { REACTOR } from './helpers/fixtures.js';
import { IncModel } from './helpers/inc-model.js';
import { createPool } from './helpers/pool.js';

const SEED = 20261210;
const CALLS = 4_000;

describe('durability: recycleWorker under load', () => {
  it('loses nothing: every call resolves with its exact value', async () => {
    const dir = await durableDir();
    const pool = await createPool({ module: REACTOR, workers: 2, durability: { dir } });
    const lost: SessionLostEvent[] = [];
    pool.on('sessionLost', (event) => lost.push(event));
    const random = seeded(SEED);
    const keys = Array.from({ length: 64 }, (_, i) => `recycle-${i}`);
    const model = new IncModel();
    const points = [0.2, 0.5, 0.75].map((at) => Math.floor(CALLS * (at + random() * 0.1)));
    const faults = points.map((after, i) => ({ after, run: () => pool.recycleWorker(i % 2) }));
    await runLoad({ pool, model, keys, calls: CALLS, window: 256, random, faults });
    await model.verify(pool);
    expect(model.mismatches, `seed ${SEED}`).toEqual([]);
    expect(model.describeRejections()).toBe('none');
    expect(model.resolved).toBe(CALLS);
    expect(lost).toEqual([]);
    expect(pool.stats().lostSessions).toBe(0);
  }, 120_000);
});
