// What a cluster looks like now, as read from its KV bucket (read-cluster-status.ts): its config, its
// members (with the age of their last heartbeat as the NATS server stamped it) and who holds each
// partition's lease. Types only, so that the declarations of those who show it do not reach NATS's.

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
