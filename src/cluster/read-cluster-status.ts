// Reading a cluster's status (cluster-status.ts) from its KV bucket, every record checked.

import type { KV, KvEntry } from '@nats-io/kv';
import { ClusterMismatchError, ClusterUnavailableError } from '../errors.js';
import { CONFIG_KEY } from './cluster-names.js';
import type { ClusterLeaseStatus, ClusterMemberStatus, ClusterStatus } from './cluster-status.js';
import { decodeClusterConfig, decodeMemberRecord, decodePartitionLease } from './record-codec.js';

/**
 * Reads `cluster`'s status from its KV bucket. Rejects with ERR_CLUSTER_UNAVAILABLE when no member has
 * ever written the cluster's config, ERR_CLUSTER_MISMATCH when the config is not one this version reads.
 */
export async function readClusterStatus(kv: KV, cluster: string): Promise<ClusterStatus> {
  const keys: string[] = [];
  for await (const key of await kv.keys()) keys.push(key);
  const entries = (await Promise.all(keys.map((key) => kv.get(key)))).filter((entry): entry is KvEntry => entry !== null && entry.operation === 'PUT');
  const readAt = Date.now();
  const configEntry = entries.find((entry) => entry.key === CONFIG_KEY);
  if (configEntry === undefined) {
    throw new ClusterUnavailableError(`Cluster ${JSON.stringify(cluster)} has no config in NATS: no member has joined it`);
  }
  const config = decodeClusterConfig(configEntry.value);
  const members: ClusterMemberStatus[] = [];
  const leases: ClusterLeaseStatus[] = [];
  const unreadable: string[] = [];
  for (const entry of entries) {
    try {
      if (entry.key.startsWith('members.')) {
        const record = decodeMemberRecord(entry.value, `member record \`${entry.key}\``, entry.key.slice('members.'.length));
        members.push({
          id: record.id,
          host: record.host,
          pid: record.pid,
          startedAt: record.startedAt,
          draining: record.draining,
          partitions: record.partitions,
          sessions: record.sessions,
          heartbeatAge: Math.max(0, readAt - entry.created.getTime()),
        });
      } else if (entry.key.startsWith('partitions.')) {
        const partition = Number(entry.key.slice('partitions.'.length));
        const lease = decodePartitionLease(entry.value, `lease \`${entry.key}\``);
        if (Number.isSafeInteger(partition) && partition >= 0 && partition < config.partitions) leases.push({ partition, owner: lease.owner, epoch: lease.epoch });
        else unreadable.push(entry.key);
      }
    } catch (error) {
      if (!(error instanceof ClusterMismatchError)) throw error;
      unreadable.push(entry.key);
    }
  }
  members.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  leases.sort((a, b) => a.partition - b.partition);
  unreadable.sort();
  return { cluster, partitions: config.partitions, identity: config.identity, members, leases, unreadable };
}
