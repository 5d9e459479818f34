// Durability across restarts: a pool closed (or destroyed) and a new one on the same directory. Every
// session is back at its last acknowledged call, rebuilt lazily on first use or eagerly at create;
// `durableSessions()` lists them; a closed session's state is gone.

import { describe, expect, it } from 'vitest';
import type { ReactorPool } from '../dist/src/index.js';
import { seeded } from '../dist/src/seeded-random.js';
import { durableDir } from './helpers/durable-dir.js';
import { REACTOR } from './helpers/fixtures.js';
import { IncModel } from './helpers/inc-model.js';
import { createPool } from './helpers/pool.js';

const SEED = 20261211;
const KEYS = Array.from({ length: 24 }, (_, i) => `restart-${i}`);

/** Seeded calls on every key, all acknowledged: `calls` per key, several in flight per session. */
async function drive(pool: ReactorPool, model: IncModel, random: () => number, calls: number): Promise<void> {
  for (const key of KEYS) for (let i = 0; i < calls; i++) void model.send(pool.session(key), 1 + Math.floor(random() * 9));
  await model.settle();
  expect(model.mismatches).toEqual([]);
  expect(model.describeRejections()).toBe('none');
}

describe('durability: restart on the same directory', () => {
  for (const recover of ['lazy', 'eager'] as const) {
    it(`${recover}: every session's first call after close() finds its last acknowledged value, generation after generation`, async () => {
      const dir = await durableDir();
      const random = seeded(SEED);
      const model = new IncModel();
      // Small snapshot intervals: recovery reads a snapshot and a journal tail, not the whole history.
      const open = (): Promise<ReactorPool> => createPool({ module: REACTOR, workers: 2, durability: { dir, recover, snapshotEvery: { calls: 7 } } });
      for (let generation = 0; generation < 3; generation++) {
        const pool = await open();
        if (generation > 0) {
          expect([...await pool.durableSessions()].sort()).toEqual([...KEYS].sort());
          await model.verify(pool);
          expect(model.mismatches, `generation ${generation}`).toEqual([]);
        } else {
          expect([...await pool.durableSessions()]).toEqual([]);
        }
        await drive(pool, model, random, 5 + generation * 4);
        await pool.close();
      }
    });
  }

  it('destroy() keeps every acknowledged call too', async () => {
    const dir = await durableDir();
    const model = new IncModel();
    const first = await createPool({ module: REACTOR, workers: 2, durability: { dir } });
    await drive(first, model, seeded(SEED + 1), 6);
    await first.destroy();
    const second = await createPool({ module: REACTOR, workers: 2, durability: { dir } });
    await model.verify(second);
    expect(model.mismatches).toEqual([]);
  });

  it('session.close() deletes its durable state: after a restart the key starts afresh; the others are kept', async () => {
    const dir = await durableDir();
    const model = new IncModel();
    const first = await createPool({ module: REACTOR, workers: 2, durability: { dir } });
    await drive(first, model, seeded(SEED + 2), 4);
    const [closed, ...kept] = KEYS as [string, ...string[]];
    await first.session(closed).close();
    await first.close();
    const second = await createPool({ module: REACTOR, workers: 2, durability: { dir } });
    expect([...await second.durableSessions()].sort()).toEqual([...kept].sort());
    expect(await second.session(closed).call('inc', 0)).toBe(20);
    for (const key of kept) expect(await second.session(key).call('inc', 0)).toBe(model.valueOf(key));
  });
});
