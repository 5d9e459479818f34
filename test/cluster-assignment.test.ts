import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planRound, rendezvousTarget, type HoldState, type ObservedLease, type RoundView } from '../dist/src/cluster/assignment.js';

const SEED = 20_261_202;
const memberIds = fc.uniqueArray(fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/), { minLength: 1, maxLength: 12 });

function targets(partitions: number, members: readonly string[]): (string | undefined)[] {
  return Array.from({ length: partitions }, (_, p) => rendezvousTarget(p, members));
}

describe('cluster assignment: rendezvous target of a partition', () => {
  it('is deterministic and does not depend on the order members are listed in', () => {
    fc.assert(fc.property(memberIds, fc.nat(4095), (members, partition) => {
      const target = rendezvousTarget(partition, members);
      expect(members).toContain(target);
      expect(rendezvousTarget(partition, [...members].reverse())).toBe(target);
    }), { seed: SEED });
    expect(rendezvousTarget(3, [])).toBeUndefined();
  });

  it('adding a member moves only partitions to it, about 1/N of them', () => {
    fc.assert(fc.property(memberIds, fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/), (members, joiner) => {
      fc.pre(!members.includes(joiner));
      const partitions = 2048;
      const before = targets(partitions, members);
      const after = targets(partitions, [...members, joiner]);
      let moved = 0;
      for (let p = 0; p < partitions; p++) {
        if (before[p] !== after[p]) {
          expect(after[p]).toBe(joiner);
          moved++;
        }
      }
      const expected = partitions / (members.length + 1);
      expect(moved).toBeGreaterThan(expected * 0.7);
      expect(moved).toBeLessThan(expected * 1.3);
    }), { seed: SEED, numRuns: 60 });
  });

  it('removing a member moves only its own partitions', () => {
    fc.assert(fc.property(memberIds, fc.nat(11), (members, index) => {
      fc.pre(members.length >= 2);
      const leaver = members[index % members.length] as string;
      const before = targets(512, members);
      const after = targets(512, members.filter((m) => m !== leaver));
      for (let p = 0; p < 512; p++) {
        if (before[p] !== leaver) expect(after[p]).toBe(before[p]);
        else expect(after[p]).not.toBe(leaver);
      }
    }), { seed: SEED, numRuns: 60 });
  });

  it('spreads partitions evenly over members', () => {
    const members = Array.from({ length: 8 }, (_, i) => `member-${i}`);
    const counts = new Map<string, number>();
    for (const target of targets(8192, members)) counts.set(target as string, (counts.get(target as string) ?? 0) + 1);
    for (const member of members) {
      expect(counts.get(member)).toBeGreaterThan(1024 * 0.85);
      expect(counts.get(member)).toBeLessThan(1024 * 1.15);
    }
  });
});

function view(overrides: Partial<RoundView> & Pick<RoundView, 'self' | 'targets'>): RoundView {
  return {
    partitions: 16,
    isAlive: () => true,
    leases: new Map(),
    held: new Map(),
    resting: new Set(),
    maxMoves: 2,
    maxAcquiring: 4,
    mayTake: true,
    draining: false,
    ...overrides,
  };
}

function holds(entries: readonly [number, HoldState, number][]): Map<number, { state: HoldState; epoch: number }> {
  return new Map(entries.map(([p, state, epoch]) => [p, { state, epoch }]));
}

