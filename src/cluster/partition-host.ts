// The seam between a member's ownership of partitions (leases in the cluster's KV) and what serves
// them (a pool per partition, its journal in the stream): ownership decides, the host acts.

/** What a member does with a partition when its ownership changes. */
export interface PartitionHost {
  /**
   * This member now holds `partition`'s lease at `epoch` (taken by compare-and-set; `epoch` is one
   * more than any before). Fence the partition's journal, restore its sessions and start serving.
   * A rejection gives the lease back (another round may take it again).
   */
  acquire(partition: number, epoch: number): Promise<void>;
  /**
   * Hand `partition` over: stop taking batches (answer `moved`), finish the operations already
   * accepted, make the journal complete, stop. Resolves when the lease may be given back; nothing is
   * written for the partition after that.
   */
  release(partition: number): Promise<void>;
  /**
   * The lease is lost (another member took it, or this member could not renew its heartbeat within
   * the lease's time to live): stop serving `partition` at once, write nothing more.
   */
  abandon(partition: number, reason: string): void;
}
