// Members in one process against a real nats-server: a member serves every partition alone; a
// second member joining takes about half, the sessions moving with their state; a member leaving
// hands its partitions over; a member stopping as a crash would has its partitions taken over from
// the journal after its lease; a member with another module is refused.

import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { ClusterClient, ClusterMember } from '../dist/src/cluster/index.js';
import { rendezvousTarget } from '../dist/src/cluster/assignment.js';
import { useNatsServer } from './helpers/nats-fixture.js';
import { natsAvailable, startNatsServer } from './helpers/nats-server.js';
import { memberEvents, memberUntil } from './helpers/member-events.js';
import { asNumber } from './helpers/results.js';

const REACTOR = fileURLToPath(new URL('../reactor/reactor.wasm', import.meta.url));
const OTHER = fileURLToPath(new URL('./fixtures/inc-double.wasm', import.meta.url));
const PARTITIONS = 4;

/**
 * A member id to which rendezvous hashing gives at least one partition beside `others`, so that its
 * join moves some (with ids left to chance, one join in 2^PARTITIONS would move none).
 */
function idWinningSome(prefix: string, others: readonly string[]): string {
  for (let i = 0; ; i++) {
    const id = `${prefix}${i}`;
    if (Array.from({ length: PARTITIONS }, (_, p) => rendezvousTarget(p, [...others, id])).includes(id)) return id;
  }
}

describe.skipIf(!natsAvailable())('cluster members', () => {
  const fixture = useNatsServer();
  let run = 0;
  const options = (extra: object = {}): Parameters<typeof ClusterMember.join>[0] => ({
    nats: fixture.server.url, cluster: `members${run}`, module: REACTOR, partitions: PARTITIONS, leaseTtl: 1000,
    // The reactor prints `s = 20` as each session starts: kept out of the test's output.
    pool: { stderr: () => undefined }, ...extra,
  });

  it('serves every partition alone, keeps each session on one instance, and refuses another module', async () => {
    run++;
    const first = await ClusterMember.join(options());
    await memberEvents(first, 'partitionAcquired', PARTITIONS);
    expect(first.owned()).toStrictEqual([0, 1, 2, 3]);
    const client = await ClusterClient.connect({ nats: fixture.server.url, cluster: `members${run}` });
    const keys = Array.from({ length: 20 }, (_, i) => `s${i}`);
    expect(await Promise.all(keys.map((key) => client.session(key).call('inc', 1).then(asNumber)))).toStrictEqual(keys.map(() => 21));
    expect(asNumber(await first.session('s3').call('inc', 21))).toBe(42);
    await expect(ClusterMember.join(options({ module: OTHER }))).rejects.toMatchObject({ code: 'ERR_CLUSTER_MISMATCH' });
    await expect(ClusterMember.join(options({ partitions: PARTITIONS + 1 }))).rejects.toMatchObject({ code: 'ERR_CLUSTER_MISMATCH' });
    // A NATS without JetStream has nowhere to keep a journal: refused, as unavailable, and nothing is left running.
    const plain = await startNatsServer({ jetstream: false });
    try {
      await expect(ClusterMember.join(options({ nats: plain.url }))).rejects.toMatchObject({ code: 'ERR_CLUSTER_UNAVAILABLE' });
    } finally {
      await plain.stop();
    }
    // A lone server cannot keep three copies: the cluster that would need them is refused, as unavailable.
    await expect(ClusterMember.join(options({ cluster: `replicated${run}`, replicas: 3 }))).rejects.toMatchObject({ code: 'ERR_CLUSTER_UNAVAILABLE' });
    const status = await client.status();
    expect(status.members.map((member) => member.id)).toStrictEqual([first.id]);
    await client.close();
    await first.leave();
  });

  it('moves sessions with their state when a member joins, and back when it leaves', async () => {
    run++;
    const first = await ClusterMember.join(options({ memberId: `first${run}` }));
    await memberEvents(first, 'partitionAcquired', PARTITIONS);
    const client = await ClusterClient.connect({ nats: fixture.server.url, cluster: `members${run}` });
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    for (let round = 1; round <= 3; round++) await Promise.all(keys.map((key) => client.session(key).call('inc', round)));
    const second = await ClusterMember.join(options({ memberId: idWinningSome(`second${run}-`, [first.id]) }));
    const moved = await memberEvents(second, 'partitionAcquired', 1);
    expect(moved[0]?.epoch).toBeGreaterThan(1);
    // Calls go on while partitions move: none fails, every value is exact.
    for (let round = 4; round <= 6; round++) {
      const values = await Promise.all(keys.map((key) => client.session(key).call('inc', round).then(asNumber)));
      expect(values).toStrictEqual(keys.map(() => 20 + (round * (round + 1)) / 2));
    }
    await second.leave();
    await memberUntil(first, () => first.owned().length === PARTITIONS, 'the first member owning every partition again');
    expect(first.owned()).toStrictEqual([0, 1, 2, 3]);
    expect(await Promise.all(keys.map((key) => client.session(key).call('inc', 0).then(asNumber)))).toStrictEqual(keys.map(() => 41));
    await client.close();
    await first.leave();
  });

  it('takes a destroyed member\'s partitions over from the journal after its lease', async () => {
    run++;
    const first = await ClusterMember.join(options({ memberId: `first${run}` }));
    await memberEvents(first, 'partitionAcquired', PARTITIONS);
    const second = await ClusterMember.join(options({ memberId: idWinningSome(`second${run}-`, [first.id]) }));
    await memberEvents(second, 'partitionAcquired', 1);
    const client = await ClusterClient.connect({ nats: fixture.server.url, cluster: `members${run}` });
    const keys = Array.from({ length: 40 }, (_, i) => `d${i}`);
    await Promise.all(keys.map((key) => client.session(key).call('inc', 5)));
    const takenOver = memberUntil(first, () => first.owned().length === PARTITIONS, 'the first member owning every partition again');
    await second.destroy();
    // Calls made now wait for the new owner (retried, not failed), and find every acknowledged call.
    const values = await Promise.all(keys.map((key) => client.session(key).call('inc', 1).then(asNumber)));
    expect(values).toStrictEqual(keys.map(() => 26));
    await takenOver;
    expect(first.owned()).toStrictEqual([0, 1, 2, 3]);
    await client.close();
    await first.leave();
  });
});
