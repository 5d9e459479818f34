// Partition hosts that serve nothing: they record every acquire/release/abandon into a ledger shared
// by all members of a test, which checks that no partition is ever held by two hosts at once and that
// every partition's epochs strictly increase.

import type { PartitionHost } from '../../dist/src/cluster/partition-host.js';

export interface LedgerEntry {
  readonly member: string;
  readonly call: 'acquire' | 'release' | 'abandon';
  readonly partition: number;
  readonly epoch?: number;
}

export class PartitionLedger {
  readonly entries: LedgerEntry[] = [];
  /** Broken rules, as messages (a test expects none). */
  readonly violations: string[] = [];
  readonly #holder = new Map<number, string>();
  readonly #lastEpoch = new Map<number, number>();

  host(member: string, options: { readonly failAcquire?: ReadonlySet<number> } = {}): FakePartitionHost {
    return new FakePartitionHost(member, this, options.failAcquire ?? new Set());
  }

  /** Epochs each partition was acquired at, in order. */
  epochs(partition: number): number[] {
    return this.entries.filter((e) => e.call === 'acquire' && e.partition === partition).map((e) => e.epoch as number);
  }

  onAcquire(member: string, partition: number, epoch: number): void {
    this.entries.push({ member, call: 'acquire', partition, epoch });
    const holder = this.#holder.get(partition);
    if (holder !== undefined) this.violations.push(`${member} acquired ${partition} while ${holder} held it`);
    const last = this.#lastEpoch.get(partition) ?? 0;
    if (epoch <= last) this.violations.push(`${member} acquired ${partition} at epoch ${epoch} after epoch ${last}`);
    this.#holder.set(partition, member);
    this.#lastEpoch.set(partition, epoch);
  }

  onStop(member: string, call: 'release' | 'abandon', partition: number): void {
    this.entries.push({ member, call, partition });
    if (this.#holder.get(partition) === member) this.#holder.delete(partition);
  }
}

export class FakePartitionHost implements PartitionHost {
  /** Releases under way now, and the most there ever were at once; the same for acquisitions. */
  releasing = 0;
  maxReleasing = 0;
  acquiring = 0;
  maxAcquiring = 0;
  readonly #member: string;
  readonly #ledger: PartitionLedger;
  readonly #failAcquire: ReadonlySet<number>;

  constructor(member: string, ledger: PartitionLedger, failAcquire: ReadonlySet<number>) {
    this.#member = member;
    this.#ledger = ledger;
    this.#failAcquire = failAcquire;
  }

  async acquire(partition: number, epoch: number): Promise<void> {
    this.acquiring++;
    this.maxAcquiring = Math.max(this.maxAcquiring, this.acquiring);
    // Fencing and restoring take a few turns of the event loop.
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.acquiring--;
    if (this.#failAcquire.has(partition)) throw new Error(`partition ${partition} cannot be served here`);
    this.#ledger.onAcquire(this.#member, partition, epoch);
  }

  async release(partition: number): Promise<void> {
    this.releasing++;
    this.maxReleasing = Math.max(this.maxReleasing, this.releasing);
    // A hand-over takes a few turns of the event loop (finishing accepted calls, flushing the journal).
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.releasing--;
    this.#ledger.onStop(this.#member, 'release', partition);
  }

  abandon(partition: number): void {
    this.#ledger.onStop(this.#member, 'abandon', partition);
  }
}
