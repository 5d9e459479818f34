// Where a cluster keeps things in NATS: its KV bucket, its stream, the subjects of each partition, and
// the map from a session key to its partition. Every name is made here and nowhere else.

import { InvalidOptionError, describeValue } from '../errors.js';
import { hashKey } from '../placement.js';

/** A cluster name: letters, digits, `_` and `-` (it becomes part of NATS subjects, a bucket and a stream). */
const CLUSTER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Throws ERR_INVALID_OPTION unless `name` can name a cluster. */
export function checkClusterName(name: unknown, option = 'cluster'): string {
  if (typeof name !== 'string' || !CLUSTER_NAME.test(name)) {
    throw new InvalidOptionError(`Expected \`${option}\` to be 1 to 64 letters, digits, "_" or "-", got ${describeValue(name)}`);
  }
  return name;
}

/** The KV bucket holding the cluster's config, member records and partition leases. */
export function kvBucket(cluster: string): string {
  return `reactor-pool_${cluster}`;
}

/** The stream holding every partition's journal, snapshots and fence records. */
export function streamName(cluster: string): string {
  return `REACTOR_POOL_${cluster}`;
}

/** Every subject of the cluster's stream. */
export function streamSubjects(cluster: string): string {
  return `rp.${cluster}.p.>`;
}

/** The subjects of one partition in the stream. Snapshot names and segments must be subject tokens. */
export function partitionSubjects(cluster: string, partition: number): {
  /** All of the partition's subjects: writes are fenced on the last sequence among these. */
  readonly all: string;
  /** Fence records: each new owner's first write. */
  readonly fence: string;
  /** Prefix of journal segments; a segment's subject is `${journal}.${segment}`. */
  readonly journal: string;
  /** Prefix of snapshots; a snapshot's subject is `${snapshot}.${name}`. */
  readonly snapshot: string;
} {
  const base = `rp.${cluster}.p.${partition}`;
  return { all: `${base}.>`, fence: `${base}.fence`, journal: `${base}.j`, snapshot: `${base}.s` };
}

/** The subject a partition's owner answers call batches on. */
export function callSubject(cluster: string, partition: number): string {
  return `rp.${cluster}.call.${partition}`;
}

/** KV keys. */
export const CONFIG_KEY = 'config';
export function memberKey(memberId: string): string {
  return `members.${memberId}`;
}
export function partitionKey(partition: number): string {
  return `partitions.${partition}`;
}

/** A member id: letters, digits, `_` and `-` (it becomes a KV key token). */
const MEMBER_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function checkMemberId(id: unknown): string {
  if (typeof id !== 'string' || !MEMBER_ID.test(id)) {
    throw new InvalidOptionError(`Expected \`memberId\` to be 1 to 64 letters, digits, "_" or "-", got ${describeValue(id)}`);
  }
  return id;
}

/** The partition of a session key: fixed for the cluster's life (its partition count never changes). */
export function partitionOf(key: string, partitions: number): number {
  // A second mix of the FNV hash: the worker placement uses FNV too, and the two must not correlate.
  let h = hashKey(key) ^ 0x5bd1e995;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  h ^= h >>> 15;
  return (h >>> 0) % partitions;
}
