// A cluster with `replicas: 3` on a NATS cluster of three nodes: the stream and the bucket keep three
// copies; killing (-9) the node that leads the stream, under a member and a client, loses nothing
// acknowledged: calls go on through the other two nodes (waiting while JetStream elects a new leader),
// and a member that takes the partitions over afterwards reads every session back from the copies left.

import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { ClusterClient, ClusterMember } from '../dist/src/cluster/index.js';
import { kvBucket, streamName } from '../dist/src/cluster/cluster-names.js';
import { memberEvents } from './helpers/member-events.js';
import { natsAvailable, startNatsCluster } from './helpers/nats-server.js';
import { asNumber } from './helpers/results.js';

const REACTOR = fileURLToPath(new URL('../reactor/reactor.wasm', import.meta.url));
const PARTITIONS = 4;
const CLUSTER = 'replicated';

describe.skipIf(!natsAvailable())('a cluster with replicas on a three-node NATS cluster', () => {
  // NATS elects a lost leader's successor after 4 to 9 s (its Raft election timeout), twice if the
  // first round fails: bounds for a wait on NATS, not a measure of the pool.
  it('keeps three copies, and loses nothing acknowledged when the stream\'s leader node is killed', { timeout: 90_000 }, async () => {
    const nats = await startNatsCluster(3);
    const options = { nats: nats.urls, cluster: CLUSTER, module: REACTOR, partitions: PARTITIONS, replicas: 3, pool: { stderr: () => undefined } };
    const first = await ClusterMember.join({ ...options, memberId: 'first' });
    const client = await ClusterClient.connect({ nats: nats.urls, cluster: CLUSTER, callTimeout: 60_000 });
    const nc = await connect({ servers: [...nats.urls] });
    let second: ClusterMember | undefined;
    try {
      await memberEvents(first, 'partitionAcquired', PARTITIONS);
      const keys = Array.from({ length: 24 }, (_, i) => `c${i}`);
      expect(await Promise.all(keys.map((key) => client.session(key).call('inc', 5).then(asNumber)))).toStrictEqual(keys.map(() => 25));

      const jsm = await jetstreamManager(nc);
      const stream = await jsm.streams.info(streamName(CLUSTER));
      const bucket = await jsm.streams.info(`KV_${kvBucket(CLUSTER)}`);
      expect([stream.config.num_replicas, bucket.config.num_replicas]).toStrictEqual([3, 3]);
      expect(stream.cluster?.replicas?.map((peer) => peer.name).concat(stream.cluster.leader ?? '').sort()).toStrictEqual(['n0', 'n1', 'n2']);
      const leader = nats.nodes[Number(stream.cluster?.leader?.slice(1))];
      if (leader === undefined) throw new Error(`no leader node in ${JSON.stringify(stream.cluster)}`);
      const killed = new Promise((resolve) => leader.process.once('exit', resolve));
      leader.process.kill('SIGKILL');
      await killed;

      // Calls go on through the two nodes left, once JetStream has new leaders (the member may have
      // dropped its partitions meanwhile, its writes refused, and taken them again from the journal).
      expect(await Promise.all(keys.map((key) => client.session(key).call('inc', 1).then(asNumber)))).toStrictEqual(keys.map(() => 26));
      // A member taking every partition over after the first one crashed reads the sessions back from the copies left.
      second = await ClusterMember.join({ ...options, memberId: 'second' });
      const takenOver = memberEvents(second, 'partitionAcquired', PARTITIONS - second.owned().length);
      await first.destroy();
      await takenOver;
      expect(await Promise.all(keys.map((key) => client.session(key).call('inc', 0).then(asNumber)))).toStrictEqual(keys.map(() => 26));
    } finally {
      await client.close();
      await second?.leave();
      await first.destroy();
      await nc.close();
      await nats.stop();
    }
  });
});
