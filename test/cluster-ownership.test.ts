import { describe, expect, it } from 'vitest';
import { natsAvailable } from './helpers/nats-server.js';
import { same, useOwnershipHarness, type OwnershipHarness } from './helpers/ownership-harness.js';
import type { ClusterStatus } from '../dist/src/cluster/cluster-status.js';
import { readClusterStatus } from '../dist/src/cluster/read-cluster-status.js';

const PARTITIONS = 16;

describe.skipIf(!natsAvailable())('cluster ownership: leases over live members', () => {
  const harnesses = useOwnershipHarness();
  let clusters = 0;
  const open = (): Promise<OwnershipHarness> => harnesses.open(`owners${++clusters}`, PARTITIONS);

  const all = Array.from({ length: PARTITIONS }, (_, p) => p);

  it('a lone member takes every partition, each at epoch 1, at most 4 at once', async () => {
    const h = await open();
    const a = await h.join('alpha');
    await h.until(() => a.ownership.owned().length === PARTITIONS);
    expect(a.ownership.owned()).toEqual(all);
    for (const p of all) expect(h.ledger.epochs(p)).toEqual([1]);
    expect(a.host.maxAcquiring).toBeLessThanOrEqual(4);
    const status = await readClusterStatusOrConfigless(h);
    expect(status.leases).toEqual(all.map((partition) => ({ partition, owner: 'alpha', epoch: 1 })));
    expect(status.members).toEqual([expect.objectContaining({ id: 'alpha', pid: process.pid, draining: false, sessions: 0 })]);
    expect(status.members[0]?.heartbeatAge).toBeGreaterThanOrEqual(0);
    expect(h.ledger.violations).toEqual([]);
  });

  it('a joining member gets its share, handed over at most maxMoves at a time, never held twice', async () => {
    const h = await open();
    const a = await h.join('alpha', { maxMoves: 2 });
    await h.until(() => a.ownership.owned().length === PARTITIONS);
    const b = await h.join('bravo', { maxMoves: 2 });
    const live = ['alpha', 'bravo'];
    await h.until(() => same(a.ownership.owned(), h.targetsOf('alpha', live)) && same(b.ownership.owned(), h.targetsOf('bravo', live)));
    expect(b.ownership.owned().length).toBeGreaterThan(0);
    expect(a.ownership.owned().length).toBeGreaterThan(0);
    expect(a.host.maxReleasing).toBeLessThanOrEqual(2);
    for (const p of h.targetsOf('bravo', live)) expect(h.ledger.epochs(p)).toEqual([1, 2]);
    for (const p of h.targetsOf('alpha', live)) expect(h.ledger.epochs(p)).toEqual([1]);
    // Handed over, never taken from under its owner.
    expect(h.ledger.entries.filter((e) => e.call === 'abandon')).toEqual([]);
    expect(h.ledger.violations).toEqual([]);
  });

  it('a member that stops abruptly loses its partitions to the others once its lease expires', async () => {
    const h = await open();
    const a = await h.join('alpha');
    const b = await h.join('bravo');
    const live = ['alpha', 'bravo'];
    await h.until(() => same(a.ownership.owned(), h.targetsOf('alpha', live)) && same(b.ownership.owned(), h.targetsOf('bravo', live)));
    const lost: [number, string][] = [];
    b.ownership.on('lost', ({ partition, cause }) => lost.push([partition, cause]));
    b.ownership.stop();
    expect(lost.sort((x, y) => x[0] - y[0])).toEqual(h.targetsOf('bravo', live).map((p) => [p, 'stopped']));
    await h.until(() => a.ownership.owned().length === PARTITIONS);
    for (const p of all) {
      const epochs = h.ledger.epochs(p);
      expect(epochs.at(-1)).toBe(epochs.length);
    }
    expect(h.ledger.violations).toEqual([]);
  });

  it('leave() hands every partition over and deletes the member record', async () => {
    const h = await open();
    const a = await h.join('alpha');
    const b = await h.join('bravo');
    const live = ['alpha', 'bravo'];
    await h.until(() => same(a.ownership.owned(), h.targetsOf('alpha', live)) && same(b.ownership.owned(), h.targetsOf('bravo', live)));
    const released: number[] = [];
    b.ownership.on('released', ({ partition }) => released.push(partition));
    await b.ownership.leave();
    expect(b.ownership.owned()).toEqual([]);
    expect(released.sort((x, y) => x - y)).toEqual(h.targetsOf('bravo', live));
    await h.until(() => a.ownership.owned().length === PARTITIONS);
    expect(await h.kv.get('members.bravo').then((entry) => entry?.operation)).not.toBe('PUT');
    expect(h.ledger.entries.filter((e) => e.member === 'bravo' && e.call === 'abandon')).toEqual([]);
    expect(h.ledger.violations).toEqual([]);
  });

  it('leave() of the last member gives every lease back to no owner', async () => {
    const h = await open();
    const a = await h.join('alpha', { maxMoves: 3 });
    await h.until(() => a.ownership.owned().length === PARTITIONS);
    await a.ownership.leave();
    const status = await readClusterStatusOrConfigless(h);
    expect(status.leases).toEqual(all.map((partition) => ({ partition, owner: null, epoch: 1 })));
    expect(status.members).toEqual([]);
  });

  it('under churn (join, leave, crash) every partition ends with its target, never held twice', async () => {
    const h = await open();
    const settled = (members: readonly { id: string; ownership: { owned(): number[] } }[]): boolean =>
      members.every((m) => same(m.ownership.owned(), h.targetsOf(m.id, members.map((x) => x.id))));
    const a = await h.join('alpha', { maxMoves: 1 });
    const b = await h.join('bravo', { maxMoves: 1 });
    const c = await h.join('charlie', { maxMoves: 1 });
    await h.until(() => settled([a, b, c]));
    const [, d] = await Promise.all([c.ownership.leave(), h.join('delta', { maxMoves: 1 })]);
    await h.until(() => settled([a, b, d]));
    b.ownership.stop();
    await h.until(() => settled([a, d]));
    expect(a.ownership.owned().length + d.ownership.owned().length).toBe(PARTITIONS);
    expect(h.ledger.entries.filter((e) => e.call === 'abandon' && e.member !== 'bravo')).toEqual([]);
    for (const p of all) {
      const epochs = h.ledger.epochs(p);
      expect(epochs).toEqual(epochs.map((_, i) => i + 1));
    }
    expect(h.ledger.violations).toEqual([]);
  });

  it('a partition its host fails is given back and taken again at the next epoch', async () => {
    const h = await open();
    const a = await h.join('alpha');
    await h.until(() => a.ownership.owned().length === PARTITIONS);
    const causes: string[] = [];
    a.ownership.on('lost', ({ cause }) => causes.push(cause));
    a.ownership.failed(5, 'its pool could not go on');
    expect(a.ownership.owned()).not.toContain(5);
    await h.until(() => a.ownership.owned().includes(5));
    expect(causes).toEqual(['failed']);
    expect(h.ledger.epochs(5)).toEqual([1, 2]);
  });

  it('a partition its host cannot start is given back, not held, and tried again later', async () => {
    const h = await open();
    const lost: string[] = [];
    const a = await h.join('alpha', { failAcquire: new Set([2]) });
    a.ownership.on('lost', ({ partition, cause }) => lost.push(`${partition} ${cause}`));
    const others = all.filter((p) => p !== 2);
    await h.until(() => same(a.ownership.owned(), others) && lost.length >= 2);
    expect(new Set(lost)).toEqual(new Set(['2 acquire']));
    const lease = await h.kv.get('partitions.2');
    // Every failed take was at the next epoch, its lease given back before the loss was reported.
    expect(lease?.json<{ epoch: number }>().epoch).toBeGreaterThanOrEqual(2);
    expect(h.ledger.violations).toEqual([]);
  });
});

async function readClusterStatusOrConfigless(h: OwnershipHarness): Promise<ClusterStatus> {
  // These tests write no config: the status reader needs one, so write the one a member would.
  if ((await h.kv.get('config')) === null) {
    await h.kv.create('config', new TextEncoder().encode(JSON.stringify({ version: 1, partitions: h.partitions, identity: 'test', createdAt: 0 })));
  }
  return readClusterStatus(h.kv, h.cluster);
}
