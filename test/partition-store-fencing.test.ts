// Fencing a partition's store: once a new owner fenced the partition, the old owner's next write is
// refused (ERR_FENCED) and its store fails for good; a take-over at a stale epoch is refused; a
// take-over racing a write reads it and fences after it; a store written for another module is refused.

import type { JetStreamClient } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import type { ReactorPoolError } from '../dist/src/index.js';
import { natsAvailable } from './helpers/nats-server.js';
import { identity, natsConnection, newCluster, takeOver, usePartitionStores } from './helpers/partition-stores.js';

const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe.skipIf(!natsAvailable())('partition store: fencing', () => {
  usePartitionStores();

  it('the old owner\'s write after a take-over is refused, its store fails for good, and nothing of it is kept', async () => {
    const nats = await natsConnection();
    const cluster = await newCluster(nats);
    const a = await takeOver(nats, { cluster, partition: 2, memberId: 'a', epoch: 1 });
    await a.open(identity('a'));
    const failures: ReactorPoolError[] = [];
    a.onFailure((failure) => failures.push(failure));
    await a.append(0, text('a1 '));
    await a.writeSnapshot('s', text('from a'));

    const b = await takeOver(nats, { cluster, partition: 2, memberId: 'b', epoch: 2 });
    await b.open(identity('a'));
    const refused = a.append(0, text('refused '));
    await expect(refused).rejects.toMatchObject({ code: 'ERR_FENCED' });
    expect(a.failure?.code).toBe('ERR_FENCED');
    expect(failures.map((failure) => failure.code)).toEqual(['ERR_FENCED']);
    // Sticky: every later write and delete rejects with the same failure, without trying.
    await expect(a.writeSnapshot('s', text('late'))).rejects.toBe(a.failure);
    await expect(a.deleteSnapshot('s')).rejects.toBe(a.failure);
    await expect(a.append(1, text('late'))).rejects.toBe(a.failure);
    const late: ReactorPoolError[] = [];
    a.onFailure((failure) => late.push(failure));
    expect(late).toEqual([a.failure]);
    await a.close();

    await b.append(0, text('b1'));
    const c = await takeOver(nats, { cluster, partition: 2, memberId: 'c', epoch: 3 });
    await c.open(identity('a'));
    expect(decode(await c.readSegment(0))).toBe('a1 b1');
    expect(await c.segments()).toEqual([0]);
    expect(decode((await c.readSnapshot('s')) ?? new Uint8Array())).toBe('from a');
  });

  it('a delete by the old owner after a take-over is refused before it purges anything', async () => {
    const nats = await natsConnection();
    const cluster = await newCluster(nats);
    const a = await takeOver(nats, { cluster, partition: 0, memberId: 'a', epoch: 1 });
    await a.open(identity('a'));
    await a.writeSnapshot('s', text('kept'));
    await a.append(4, text('kept too'));
    const b = await takeOver(nats, { cluster, partition: 0, memberId: 'b', epoch: 2 });
    await b.open(identity('a'));
    await expect(a.deleteSnapshot('s')).rejects.toMatchObject({ code: 'ERR_FENCED' });
    await expect(a.deleteSegment(4)).rejects.toMatchObject({ code: 'ERR_FENCED' });
    const c = await takeOver(nats, { cluster, partition: 0, memberId: 'c', epoch: 3 });
    await c.open(identity('a'));
    expect(decode((await c.readSnapshot('s')) ?? new Uint8Array())).toBe('kept');
    expect(decode(await c.readSegment(4))).toBe('kept too');
  });

  it('a take-over at an epoch not above the last fence\'s is refused', async () => {
    const nats = await natsConnection();
    const cluster = await newCluster(nats);
    const store = await takeOver(nats, { cluster, partition: 1, memberId: 'a', epoch: 5 });
    await store.open(identity('a'));
    await expect(takeOver(nats, { cluster, partition: 1, memberId: 'b', epoch: 5 })).rejects.toMatchObject({ code: 'ERR_FENCED' });
    await expect(takeOver(nats, { cluster, partition: 1, memberId: 'b', epoch: 4 })).rejects.toMatchObject({ code: 'ERR_FENCED' });
    // The refused take-overs wrote nothing: the owner goes on.
    await store.append(0, text('still mine'));
    expect(store.failure).toBeUndefined();
  });

  it('a take-over that loses its fence to a write reads that write and fences after it', async () => {
    const nats = await natsConnection();
    const cluster = await newCluster(nats);
    const a = await takeOver(nats, { cluster, partition: 6, memberId: 'a', epoch: 1 });
    await a.open(identity('a'));
    await a.append(0, text('before '));
    // B's first fence attempt waits until A wrote once more (after B had read the partition).
    let raced = false;
    const racing = new Proxy(nats.js, {
      get(target, property, receiver): unknown {
        if (property !== 'publish') return Reflect.get(target, property, receiver) as unknown;
        return async (...args: Parameters<JetStreamClient['publish']>) => {
          if (!raced) {
            raced = true;
            await a.append(0, text('slipped in'));
          }
          return target.publish(...args);
        };
      },
    });
    const b = await takeOver({ ...nats, js: racing }, { cluster, partition: 6, memberId: 'b', epoch: 2 });
    expect(raced).toBe(true);
    await b.open(identity('a'));
    expect(decode(await b.readSegment(0))).toBe('before slipped in');
    await expect(a.append(0, text('after'))).rejects.toMatchObject({ code: 'ERR_FENCED' });
  });

  it('a partition written for another module is refused at open, naming both identities', async () => {
    const nats = await natsConnection();
    const cluster = await newCluster(nats);
    const a = await takeOver(nats, { cluster, partition: 0, memberId: 'a', epoch: 1 });
    await a.open(identity('a'));
    await a.append(0, text('for module a'));
    const b = await takeOver(nats, { cluster, partition: 0, memberId: 'b', epoch: 2 });
    const refused = b.open(identity('b'));
    await expect(refused).rejects.toMatchObject({ code: 'ERR_DURABLE_STORE' });
    const message = await refused.catch((error: Error) => error.message);
    expect(message).toContain(identity('a'));
    expect(message).toContain(identity('b'));
    await expect(b.append(0, text('x'))).rejects.toMatchObject({ code: 'ERR_DURABLE_STORE' });
  });
});