describe('cluster assignment: the plan of one round', () => {
  it('takes free partitions it is the target of, at most maxAcquiring at once', () => {
    const plan = planRound(view({ self: 'a', targets: ['a'] }));
    expect(plan.take).toEqual([0, 1, 2, 3]);
    const more = planRound(view({ self: 'a', targets: ['a'], held: holds([[0, 'acquiring', 1], [1, 'serving', 1]]) }));
    expect(more.take).toEqual([2, 3, 4]);
  });

  it('does not take a partition a live member owns, takes one a dead member owns (next epoch via the lease)', () => {
    const leases = new Map<number, ObservedLease>([[0, { owner: 'b', epoch: 3 }], [1, { owner: 'c', epoch: 5 }], [2, { owner: null, epoch: 2 }]]);
    const plan = planRound(view({ self: 'a', targets: ['a'], partitions: 3, leases, isAlive: (id) => id !== 'c' }));
    expect(plan.take).toEqual([1, 2]);
  });

  it('gives back a lease in its name it does not hold, unless it takes the partition again', () => {
    // With targets a and b: a partition each member is the target of, and one more it holds.
    const ofA = [0, 1, 2, 3, 4, 5, 6, 7].find((p) => rendezvousTarget(p, ['a', 'b']) === 'a')!;
    const ofB = [0, 1, 2, 3, 4, 5, 6, 7].find((p) => rendezvousTarget(p, ['a', 'b']) === 'b')!;
    const held = Math.max(ofA, ofB) + 1;
    const leases = new Map<number, ObservedLease>([[ofA, { owner: 'a', epoch: 4 }], [ofB, { owner: 'a', epoch: 2 }], [held, { owner: 'a', epoch: 1 }]]);
    const plan = planRound(view({ self: 'a', targets: ['a', 'b'], partitions: held + 1, leases, held: holds([[held, 'serving', 1]]) }));
    // Its own target: taken again (a new epoch). Another's: given back, so that its target can take it. Held: kept.
    expect(plan.take).toContain(ofA);
    expect(plan.disown).toEqual([ofB]);
    // Not allowed to take (its heartbeat failing, or leaving): both given back.
    const resting = planRound(view({ self: 'a', targets: ['a', 'b'], partitions: held + 1, leases, held: holds([[held, 'serving', 1]]), mayTake: false }));
    expect([...resting.disown].sort((x, y) => x - y)).toEqual([ofA, ofB].sort((x, y) => x - y));
  });

  it('leaves alone a partition whose lease it cannot read, and one that is resting', () => {
    const plan = planRound(view({ self: 'a', targets: ['a'], partitions: 3, leases: new Map([[0, 'unreadable']]), resting: new Set([1]) }));
    expect(plan.take).toEqual([2]);
  });

  it('hands over partitions whose target is another member, at most maxMoves at once', () => {
    const all = Array.from({ length: 16 }, (_, p): [number, HoldState, number] => [p, 'serving', 1]);
    const plan = planRound(view({ self: 'a', targets: ['a', 'b'], held: holds(all) }));
    const theirs = all.map(([p]) => p).filter((p) => rendezvousTarget(p, ['a', 'b']) === 'b');
    expect(theirs.length).toBeGreaterThan(2);
    expect(plan.handOver).toEqual(theirs.slice(0, 2));
    expect(plan.take).toEqual([]);
    const busy = planRound(view({ self: 'a', targets: ['a', 'b'], held: holds(all.map(([p]): [number, HoldState, number] => [p, p === theirs[0] ? 'releasing' : 'serving', 1])) }));
    expect(busy.handOver).toEqual([theirs[1]]);
  });

  it('draining with no other member gives every lease back; not draining it keeps them', () => {
    const held = holds([[0, 'serving', 1], [1, 'serving', 1], [2, 'acquiring', 1]]);
    expect(planRound(view({ self: 'a', targets: [], held, mayTake: false, draining: true, maxMoves: 16 })).handOver).toEqual([0, 1]);
    expect(planRound(view({ self: 'a', targets: [], held, mayTake: false, draining: false })).handOver).toEqual([]);
  });

  it('abandons a partition whose lease another member holds now, not one whose news is older than its own lease', () => {
    const held = holds([[0, 'serving', 4], [1, 'acquiring', 7], [2, 'serving', 2]]);
    const leases = new Map<number, ObservedLease>([[0, { owner: 'b', epoch: 5 }], [1, { owner: 'b', epoch: 6 }], [2, { owner: 'a', epoch: 2 }]]);
    expect(planRound(view({ self: 'a', targets: ['a', 'b'], partitions: 3, held, leases })).abandon).toEqual([0]);
  });
});
