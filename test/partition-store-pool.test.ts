// A durable pool on a partition's store in JetStream: after the pool is gone (as after a crash) a new
// owner's take-over and a new pool bring every session back to its last acknowledged call, keyed
// calls are not applied twice, and the old pool, fenced, acknowledges nothing more.

import { describe, expect, it } from 'vitest';
import { REACTOR } from './helpers/fixtures.js';
import { IncModel } from './helpers/inc-model.js';
import { natsAvailable } from './helpers/nats-server.js';
import { natsConnection, newCluster, takeOver, usePartitionStores } from './helpers/partition-stores.js';
import { createPool } from './helpers/pool.js';
import { seeded } from '../dist/src/seeded-random.js';

describe.skipIf(!natsAvailable())('partition store: a durable pool on it', () => {
  usePartitionStores();

  it('a new owner restores every session exactly, and a retried keyed call is answered, not applied again', async () => {
    const nats = await natsConnection();
    const cluster = await newCluster(nats);
    const storeA = await takeOver(nats, { cluster, partition: 5, memberId: 'a', epoch: 1 });
    // Snapshots every few calls, so the journal is compacted into snapshots (and segments deleted) on the way.
    const durability = { snapshotEvery: { calls: 4 }, segmentBytes: 4096 };
    const poolA = await createPool({ module: REACTOR, workers: 1, durability: { store: storeA, ...durability } });
    const model = new IncModel();
    const next = seeded(11);
    const keys = Array.from({ length: 8 }, (_, i) => `session-${i}`);
    for (let round = 0; round < 30; round++) {
      for (const key of keys) void model.send(poolA.session(key), 1 + Math.floor(next() * 9));
    }
    await model.settle();
    const keyedSession = poolA.session('keyed');
    const keyed = await keyedSession.with({ idempotencyKey: 'once' }).call('inc', 100);
    expect(keyed).toBe(120);
    await poolA.destroy();

    const storeB = await takeOver(nats, { cluster, partition: 5, memberId: 'b', epoch: 2 });
    const poolB = await createPool({ module: REACTOR, workers: 1, durability: { store: storeB, ...durability } });
    await model.verify(poolB);
    expect(model.mismatches).toEqual([]);
    expect(model.rejections.size).toBe(0);
    expect(model.resolved).toBe(30 * keys.length);
    // The retried call (as a client does after a handover) is answered from the record.
    expect(await poolB.session('keyed').with({ idempotencyKey: 'once' }).call('inc', 100)).toBe(120);
    expect(await poolB.session('keyed').call('inc', 0)).toBe(120);
    expect((await storeB.snapshots()).length).toBeGreaterThan(0);
  });

  it('the old owner\'s pool, fenced by a take-over, acknowledges no call after it', async () => {
    const nats = await natsConnection();
    const cluster = await newCluster(nats);
    const storeA = await takeOver(nats, { cluster, partition: 0, memberId: 'a', epoch: 1 });
    const poolA = await createPool({ module: REACTOR, workers: 1, durability: { store: storeA } });
    expect(await poolA.session('k').call('inc', 1)).toBe(21);
    const storeB = await takeOver(nats, { cluster, partition: 0, memberId: 'b', epoch: 2 });
    const late = poolA.session('k').call('inc', 1000);
    // The pool says the journal refused the write; the store says why.
    await expect(late).rejects.toMatchObject({ code: 'ERR_JOURNAL_WRITE' });
    expect(storeA.failure?.code).toBe('ERR_FENCED');
    const poolB = await createPool({ module: REACTOR, workers: 1, durability: { store: storeB } });
    expect(await poolB.session('k').call('inc', 0)).toBe(21);
  });
});
