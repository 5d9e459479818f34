// A partition's store in JetStream keeps the DurableStore contract: segments append in order (cut
// into messages that fit the server), snapshots are replaced whole, deletes remove, and a later
// take-over reads back exactly what was acknowledged. The cluster's stream is made once and checked.

import { headers } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { ensureClusterStream } from '../dist/src/cluster/partition-store.js';
import { natsAvailable } from './helpers/nats-server.js';
import { identity, natsConnection, newCluster, randomBytes, takeOver, usePartitionStores } from './helpers/partition-stores.js';

const text = (value: string): Uint8Array => new TextEncoder().encode(value);

describe.skipIf(!natsAvailable())('partition store: the durable store contract', () => {
  usePartitionStores();

  it('round-trips segments, large appends, snapshots and deletes, and a new take-over sees all of it', async () => {
    const nats = await natsConnection();
    const cluster = await newCluster(nats);
    const first = await takeOver(nats, { cluster, partition: 3, memberId: 'm1', epoch: 1, maxPayload: 4096 });
    await first.open(identity('a'));
    expect(await first.segments()).toEqual([]);
    expect(await first.snapshots()).toEqual([]);
    const large = randomBytes(20_000, 7);
    await first.append(0, text('one '));
    await first.append(0, text('two '));
    await first.append(1, large);
    await first.append(2, new Uint8Array(0));
    await first.writeSnapshot('key-1', text('old'));
    await first.writeSnapshot('key-1', randomBytes(9000, 8));
    await first.writeSnapshot('a.b c/%', text('odd name'));
    await first.writeSnapshot('gone', text('x'));
    await first.deleteSnapshot('gone');
    await first.deleteSnapshot('never');
    await first.deleteSegment(2);
    await first.deleteSegment(9);
    await first.append(0, text('three'));

    expect(await first.segments()).toEqual([0, 1]);
    expect(new TextDecoder().decode(await first.readSegment(0))).toBe('one two three');
    expect(await first.readSegment(1)).toEqual(large);
    await expect(first.readSegment(2)).rejects.toMatchObject({ code: 'ERR_DURABLE_STORE' });
    expect((await first.snapshots()).sort()).toEqual(['a.b c/%', 'key-1']);
    expect(await first.readSnapshot('key-1')).toEqual(randomBytes(9000, 8));
    expect(await first.readSnapshot('gone')).toBeUndefined();
    await first.close();

    const second = await takeOver(nats, { cluster, partition: 3, memberId: 'm2', epoch: 2 });
    await second.open(identity('a'));
    expect(await second.segments()).toEqual([0, 1]);
    expect(new TextDecoder().decode(await second.readSegment(0))).toBe('one two three');
    expect(await second.readSegment(1)).toEqual(large);
    expect((await second.snapshots()).sort()).toEqual(['a.b c/%', 'key-1']);
    expect(await second.readSnapshot('key-1')).toEqual(randomBytes(9000, 8));
    expect(new TextDecoder().decode(await second.readSnapshot('a.b c/%'))).toBe('odd name');
    // Another partition of the same cluster is its own.
    const other = await takeOver(nats, { cluster, partition: 4, memberId: 'm2', epoch: 1 });
    await other.open(identity('a'));
    expect(await other.segments()).toEqual([]);
    expect(await other.snapshots()).toEqual([]);
  });

  it('purges what is deleted or superseded: only the newest fence record, the live snapshot write and segments stay', async () => {
    const nats = await natsConnection();
    const cluster = await newCluster(nats);
    const first = await takeOver(nats, { cluster, partition: 0, memberId: 'm0', epoch: 1 });
    await first.open(identity('a'));
    await first.close();
    const store = await takeOver(nats, { cluster, partition: 0, memberId: 'm1', epoch: 2 });
    await store.open(identity('a'));
    await store.writeSnapshot('s', text('1'));
    await store.writeSnapshot('s', text('2'));
    await store.append(5, text('x'));
    await store.deleteSegment(5);
    // The delete purged the newest message of the partition: the next write must still be accepted.
    await store.append(6, text('y'));
    const info = await nats.jsm.streams.info(`REACTOR_POOL_${cluster}`, { subjects_filter: '>' });
    expect(info.state.subjects).toEqual({
      [`rp.${cluster}.p.0.fence`]: 1,
      [`rp.${cluster}.p.0.s.s`]: 1,
      [`rp.${cluster}.p.0.j.6`]: 1,
    });
  });

  it('a take-over reads a partition of more messages than one batch of reads brings', async () => {
    const nats = await natsConnection();
    const cluster = await newCluster(nats);
    const first = await takeOver(nats, { cluster, partition: 2, memberId: 'm1', epoch: 1 });
    await first.open(identity('a'));
    const expected: string[] = [];
    for (let i = 0; i < 2500; i++) {
      expected.push(`${i},`);
      await first.append(1 + Math.floor(i / 1000), text(`${i},`));
    }
    await first.close();
    const second = await takeOver(nats, { cluster, partition: 2, memberId: 'm2', epoch: 2 });
    await second.open(identity('a'));
    expect(await second.segments()).toEqual([1, 2, 3]);
    const read = await Promise.all([1, 2, 3].map(async (segment) => new TextDecoder().decode(await second.readSegment(segment))));
    expect(read.join('')).toBe(expected.join(''));
  });

  it('snapshot writes and deletes running alongside appends are queued behind one another, none refused', async () => {
    const nats = await natsConnection();
    const cluster = await newCluster(nats);
    const store = await takeOver(nats, { cluster, partition: 7, memberId: 'm1', epoch: 1, maxPayload: 4096 });
    await store.open(identity('a'));
    await store.writeSnapshot('old', text('old'));
    const pending: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      pending.push(store.append(0, text(`${i};`)));
      pending.push(store.writeSnapshot(`s${i % 3}`, randomBytes(5000, i)));
      if (i === 10) pending.push(store.deleteSnapshot('old'));
    }
    await Promise.all(pending);
    expect(store.failure).toBeUndefined();
    const again = await takeOver(nats, { cluster, partition: 7, memberId: 'm2', epoch: 2 });
    await again.open(identity('a'));
    expect(new TextDecoder().decode(await again.readSegment(0))).toBe(Array.from({ length: 20 }, (_, i) => `${i};`).join(''));
    expect((await again.snapshots()).sort()).toEqual(['s0', 's1', 's2']);
    expect(await again.readSnapshot('s1')).toEqual(randomBytes(5000, 19));
  });

  it('a snapshot read while the same name is replaced answers the old bytes or the new, whole', async () => {
    const nats = await natsConnection();
    const cluster = await newCluster(nats);
    const store = await takeOver(nats, { cluster, partition: 8, memberId: 'm1', epoch: 1, maxPayload: 4096 });
    await store.open(identity('a'));
    await store.writeSnapshot('s', randomBytes(20_000, 0));
    for (let i = 1; i <= 10; i++) {
      const [read] = await Promise.all([store.readSnapshot('s'), store.writeSnapshot('s', randomBytes(20_000, i))]);
      expect([randomBytes(20_000, i - 1), randomBytes(20_000, i)]).toContainEqual(read);
    }
    expect(await store.readSnapshot('s')).toEqual(randomBytes(20_000, 10));
  });

  it('a write that fails for another reason than a fence fails the store for good too', async () => {
    const nats = await natsConnection();
    const cluster = await newCluster(nats);
    const store = await takeOver(nats, { cluster, partition: 0, memberId: 'm1', epoch: 1 });
    await store.open(identity('a'));
    await store.append(0, text('kept'));
    await nats.nc.close();
    await expect(store.append(0, text('lost'))).rejects.toMatchObject({ code: 'ERR_DURABLE_STORE' });
    expect(store.failure?.code).toBe('ERR_DURABLE_STORE');
    await expect(store.writeSnapshot('s', text('x'))).rejects.toBe(store.failure);
    // What is stored is still known (the list is kept in memory).
    expect(await store.segments()).toEqual([0]);
  });

  it('a snapshot write cut short is never read: the last complete write is', async () => {
    const nats = await natsConnection();
    const cluster = await newCluster(nats);
    const first = await takeOver(nats, { cluster, partition: 1, memberId: 'm1', epoch: 1 });
    await first.open(identity('a'));
    await first.writeSnapshot('s', text('whole'));
    await first.close();
    // What a writer that died after its first chunk leaves behind.
    const torn = headers();
    torn.set('Rp-Write', 'deadbeef');
    torn.set('Rp-Chunk', '0/2');
    await nats.js.publish(`rp.${cluster}.p.1.s.s`, text('half'), { headers: torn });
    const second = await takeOver(nats, { cluster, partition: 1, memberId: 'm2', epoch: 2 });
    await second.open(identity('a'));
    expect(new TextDecoder().decode(await second.readSnapshot('s'))).toBe('whole');
  });

  it('ensureClusterStream accepts its own stream again and refuses one with other subjects', async () => {
    const nats = await natsConnection();
    const cluster = await newCluster(nats);
    const again = await ensureClusterStream(nats.jsm, cluster);
    expect(again.config.allow_direct).toBe(true);
    expect(again.config.storage).toBe('file');
    await nats.jsm.streams.add({ name: 'REACTOR_POOL_clash', subjects: ['elsewhere.>'] });
    await expect(ensureClusterStream(nats.jsm, 'clash')).rejects.toMatchObject({ code: 'ERR_CLUSTER_MISMATCH' });
    await expect(ensureClusterStream(nats.jsm, 'bad.name')).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
  });

  it('refuses bad options and bad arguments with coded errors', async () => {
    const nats = await natsConnection();
    const cluster = await newCluster(nats);
    await expect(takeOver(nats, { cluster, partition: -1, memberId: 'm', epoch: 1 })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    await expect(takeOver(nats, { cluster, partition: 0, memberId: 'm', epoch: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    await expect(takeOver(nats, { cluster, partition: 0, memberId: 'm.x', epoch: 1 })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    await expect(takeOver(nats, { cluster, partition: 0, memberId: 'm', epoch: 1, maxPayload: 100 })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    const store = await takeOver(nats, { cluster, partition: 0, memberId: 'm', epoch: 1 });
    await expect(store.append(0, text('early'))).rejects.toMatchObject({ code: 'ERR_DURABLE_STORE' });
    await expect(store.open('')).rejects.toMatchObject({ code: 'ERR_DURABLE_STORE' });
    await store.open(identity('a'));
    await expect(store.append(-1, text('x'))).rejects.toMatchObject({ code: 'ERR_DURABLE_STORE' });
    await expect(store.writeSnapshot('', text('x'))).rejects.toMatchObject({ code: 'ERR_DURABLE_STORE' });
    // A bad argument is not a failed write: the store goes on.
    expect(store.failure).toBeUndefined();
    await store.append(0, text('fine'));
  });
});
