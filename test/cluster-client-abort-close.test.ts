// A cluster call's signal rejects it (ERR_ABORTED) while it is still queued, never once it is out; a
// closing client takes no more calls (ERR_POOL_CLOSED) but lets those out settle; bad input is refused
// up front with a code; `connect<Exports>()` types the calls.

import { describe, expect, it } from 'vitest';
import { ClusterClient } from '../dist/src/cluster/cluster-client.js';
import type { BatchReply } from '../dist/src/cluster/batch-wire.js';
import type { I32, I64 } from '../dist/src/index.js';
import { natsAvailable } from './helpers/nats-server.js';
import { useNatsServer } from './helpers/nats-fixture.js';
import { FakeOwner, deferred, writeClusterConfig } from './helpers/fake-owner.js';

interface Counter {
  inc(): I32;
  add(amount: I32): I32;
  greet(pointer: I32, length: I32): I64;
}

describe.skipIf(!natsAvailable())('cluster client abort, close and validation', () => {
  const nats = useNatsServer();

  it('aborts a call still queued behind its session\'s batch; the batch itself settles', async () => {
    const cluster = 'abort';
    await writeClusterConfig(nats.nc, cluster, 2);
    const owner = new FakeOwner(nats.nc, cluster);
    const first = deferred<undefined>();
    owner.answer = (request, index) => (index === 0 ? first.promise.then((): BatchReply => owner.serve(request)) : owner.serve(request));
    const client = await ClusterClient.connect<Counter>({ nats: nats.server.url, cluster });
    const session = client.session('a');
    const controller = new AbortController();
    const out = session.with({ signal: controller.signal }).call('inc');
    await owner.received(1);
    const queued = session.with({ signal: controller.signal }).call('inc');
    const after = session.call('inc');
    controller.abort(new Error('user gave up'));
    await expect(queued).rejects.toMatchObject({ code: 'ERR_ABORTED', sessionKey: 'a', message: expect.stringMatching(/user gave up.*nothing ran/) as string });
    first.resolve(undefined);
    expect(await out).toBe(1);
    expect(await after).toBe(2);
    expect(owner.requests.map((request) => request.ops.length)).toEqual([1, 1]);
    await expect(session.with({ signal: controller.signal }).call('inc')).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    await client.close();
    owner.stop();
  });

  it('aborts a call waiting to be sent again, saying it may have run once', async () => {
    const cluster = 'abortresend';
    await writeClusterConfig(nats.nc, cluster, 2);
    const owner = new FakeOwner(nats.nc, cluster);
    owner.answer = () => ({ status: 'moved', reason: 'nobody yet' });
    const client = await ClusterClient.connect<Counter>({ nats: nats.server.url, cluster });
    const controller = new AbortController();
    const call = client.session('r').with({ signal: controller.signal }).call('inc');
    await owner.received(1);
    controller.abort();
    await expect(call).rejects.toMatchObject({ code: 'ERR_ABORTED', sessionKey: 'r', message: expect.stringMatching(/may have run once/) as string });
    await client.close();
    owner.stop();
  });

  it('close refuses new calls with ERR_POOL_CLOSED and waits for those out', async () => {
    const cluster = 'close';
    await writeClusterConfig(nats.nc, cluster, 2);
    const owner = new FakeOwner(nats.nc, cluster);
    const first = deferred<undefined>();
    owner.answer = (request) => first.promise.then((): BatchReply => owner.serve(request));
    const client = await ClusterClient.connect<Counter>({ nats: nats.server.url, cluster });
    const out = client.session('b').call('inc');
    await owner.received(1);
    let closed = false;
    const closing = client.close().then(() => {
      closed = true;
    });
    await expect(client.session('b').call('inc')).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
    expect(closed).toBe(false);
    first.resolve(undefined);
    expect(await out).toBe(1);
    await closing;
    expect(closed).toBe(true);
    await client[Symbol.asyncDispose]();
    owner.stop();
  });

  it('refuses bad input up front with a code', async () => {
    const client = await ClusterClient.connect({ nats: nats.server.url, cluster: 'validation' });
    expect(() => client.session('')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }) as Error);
    const session = client.session('v');
    expect(() => session.with({ idempotencyKey: 'x'.repeat(1025) })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }) as Error);
    expect(() => session.with({ timeout: 0 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }) as Error);
    // @ts-expect-error: not a result mode
    expect(() => session.with({ result: 'json' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }) as Error);
    await expect(session.call('f', {} as unknown as number)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', sessionKey: 'v' });
    await expect(session.callMany('f', 'nope' as unknown as [])).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    for (const list of [new Uint8ClampedArray(2), new DataView(new ArrayBuffer(2)), [[{}]]]) {
      await expect(session.callMany('f', list as unknown as [])).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    }
    await expect(session.restore('nope' as unknown as Uint8Array)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(ClusterClient.connect({ nats: nats.server.url, cluster: 'bad name' })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    await expect(ClusterClient.connect({ nats: 'nats://127.0.0.1:1', cluster: 'x' })).rejects.toMatchObject({ code: 'ERR_CLUSTER_UNAVAILABLE' });
    await client.close();
  });

  it('types calls by the exports type', async () => {
    const cluster = 'typed';
    await writeClusterConfig(nats.nc, cluster, 1);
    const owner = new FakeOwner(nats.nc, cluster);
    owner.answer = (request) => ({ status: 'served', outcomes: request.ops.map(() => ({ ok: true as const, value: 'hi' })) });
    const client = await ClusterClient.connect<Counter, { greet: 'string' }>({ nats: nats.server.url, cluster });
    const session = client.session('t');
    const greeting: string = await session.call('greet', 'name');
    expect(greeting).toBe('hi');
    // @ts-expect-error: `add` takes one i32
    void session.call('add').catch(() => undefined);
    // @ts-expect-error: no such export
    void session.call('nope').catch(() => undefined);
    const many: Int32Array | string[] = await session.callMany('add', new Int32Array([1])).catch(() => new Int32Array());
    expect(many).toBeDefined();
    await client.close();
    owner.stop();
  });
});
