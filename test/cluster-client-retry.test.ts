// A cluster client sends again what the cluster could not take — a batch answered `moved`, one nobody
// answered (no responders), an operation answered `{ retry }` — with the same idempotency keys and in
// the same per-session order, until the call's deadline (then ERR_CLUSTER_UNAVAILABLE with the last
// cause); a `refused` batch and an owner's error reject the call with the owner's error.

import { describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { ClusterClient } from '../dist/src/cluster/cluster-client.js';
import { resolveClusterClientOptions, type ResolvedClusterClientOptions } from '../dist/src/cluster/cluster-options.js';
import { ReactorTrapError } from '../dist/src/errors.js';
import { natsAvailable } from './helpers/nats-server.js';
import { useNatsServer } from './helpers/nats-fixture.js';
import { FakeOwner, deferred, writeClusterConfig } from './helpers/fake-owner.js';
import type { BatchReply } from '../dist/src/cluster/batch-wire.js';

const idsOf = (owner: FakeOwner, index: number): string[] => (owner.requests[index]?.ops ?? []).map((op) => ('id' in op ? op.id : op.op));

describe.skipIf(!natsAvailable())('cluster client retries', () => {
  const nats = useNatsServer();

  it('sends a moved batch again, whole, in order, with the same idempotency keys', async () => {
    const cluster = 'moved';
    await writeClusterConfig(nats.nc, cluster, 2);
    const owner = new FakeOwner(nats.nc, cluster);
    owner.answer = (request, index) => (index === 0 ? { status: 'moved', reason: 'handing over' } : owner.serve(request));
    const client = await ClusterClient.connect({ nats: nats.server.url, cluster });
    const session = client.session('a');
    const results = await Promise.all([session.call('inc'), session.with({ idempotencyKey: 'mine' }).call('inc'), session.call('inc')]);
    expect(results).toEqual([1, 2, 3]);
    expect(owner.requests).toHaveLength(2);
    expect(idsOf(owner, 1)).toEqual(idsOf(owner, 0));
    expect(idsOf(owner, 0)[1]).toBe('mine');
    expect(owner.refusals).toEqual([]);
    await client.close();
    owner.stop();
  });

  it('sends an operation answered { retry } again with its key, the session\'s later ones behind it', async () => {
    const cluster = 'opretry';
    await writeClusterConfig(nats.nc, cluster, 2);
    const owner = new FakeOwner(nats.nc, cluster);
    const first = deferred<undefined>();
    owner.answer = async (request, index) => {
      if (index > 0) return owner.serve(request);
      await first.promise;
      return { status: 'served', outcomes: [{ retry: 'journal write not acknowledged' }] };
    };
    const client = await ClusterClient.connect({ nats: nats.server.url, cluster });
    const session = client.session('b');
    const one = session.call('inc');
    await owner.received(1);
    const two = session.call('inc');
    first.resolve(undefined);
    expect(await Promise.all([one, two])).toEqual([1, 2]);
    expect(owner.requests).toHaveLength(2);
    expect(idsOf(owner, 1)).toEqual([idsOf(owner, 0)[0], expect.any(String)]);
    await client.close();
    owner.stop();
  });

  it('sends a batch nobody answered within requestTimeout again, with the same key', async () => {
    const cluster = 'requesttimeout';
    await writeClusterConfig(nats.nc, cluster, 2);
    const owner = new FakeOwner(nats.nc, cluster);
    const never = deferred<BatchReply>();
    owner.answer = (request, index) => (index === 0 ? never.promise : owner.serve(request));
    const client = await ClusterClient.connect({ nats: nats.server.url, cluster, requestTimeout: 20 });
    expect(await client.session('t').call('inc')).toBe(1);
    // Sent at least twice (more if a loaded machine answers the second late too), always as the same call.
    expect(owner.requests.length).toBeGreaterThanOrEqual(2);
    for (let index = 1; index < owner.requests.length; index++) expect(idsOf(owner, index)).toEqual(idsOf(owner, 0));
    await client.close();
    owner.stop();
  });

  it('sends again after "no responders" until an owner subscribes', async () => {
    const cluster = 'noresponders';
    await writeClusterConfig(nats.nc, cluster, 2);
    // The client's connection, watched: the test learns when a batch found nobody, then the owner comes.
    const clientNc = await connect({ servers: nats.server.url });
    const failures: string[] = [];
    const nobody = deferred<undefined>();
    const watched = new Proxy(clientNc, {
      get(target, property) {
        if (property === 'request') {
          return (subject: string, data: Uint8Array, options: { timeout: number }) => {
            const reply = target.request(subject, data, options);
            if (subject.startsWith(`rp.${cluster}.call.`)) {
              reply.catch((error: unknown) => {
                failures.push(String(error));
                nobody.resolve(undefined);
              });
            }
            return reply;
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    // `attach` is internal (members use it): not in the published types.
    const { attach } = ClusterClient as unknown as { attach(this: void, nc: NatsConnection, options: ResolvedClusterClientOptions): ClusterClient };
    const client = attach(watched, resolveClusterClientOptions({ nats: nats.server.url, cluster }));
    const call = client.session('c').with({ idempotencyKey: 'c-1' }).call('inc');
    await nobody.promise;
    const owner = new FakeOwner(nats.nc, cluster);
    expect(await call).toBe(1);
    expect(failures.length).toBeGreaterThan(0);
    expect(failures[0]).toMatch(/no responders/i);
    expect(idsOf(owner, 0)).toEqual(['c-1']);
    await client.close();
    expect(clientNc.isClosed()).toBe(false);
    await clientNc.close();
    owner.stop();
  });

  it('rejects ERR_CLUSTER_UNAVAILABLE with the last cause once the deadline passes', async () => {
    const cluster = 'deadline';
    await writeClusterConfig(nats.nc, cluster, 2);
    const owner = new FakeOwner(nats.nc, cluster);
    owner.answer = () => ({ status: 'moved', reason: 'nobody owns it' });
    const client = await ClusterClient.connect({ nats: nats.server.url, cluster });
    const error = await client.session('d').with({ timeout: 500 }).call('inc').then(() => undefined, (reason: unknown) => reason);
    expect(error).toMatchObject({ code: 'ERR_CLUSTER_UNAVAILABLE', retryable: true, sessionKey: 'd' });
    expect(String(error)).toMatch(/moved \(nobody owns it\)/);
    expect(owner.requests.length).toBeGreaterThanOrEqual(1);
    await client.close();
    owner.stop();
  });

  it('waits for the cluster config, and gives up at the deadline saying so', async () => {
    const cluster = 'noconfig';
    const client = await ClusterClient.connect({ nats: nats.server.url, cluster, callTimeout: 50 });
    await expect(client.session('e').call('inc')).rejects.toMatchObject({ code: 'ERR_CLUSTER_UNAVAILABLE', message: expect.stringMatching(/config/) as string });
    const owner = new FakeOwner(nats.nc, cluster);
    const late = client.session('e').with({ timeout: 60_000 }).call('inc');
    await writeClusterConfig(nats.nc, cluster, 2);
    expect(await late).toBe(1);
    await client.close();
    owner.stop();
  });

  it('rejects a refused batch and an owner\'s error with the owner\'s error, for the session', async () => {
    const cluster = 'refused';
    await writeClusterConfig(nats.nc, cluster, 1);
    const owner = new FakeOwner(nats.nc, cluster);
    owner.answer = (request, index) => index === 0
      ? { status: 'refused', error: { code: 'ERR_INVALID_ARGUMENT', message: 'not for this cluster' } }
      : { status: 'served', outcomes: request.ops.map(() => ({ ok: false as const, error: { code: 'ERR_REACTOR_TRAP' as const, message: 'unreachable', exportName: 'inc' } })) };
    const client = await ClusterClient.connect({ nats: nats.server.url, cluster });
    await expect(client.session('f').call('inc')).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', sessionKey: 'f', message: 'not for this cluster' });
    const trap = await client.session('g').call('inc').then(() => undefined, (reason: unknown) => reason);
    expect(trap).toBeInstanceOf(ReactorTrapError);
    expect(trap).toMatchObject({ sessionKey: 'g', exportName: 'inc' });
    expect(owner.requests).toHaveLength(2);
    await client.close();
    owner.stop();
  });
});
