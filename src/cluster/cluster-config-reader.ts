// What a client needs of the cluster's config record (src/cluster/cluster-records.ts): its partition
// count, read with every field checked; a record it cannot read is not trusted.

/** The partition count of a ClusterConfig record's bytes, or undefined if they are not one of this version. */
export function readPartitionCount(bytes: Uint8Array): number | undefined {
  let record: unknown;
  try {
    record = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
  if (typeof record !== 'object' || record === null) return undefined;
  const { version, partitions, identity } = record as Record<string, unknown>;
  if (version !== 1 || typeof identity !== 'string') return undefined;
  if (typeof partitions !== 'number' || !Number.isSafeInteger(partitions) || partitions < 1 || partitions > 4096) return undefined;
  return partitions;
}
