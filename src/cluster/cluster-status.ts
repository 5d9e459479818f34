// What a cluster looks like now, read from its KV bucket: its config, its members (with the age of
// their last heartbeat as the NATS server stamped it) and who holds each partition's lease.

import type { KV, KvEntry } from '@nats-io/kv';
import { ClusterMismatchError, ClusterUnavailableError } from '../errors.js';
import { CONFIG_KEY } from './cluster-names.js';
import { decodeClusterConfig, decodeMemberRecord, decodePartitionLease } from './record-codec.js';

/** One member as its record says. */
export interface ClusterMemberStatus {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  /** When the member started (ms since the epoch). */
  readonly startedAt: number;
  /** True while it is leaving (handing its partitions over). */
  readonly draining: boolean;
  /** Partitions it served at its last heartbeat. */
  readonly partitions: readonly number[];
  /** Sessions it held at its last heartbeat. */
  readonly sessions: number;
  /**
   * Milliseconds since its last heartbeat (the NATS server's timestamp against this process's clock
   * at the read). Well past the cluster's `leaseTtl`, the member is dead and its partitions move.
   */
  readonly heartbeatAge: number;
}

/** One partition's lease. */
export interface ClusterLeaseStatus {
  readonly partition: number;
  /** The member holding it; null when given back and not taken yet. */
  readonly owner: string | null;
  /** Grows by one at every take. */
  readonly epoch: number;
}

/** A cluster's state as read from NATS at one moment. */
export interface ClusterStatus {
  readonly cluster: string;
  readonly partitions: number;
  /** SHA-256 hex of the module every member runs. */
  readonly identity: string;
  /** Members with a record (live or not yet expired), by id. */
  readonly members: readonly ClusterMemberStatus[];
  /** Partitions with a lease, ascending; a partition never taken has none. */
  readonly leases: readonly ClusterLeaseStatus[];
  /** KV keys holding a record this version cannot read (ignored by members). */
  readonly unreadable: readonly string[];
}

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
