// The cluster's KV bucket: opening it, and the cluster config every member checks on joining (created
// once by compare-and-set; a joiner with another module or partition count is refused).

import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { ClusterMismatchError } from '../errors.js';
import { CONFIG_KEY, kvBucket } from './cluster-names.js';
import type { ClusterConfig } from './cluster-records.js';
import { decodeClusterConfig, encodeRecord } from './record-codec.js';

/**
 * Creates the cluster's KV bucket (file storage, one value per key, `replicas` copies), or binds to it
 * if it exists.
 */
export async function openClusterKv(nc: NatsConnection, cluster: string, replicas = 1): Promise<KV> {
  return new Kvm(nc).create(kvBucket(cluster), { storage: 'file', history: 1, replicas });
}

/** The cluster's config, or undefined when no member has written it yet. ERR_CLUSTER_MISMATCH if unreadable. */
export async function readClusterConfig(kv: KV): Promise<ClusterConfig | undefined> {
  const entry = await kv.get(CONFIG_KEY);
  if (entry === null || entry.operation !== 'PUT') return undefined;
  return decodeClusterConfig(entry.value);
}

/**
 * The cluster's config: the one in KV if there is one, else `wanted` written by compare-and-set (a
 * member creating it at the same moment wins or loses; the loser reads the winner's). Throws
 * ERR_CLUSTER_MISMATCH when the cluster's partitions or module identity differ from `wanted`'s.
 */
export async function ensureClusterConfig(kv: KV, wanted: { readonly partitions: number; readonly identity: string }): Promise<ClusterConfig> {
  let config = await readClusterConfig(kv);
  if (config === undefined) {
    const created: ClusterConfig = { version: 1, partitions: wanted.partitions, identity: wanted.identity, createdAt: Date.now() };
    try {
      await kv.create(CONFIG_KEY, encodeRecord(created));
      config = created;
    } catch (error) {
      // Someone else created it first: theirs is the cluster's.
      config = await readClusterConfig(kv);
      if (config === undefined) throw error;
    }
  }
  if (config.partitions !== wanted.partitions || config.identity !== wanted.identity) {
    throw new ClusterMismatchError(
      `This member does not match the cluster: the cluster has ${config.partitions} partitions and module ${config.identity}, ` +
      `this member ${wanted.partitions} partitions and module ${wanted.identity}`,
    );
  }
  return config;
}
