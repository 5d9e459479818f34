// The records a cluster keeps in its KV bucket (config, members, partition leases), as JSON, and their
// checked decoding: a record another version or another program wrote is refused, not trusted.

/** The cluster's fixed facts, written once by its first member. */
export interface ClusterConfig {
  readonly version: 1;
  /** How many partitions session keys map to. Never changes. */
  readonly partitions: number;
  /** SHA-256 hex of the module every member runs. */
  readonly identity: string;
  /** When the first member wrote it (ms since the epoch; for display). */
  readonly createdAt: number;
}

/** A member's record, rewritten at every heartbeat. Liveness is judged by each observer's own clock. */
export interface MemberRecord {
  readonly version: 1;
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly startedAt: number;
  /** Counts up at every heartbeat. */
  readonly beat: number;
  /** True once the member is leaving: it takes no new partitions and hands its own over. */
  readonly draining: boolean;
  /** Partitions it serves now. */
  readonly partitions: readonly number[];
  /** Sessions it holds (live, hibernated or stored) over all its partitions. */
  readonly sessions: number;
}

/** A partition's lease: its owner (none when released) and the epoch, which grows by one at every take. */
export interface PartitionLease {
  readonly version: 1;
  readonly owner: string | null;
  readonly epoch: number;
}
