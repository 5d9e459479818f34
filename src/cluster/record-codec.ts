// Encoding and checked decoding of the cluster's KV records (shapes in cluster-records.ts): JSON bytes
// out, and in, either a record of this version with every field of the right type or ERR_CLUSTER_MISMATCH.

import { ClusterMismatchError, describeValue } from '../errors.js';
import type { ClusterConfig, MemberRecord, PartitionLease } from './cluster-records.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** A record as the bytes stored in KV. */
export function encodeRecord(record: ClusterConfig | MemberRecord | PartitionLease): Uint8Array {
  return encoder.encode(JSON.stringify(record));
}

/** The cluster config in `bytes`; ERR_CLUSTER_MISMATCH unless it is one this version wrote. */
export function decodeClusterConfig(bytes: Uint8Array, where = 'config'): ClusterConfig {
  const o = readObject(bytes, where);
  return {
    version: 1,
    partitions: field(o, 'partitions', where, isCount),
    identity: field(o, 'identity', where, (v): v is string => typeof v === 'string' && v.length > 0),
    createdAt: field(o, 'createdAt', where, isTime),
  };
}

/**
 * A member record in `bytes`; ERR_CLUSTER_MISMATCH unless it is one this version wrote (and, given
 * `expectedId`, the record of that member: the id in its key).
 */
export function decodeMemberRecord(bytes: Uint8Array, where = 'member record', expectedId?: string): MemberRecord {
  const o = readObject(bytes, where);
  if (expectedId !== undefined && o['id'] !== expectedId) {
    throw new ClusterMismatchError(`The cluster's ${where} names another member, got ${describeValue(o['id'])}`);
  }
  return {
    version: 1,
    id: field(o, 'id', where, (v): v is string => typeof v === 'string' && v.length > 0),
    host: field(o, 'host', where, (v): v is string => typeof v === 'string'),
    pid: field(o, 'pid', where, isTime),
    startedAt: field(o, 'startedAt', where, isTime),
    beat: field(o, 'beat', where, isTime),
    draining: field(o, 'draining', where, (v): v is boolean => typeof v === 'boolean'),
    partitions: field(o, 'partitions', where, (v): v is number[] => Array.isArray(v) && v.every((p) => Number.isSafeInteger(p) && (p as number) >= 0)),
    sessions: field(o, 'sessions', where, isTime),
  };
}

/** A partition lease in `bytes`; ERR_CLUSTER_MISMATCH unless it is one this version wrote. */
export function decodePartitionLease(bytes: Uint8Array, where = 'partition lease'): PartitionLease {
  const o = readObject(bytes, where);
  return {
    version: 1,
    owner: field(o, 'owner', where, (v): v is string | null => v === null || (typeof v === 'string' && v.length > 0)),
    epoch: field(o, 'epoch', where, isTime),
  };
}

function readObject(bytes: Uint8Array, where: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    throw new ClusterMismatchError(`The cluster's ${where} is not a record this version can read: ${bytes.byteLength} bytes that are not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ClusterMismatchError(`The cluster's ${where} is not a record this version can read, got ${describeValue(value)}`);
  }
  const o = value as Record<string, unknown>;
  if (o['version'] !== 1) {
    throw new ClusterMismatchError(`The cluster's ${where} has version ${describeValue(o['version'])}; this version reads version 1`);
  }
  return o;
}

function field<T>(o: Record<string, unknown>, name: string, where: string, check: (value: unknown) => value is T): T {
  const value = o[name];
  if (!check(value)) throw new ClusterMismatchError(`The cluster's ${where} has a malformed \`${name}\`, got ${describeValue(value)}`);
  return value;
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 1;
}

function isTime(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
