import { describe, expect, it } from 'vitest';
import { natsAvailable } from './helpers/nats-server.js';
import { useNatsServer } from './helpers/nats-fixture.js';
import { ensureClusterConfig, openClusterKv, readClusterConfig } from '../dist/src/cluster/cluster-kv.js';
import { readClusterStatus } from '../dist/src/cluster/read-cluster-status.js';
import { ClusterMismatchError, ClusterUnavailableError } from '../dist/src/errors.js';

const IDENTITY = 'a'.repeat(64);

describe.skipIf(!natsAvailable())('cluster config: created once, checked by every joiner', () => {
  const nats = useNatsServer();

  it('the first member writes it; a matching joiner reads the same', async () => {
    const kv = await openClusterKv(nats.nc, 'config1');
    expect(await readClusterConfig(kv)).toBeUndefined();
    const first = await ensureClusterConfig(kv, { partitions: 8, identity: IDENTITY });
    expect(first).toMatchObject({ version: 1, partitions: 8, identity: IDENTITY });
    const again = await ensureClusterConfig(await openClusterKv(nats.nc, 'config1'), { partitions: 8, identity: IDENTITY });
    expect(again).toEqual(first);
  });

  it('members creating it at once agree on one config; the loser of a mismatch is refused showing both', async () => {
    const kv = await openClusterKv(nats.nc, 'config2');
    const results = await Promise.allSettled([
      ensureClusterConfig(kv, { partitions: 8, identity: IDENTITY }),
      ensureClusterConfig(kv, { partitions: 16, identity: IDENTITY }),
    ]);
    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(fulfilled).toHaveLength(1);
    expect(rejected).toHaveLength(1);
    const error = rejected[0]?.reason as unknown;
    expect(error).toBeInstanceOf(ClusterMismatchError);
    expect((error as ClusterMismatchError).code).toBe('ERR_CLUSTER_MISMATCH');
    expect((error as Error).message).toMatch(/8 partitions/);
    expect((error as Error).message).toMatch(/16 partitions/);
  });

  it('refuses another module', async () => {
    const kv = await openClusterKv(nats.nc, 'config3');
    await ensureClusterConfig(kv, { partitions: 4, identity: IDENTITY });
    const other = 'b'.repeat(64);
    const refusal = ensureClusterConfig(kv, { partitions: 4, identity: other });
    await expect(refusal).rejects.toBeInstanceOf(ClusterMismatchError);
    await expect(refusal).rejects.toThrow(other);
  });

  it('refuses a config it cannot read (malformed, another version) with ERR_CLUSTER_MISMATCH', async () => {
    const encoder = new TextEncoder();
    const cases = ['not json', '[1]', JSON.stringify({ version: 2, partitions: 4, identity: IDENTITY, createdAt: 0 }), JSON.stringify({ version: 1, partitions: 'x', identity: IDENTITY, createdAt: 0 })];
    for (const [i, text] of cases.entries()) {
      const kv = await openClusterKv(nats.nc, `config-bad${i}`);
      await kv.put('config', encoder.encode(text));
      await expect(ensureClusterConfig(kv, { partitions: 4, identity: IDENTITY })).rejects.toMatchObject({ code: 'ERR_CLUSTER_MISMATCH' });
      await expect(readClusterStatus(kv, `config-bad${i}`)).rejects.toMatchObject({ code: 'ERR_CLUSTER_MISMATCH' });
    }
  });

  it('status of a cluster no member joined is ERR_CLUSTER_UNAVAILABLE', async () => {
    const kv = await openClusterKv(nats.nc, 'config4');
    await expect(readClusterStatus(kv, 'config4')).rejects.toBeInstanceOf(ClusterUnavailableError);
  });
});
