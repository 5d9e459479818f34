// A batch over the NATS server's max_payload (1 MiB by default) is split: sessions into separate
// batches, one session's operations into consecutive ones (still in order, one in flight); a single
// operation too big for any message is refused with ERR_INVALID_ARGUMENT.

import { describe, expect, it } from 'vitest';
import { ClusterClient } from '../dist/src/cluster/cluster-client.js';
import { natsAvailable } from './helpers/nats-server.js';
import { useNatsServer } from './helpers/nats-fixture.js';
import { FakeOwner, writeClusterConfig } from './helpers/fake-owner.js';

const KIB = 1024;

describe.skipIf(!natsAvailable())('cluster client payload limit', () => {
  const nats = useNatsServer();

  it('splits a batch over max_payload and refuses an operation bigger than it', async () => {
    const cluster = 'payload';
    await writeClusterConfig(nats.nc, cluster, 1);
    const owner = new FakeOwner(nats.nc, cluster);
    const client = await ClusterClient.connect({ nats: nats.server.url, cluster });
    const limit = nats.nc.info?.max_payload ?? 0;
    expect(limit).toBe(1024 * KIB);
    const big = (fill: number): Uint8Array => new Uint8Array(400 * KIB).fill(fill);
    // Three sessions of one partition, then three operations of one session.
    await Promise.all(['a', 'b', 'c'].map((key, index) => client.session(key).restore(big(index))));
    const session = client.session('d');
    await Promise.all([session.restore(big(1)), session.restore(big(2)), session.restore(big(3)), session.call('inc')]);
    await expect(session.restore(new Uint8Array(limit))).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', sessionKey: 'd' });
    expect(await session.call('inc')).toBe(2);
    for (const request of owner.requests) expect(request.ops.length).toBeLessThan(3);
    const dOps = owner.requests.flatMap((request) => request.ops).filter((op) => op.key === 'd')
      .map((op) => (op.op === 'restore' ? `restore ${op.snapshot[0] ?? -1}` : op.op));
    expect(dOps).toEqual(['restore 1', 'restore 2', 'restore 3', 'call', 'call']);
    expect(owner.refusals).toEqual([]);
    await client.close();
    owner.stop();
  });
});
