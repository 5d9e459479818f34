import { describe, expect, it } from 'vitest';
import { natsAvailable } from './helpers/nats-server.js';
import { same, useOwnershipHarness } from './helpers/ownership-harness.js';
import { ensureClusterConfig } from '../dist/src/cluster/cluster-kv.js';
import { readClusterStatus } from '../dist/src/cluster/read-cluster-status.js';

const encoder = new TextEncoder();

describe.skipIf(!natsAvailable())('cluster ownership: records it cannot read', () => {
  const harnesses = useOwnershipHarness();

  it('a malformed member record or lease is reported and ignored, never a crash', async () => {
    const h = await harnesses.open('malformed', 8);
    await ensureClusterConfig(h.kv, { partitions: 8, identity: 'test' });
    await h.kv.put('members.ghost', encoder.encode('{"version":1,"id":'));
    await h.kv.put('partitions.3', encoder.encode(JSON.stringify({ version: 7, owner: 'x', epoch: 1 })));
    const unreadable: string[] = [];
    const a = await h.join('alpha');
    a.ownership.on('unreadableRecord', ({ key, error }) => unreadable.push(`${key} ${error.code}`));
    const others = [0, 1, 2, 4, 5, 6, 7];
    await h.until(() => same(a.ownership.owned(), others));
    // Written while it runs: a member record naming someone else, a lease that is not JSON.
    await h.kv.put('members.mallory', encoder.encode(JSON.stringify({ version: 1, id: 'eve', host: 'h', pid: 1, startedAt: 0, beat: 1, draining: false, partitions: [], sessions: 0 })));
    await h.kv.put('partitions.5', encoder.encode('\u0000\u0001'));
    await h.until(() => unreadable.length === 2);
    expect(unreadable.sort()).toEqual(['members.mallory ERR_CLUSTER_MISMATCH', 'partitions.5 ERR_CLUSTER_MISMATCH']);
    // Still running: it hands partitions over to a joiner as usual.
    const b = await h.join('bravo');
    await h.until(() => a.host.maxReleasing > 0 && b.ownership.owned().length > 0);
    const status = await readClusterStatus(h.kv, 'malformed');
    expect(status.unreadable).toEqual(['members.ghost', 'members.mallory', 'partitions.3', 'partitions.5']);
    expect(status.members.map((m) => m.id)).toEqual(['alpha', 'bravo']);
    expect(h.ledger.violations).toEqual([]);
  });
});
