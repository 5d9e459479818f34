// One member's view of the cluster's KV bucket: the other members (and when it last saw each change,
// by its own monotonic clock) and the partitions' leases. Fed by a watch; never trusted past a revision.

import type { KvEntry } from '@nats-io/kv';
import { ClusterMismatchError } from '../errors.js';
import type { ObservedLease } from './assignment.js';
import type { MemberRecord } from './cluster-records.js';
import { decodeMemberRecord, decodePartitionLease } from './record-codec.js';

interface SeenMember {
  /** Undefined when deleted or unreadable. */
  readonly record: MemberRecord | undefined;
  readonly revision: number;
  /** Monotonic time this revision was first seen. */
  readonly seenAt: number;
  readonly deleted: boolean;
}

interface SeenLease {
  /** Undefined when deleted. */
  readonly lease: ObservedLease | 'unreadable' | undefined;
  readonly revision: number;
}

/** What an entry of the bucket changed, if anything; `unreadable` when it holds a record this version cannot read. */
export interface Observation {
  readonly changed: boolean;
  readonly unreadable?: ClusterMismatchError;
}

export class ClusterView {
  readonly #partitions: number;
  readonly #leaseTtl: number;
  readonly #since = performance.now();
  readonly #members = new Map<string, SeenMember>();
  readonly #leases = new Map<number, SeenLease>();

  constructor(partitions: number, leaseTtl: number) {
    this.#partitions = partitions;
    this.#leaseTtl = leaseTtl;
  }

  /** Takes in one entry of the bucket (older revisions than one seen are ignored). */
  observe(entry: KvEntry): Observation {
    if (entry.key.startsWith('members.')) {
      const id = entry.key.slice('members.'.length);
      const previous = this.#members.get(id);
      if (previous !== undefined && entry.revision <= previous.revision) return { changed: false };
      const deleted = entry.operation !== 'PUT';
      let record: MemberRecord | undefined;
      let unreadable: ClusterMismatchError | undefined;
      if (!deleted) {
        try {
          record = decodeMemberRecord(entry.value, `member record \`${entry.key}\``, id);
        } catch (error) {
          if (!(error instanceof ClusterMismatchError)) throw error;
          unreadable = error;
        }
      }
      this.#members.set(id, { record, revision: entry.revision, seenAt: performance.now(), deleted });
      return unreadable === undefined ? { changed: true } : { changed: true, unreadable };
    }
    if (entry.key.startsWith('partitions.')) {
      const partition = Number(entry.key.slice('partitions.'.length));
      if (!Number.isSafeInteger(partition) || partition < 0 || partition >= this.#partitions) return { changed: false };
      if (!this.#newer(partition, entry.revision)) return { changed: false };
      if (entry.operation !== 'PUT') {
        this.#leases.set(partition, { lease: undefined, revision: entry.revision });
        return { changed: true };
      }
      try {
        this.#leases.set(partition, { lease: decodePartitionLease(entry.value, `lease \`${entry.key}\``), revision: entry.revision });
        return { changed: true };
      } catch (error) {
        if (!(error instanceof ClusterMismatchError)) throw error;
        this.#leases.set(partition, { lease: 'unreadable', revision: entry.revision });
        return { changed: true, unreadable: error };
      }
    }
    return { changed: false };
  }

  /** Records a lease this member wrote (its write's revision), unless a later one was seen already. */
  noteLease(partition: number, lease: ObservedLease, revision: number): void {
    if (this.#newer(partition, revision)) this.#leases.set(partition, { lease, revision });
  }

  /** The lease last seen for `partition` and its revision (undefined: never seen; `lease` undefined: deleted). */
  lease(partition: number): SeenLease | undefined {
    return this.#leases.get(partition);
  }

  /** Every lease seen that exists now. */
  leases(): Map<number, ObservedLease | 'unreadable'> {
    const out = new Map<number, ObservedLease | 'unreadable'>();
    for (const [partition, seen] of this.#leases) if (seen.lease !== undefined) out.set(partition, seen.lease);
    return out;
  }

  /**
   * Whether another member is alive: its record changed less than `leaseTtl` ago and was not deleted. A
   * member never seen (a lease's owner without a record) counts as alive until this view is `leaseTtl` old.
   */
  isAlive(memberId: string): boolean {
    const now = performance.now();
    const seen = this.#members.get(memberId);
    if (seen === undefined) return now - this.#since < this.#leaseTtl;
    return !seen.deleted && now - seen.seenAt < this.#leaseTtl;
  }

  /** The other members that take partitions: alive, readable, not draining. */
  liveMembers(except: string): string[] {
    const out: string[] = [];
    for (const [id, seen] of this.#members) {
      if (id !== except && seen.record !== undefined && !seen.record.draining && this.isAlive(id)) out.push(id);
    }
    return out;
  }

  #newer(partition: number, revision: number): boolean {
    const previous = this.#leases.get(partition);
    return previous === undefined || previous.revision < revision;
  }
}
