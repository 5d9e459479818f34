// A restart after compaction deleted the journal segments a session began in: the segment left starts
// with records that follow a snapshot named only in a deleted segment, and the snapshots named after them
// cover them; every session must come back exact, however many restarts it went through.


import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ReactorPool } from '../dist/src/index.js';
import { seeded } from '../dist/src/seeded-random.js';
import { durableDir } from './helpers/durable-dir.js';
import { REACTOR } from './helpers/fixtures.js';
import { IncModel } from './helpers/inc-model.js';
import { eventually } from './helpers/pool-events.js';
import { createPool } from './helpers/pool.js';

const SEED = 20261306;
const KEYS = ['compact-0', 'compact-1', 'compact-2'];

describe('durability: restart after compaction deleted the older segments', () => {
  it('every session comes back exact on the restart after', async () => {
    const dir = await durableDir();
    const open = (): Promise<ReactorPool> => createPool({ module: REACTOR, workers: 2, durability: { dir, snapshotEvery: { calls: 4 } } });
    const model = new IncModel();
    const random = seeded(SEED);
    const drive = async (pool: ReactorPool): Promise<void> => {
      for (let i = 0; i < 15; i++) await Promise.all(KEYS.map((key) => model.send(pool.session(key), 1 + Math.floor(random() * 9))));
      await model.settle();
      expect(model.mismatches).toEqual([]);
      expect(model.describeRejections()).toBe('none');
    };
    const segments = async (): Promise<string[]> => (await readdir(join(dir, 'journal'))).filter((name) => name.endsWith('.journal')).sort();

    const first = await open();
    await drive(first);
    await first.close();
    expect(await segments()).toEqual(['0000000000000001.journal']);

    const second = await open();
    await model.verify(second);
    expect(model.mismatches).toEqual([]);
    await drive(second);
    // Checkpoints in the new segment until compaction deleted the first one.
    await eventually(async () => !(await segments()).includes('0000000000000001.journal'), 'segment 1 compacted away');
    await second.close();
    expect(await segments()).toEqual(['0000000000000002.journal']);

    const third = await open();
    expect([...await third.durableSessions()].sort()).toEqual([...KEYS].sort());
    await model.verify(third);
    expect(model.mismatches).toEqual([]);
  });
});
