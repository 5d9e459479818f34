// A cluster client batches: the operations made in one tick go to each partition's owner in one
// request (a session's in order), and a session's later operations wait for its batch in flight.

import { describe, expect, it } from 'vitest';
import { ClusterClient } from '../dist/src/cluster/cluster-client.js';
import { partitionOf } from '../dist/src/cluster/cluster-names.js';
import type { I32 } from '../dist/src/index.js';
import { natsAvailable } from './helpers/nats-server.js';
import { useNatsServer } from './helpers/nats-fixture.js';
import { FakeOwner, deferred, writeClusterConfig } from './helpers/fake-owner.js';
import type { BatchReply } from '../dist/src/cluster/batch-wire.js';

interface Counter {
  inc(): I32;
}

describe.skipIf(!natsAvailable())('cluster client batching', () => {
  const nats = useNatsServer();

  it('sends the operations of one tick in one request per partition, in order per session', async () => {
    const cluster = 'batching';
    await writeClusterConfig(nats.nc, cluster, 4);
    const owner = new FakeOwner(nats.nc, cluster);
    const client = await ClusterClient.connect<Counter>({ nats: nats.server.url, cluster });
    const keys = Array.from({ length: 10 }, (_, index) => `k${index}`);
    const calls: Promise<number>[] = [];
    for (let round = 0; round < 5; round++) for (const key of keys) calls.push(client.session(key).call('inc'));
    const results = await Promise.all(calls);
    expect(results).toEqual(Array.from({ length: 50 }, (_, index) => Math.floor(index / 10) + 1));
    const partitions = new Set(keys.map((key) => partitionOf(key, 4)));
    expect(owner.requests).toHaveLength(partitions.size);
    for (const request of owner.requests) {
      expect(partitions.has(request.partition)).toBe(true);
      for (const op of request.ops) expect(partitionOf(op.key, 4)).toBe(request.partition);
    }
    expect(owner.requests.reduce((sum, request) => sum + request.ops.length, 0)).toBe(50);
    // Every call carried its own idempotency key.
    const ids = owner.requests.flatMap((request) => request.ops.map((op) => ('id' in op ? op.id : '')));
    expect(new Set(ids).size).toBe(50);
    await client.close();
    owner.stop();
  });

  it('keeps a session single-flight: calls made while its batch is out go in the next one', async () => {
    const cluster = 'singleflight';
    await writeClusterConfig(nats.nc, cluster, 2);
    const owner = new FakeOwner(nats.nc, cluster);
    const first = deferred<BatchReply>();
    owner.answer = (request, index) => (index === 0 ? first.promise.then(() => owner.serve(request)) : owner.serve(request));
    const client = await ClusterClient.connect<Counter>({ nats: nats.server.url, cluster });
    const session = client.session('a');
    const one = session.call('inc');
    await owner.received(1);
    const two = session.call('inc');
    const three = session.call('inc');
    first.resolve({ status: 'moved', reason: 'unused' });
    expect(await Promise.all([one, two, three])).toEqual([1, 2, 3]);
    expect(owner.requests.map((request) => request.ops.length)).toEqual([1, 2]);
    await client.close();
    owner.stop();
  });

  it('carries callMany lists, snapshots, restores, resets and closes', async () => {
    const cluster = 'operations';
    await writeClusterConfig(nats.nc, cluster, 3);
    const owner = new FakeOwner(nats.nc, cluster);
    const client = await ClusterClient.connect({ nats: nats.server.url, cluster });
    const session = client.session('s');
    const list = new Float32Array([1.5, -0, Number.NaN]);
    const [many, snapshot, restored, reset] = await Promise.all([
      session.callMany('f', list), session.snapshot(), session.restore(new Uint8Array([1, 2])), session.reset(),
    ]);
    expect(many).toBeInstanceOf(Float32Array);
    expect([...(many as Float32Array)]).toEqual([1.5, -0, Number.NaN]);
    expect([snapshot, restored, reset]).toEqual([undefined, undefined, undefined]);
    await session.close();
    await expect(session.call('inc')).rejects.toMatchObject({ code: 'ERR_SESSION_CLOSED' });
    const ops = owner.requests.flatMap((request) => request.ops.map((op) => op.op));
    expect(ops).toEqual(['callMany', 'snapshot', 'restore', 'reset', 'close']);
    await client.close();
    owner.stop();
  });
});
