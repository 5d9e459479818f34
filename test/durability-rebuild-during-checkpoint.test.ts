// A rebuild that reads its base snapshot while a checkpoint completes: the plan is taken from the
// history as it was when the rebuild began (the base it reads and the records since), never a mix.

import { describe, expect, it } from 'vitest';
import { DirectoryDurableStore, type DurableStore } from '../dist/src/index.js';
import { Durability } from '../dist/src/durability.js';
import { resolveDurability } from '../dist/src/durability-options.js';
import { CallFlags, decodeRecord } from '../dist/src/journal-record.js';
import { splitReplayRecords } from '../dist/src/replay-records.js';
import { durableDir } from './helpers/durable-dir.js';

/** A gate a store operation waits at, once armed: `reached` resolves when one is waiting, `open()` lets it go. */
class Gate {
  #armed = false;
  #open: (() => void) | undefined;
  #reached: (() => void) | undefined;
  reached: Promise<void> = Promise.resolve();

  arm(): void {
    this.#armed = true;
    this.reached = new Promise((resolve) => { this.#reached = resolve; });
  }

  async pass(): Promise<void> {
    if (!this.#armed) return;
    this.#armed = false;
    const opened = new Promise<void>((resolve) => { this.#open = resolve; });
    this.#reached?.();
    await opened;
  }

  open(): void {
    this.#open?.();
  }
}

/** A directory store whose snapshot writes and reads can each be held at a gate. */
function gatedStore(dir: string, writes: Gate, reads: Gate): DurableStore {
  const inner = new DirectoryDurableStore(dir);
  return {
    open: (identity) => inner.open(identity),
    segments: () => inner.segments(),
    readSegment: (segment) => inner.readSegment(segment),
    append: (segment, bytes) => inner.append(segment, bytes),
    deleteSegment: (segment) => inner.deleteSegment(segment),
    writeSnapshot: async (name, bytes) => {
      await writes.pass();
      await inner.writeSnapshot(name, bytes);
    },
    readSnapshot: async (name) => {
      await reads.pass();
      return inner.readSnapshot(name);
    },
    deleteSnapshot: (name) => inner.deleteSnapshot(name),
    snapshots: () => inner.snapshots(),
    close: () => inner.close(),
  };
}

describe('durability: a rebuild while a checkpoint completes', () => {
  it('plans from the history as it was when the rebuild began: the old base and every record since', async () => {
    const dir = await durableDir();
    const writes = new Gate();
    const reads = new Gate();
    const options = resolveDurability({ store: gatedStore(dir, writes, reads), snapshotEvery: { calls: Infinity, bytes: Infinity, ms: Infinity } });
    if (options === undefined) throw new Error('no durability');
    const durability = await Durability.open(options, 'identity');
    try {
      durability.start({ rollback: () => {}, checkpointDue: () => {} });
      const history = durability.historyFor('a');
      const call = (n: number): Promise<unknown> => new Promise((resolve, reject) => {
        durability.recordCall(history, {
          flags: history.seq === 0 ? CallFlags.Opened : 0, exportIndex: 0, mode: undefined, typedResult: undefined,
          idempotencyKey: undefined, args: [n], outcome: n, tape: undefined,
        }, { acknowledge: resolve, refuse: reject }, undefined);
      });
      for (let n = 1; n <= 4; n++) await call(n);
      const first = new Uint8Array([1, 1, 1]);
      expect(await durability.checkpoint(history, first, 4)).toBe(true);
      for (let n = 5; n <= 8; n++) await call(n);
      // The second checkpoint's file write waits; a rebuild's plan starts and waits reading the first one.
      writes.arm();
      const second = durability.checkpoint(history, new Uint8Array([2, 2, 2]), 8);
      await writes.reached;
      reads.arm();
      const planned = durability.plan(history);
      await reads.reached;
      writes.open();
      expect(await second).toBe(true);
      reads.open();
      const plan = await planned;
      expect(plan.base).toEqual(first);
      expect(plan.count).toBe(4);
      expect(splitReplayRecords(plan.records).map((body) => decodeRecord(body).seq)).toEqual([5, 6, 7, 8]);
    } finally {
      await durability.close();
    }
  });
});
