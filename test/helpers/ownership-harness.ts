// Members of a test cluster made of Ownership objects over fake partition hosts, and a way to wait for
// a condition on them that is checked at each of their events (no sleeps, no timing thresholds).

import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { KV } from '@nats-io/kv';
import { afterEach } from 'vitest';
import { openClusterKv } from '../../dist/src/cluster/cluster-kv.js';
import { Ownership } from '../../dist/src/cluster/ownership.js';
import { rendezvousTarget } from '../../dist/src/cluster/assignment.js';
import { FakePartitionHost, PartitionLedger } from './fake-partition-host.js';
import { useNatsServer } from './nats-fixture.js';

export interface TestMember {
  readonly id: string;
  readonly ownership: Ownership;
  readonly host: FakePartitionHost;
}

export class OwnershipHarness {
  readonly ledger = new PartitionLedger();
  readonly members: TestMember[] = [];
  readonly #connections: NatsConnection[] = [];
  readonly #waiters = new Set<() => void>();

  private constructor(readonly url: string, readonly cluster: string, readonly kv: KV, readonly partitions: number) {}

  static async open(url: string, cluster: string, partitions: number): Promise<OwnershipHarness> {
    const nc = await connect({ servers: url });
    const harness = new OwnershipHarness(url, cluster, await openClusterKv(nc, cluster), partitions);
    harness.#connections.push(nc);
    return harness;
  }

  /** Leases of 1 s by default: long enough that a loaded machine's pauses do not look like deaths. */
  async join(id: string, options: { readonly maxMoves?: number; readonly leaseTtl?: number; readonly failAcquire?: ReadonlySet<number> } = {}): Promise<TestMember> {
    const nc = await connect({ servers: this.url });
    this.#connections.push(nc);
    const kv = await openClusterKv(nc, this.cluster);
    const host = this.ledger.host(id, options.failAcquire === undefined ? {} : { failAcquire: options.failAcquire });
    const ownership = await Ownership.start({
      kv, memberId: id, host, partitions: this.partitions, leaseTtl: options.leaseTtl ?? 1000, maxMoves: options.maxMoves ?? 2,
      describe: () => ({ sessions: 0 }),
    });
    for (const name of ['acquired', 'released', 'lost', 'unreadableRecord'] as const) ownership.on(name, () => this.#check());
    const member = { id, ownership, host };
    this.members.push(member);
    return member;
  }

  /** Resolves once `condition` holds, checked now and at every event of any member. */
  until(condition: () => boolean): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = (): void => {
        if (!condition()) return;
        this.#waiters.delete(waiter);
        resolve();
      };
      this.#waiters.add(waiter);
    });
  }

  /** The partitions `memberId` should own when `live` are the members. */
  targetsOf(memberId: string, live: readonly string[]): number[] {
    return Array.from({ length: this.partitions }, (_, p) => p).filter((p) => rendezvousTarget(p, live) === memberId);
  }

  async close(): Promise<void> {
    for (const member of this.members) member.ownership.stop();
    await Promise.all(this.#connections.map((nc) => nc.close()));
  }

  #check(): void {
    // After the event's other listeners (a test's own may record what the condition reads).
    queueMicrotask(() => {
      for (const waiter of [...this.#waiters]) waiter();
    });
  }
}

/** Equal as sets of partitions (owned() is sorted). */
export function same(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((p, i) => p === b[i]);
}

/**
 * A nats-server for the tests of a `describe` (started before them, stopped after) and harnesses
 * over it: `open(cluster, partitions)` gives one, closed after the test that opened it.
 */
export function useOwnershipHarness(): { open(cluster: string, partitions: number): Promise<OwnershipHarness> } {
  const nats = useNatsServer();
  const opened: OwnershipHarness[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((harness) => harness.close()));
  });
  return {
    async open(cluster, partitions) {
      const harness = await OwnershipHarness.open(nats.server.url, cluster, partitions);
      opened.push(harness);
      return harness;
    },
  };
}
