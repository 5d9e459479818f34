// The address-space check workers make before each start where the engine would end the thread on a
// failed reservation (Node 26): the rule, what it reads from /proc, and the guard's ledger and GC.

import { describe, expect, it } from 'vitest';
import type { ModuleSpec } from '../dist/src/module-spec.js';
import {
  addressSpaceData, engineRefusalEndsThread, parseAddressLimit, parseStatmSize, parseUserAddressSpace, reservationPerMemory, slackFor, startFits,
  type AddressSpaceData,
} from '../dist/src/address-space.js';
import { AddressSpaceGuard, AddressSpaceShort, type ProcessView } from '../dist/workers/address-space-guard.js';
import { instanceRefusal } from '../dist/workers/worker-failures.js';

const GiB = 2 ** 30;

describe('which engines end the thread', () => {
  it('is V8 14.2 and later (Node 26), not the lines that throw (Node 20, 22, 24, 25)', () => {
    expect(['11.3.244.8-node.38', '12.4.254.21-node.57', '13.6.233.17-node.53', '14.1.146.11-node.25'].map(engineRefusalEndsThread))
      .toEqual([false, false, false, false]);
    expect(['14.6.202.34-node.34', '15.0.1'].map(engineRefusalEndsThread)).toEqual([true, true]);
  });

  it('reserves 10 GiB per memory before V8 13, then 8 GiB (16 GiB for memory64)', () => {
    expect(reservationPerMemory('12.4.254.21', false)).toBe(10 * GiB);
    expect(reservationPerMemory('14.6.202.34', false)).toBe(8 * GiB);
    expect(reservationPerMemory('14.6.202.34', true)).toBe(16 * GiB);
  });
});

describe('what the pool gives its workers', () => {
  const spec = {
    exports: Array.from({ length: 1000 }, (_, i) => ({ name: `m${i}`, kind: 'memory' as const })),
    memory: { initialPages: 1, shared: false, memory64: false, imported: false },
  } as unknown as ModuleSpec;

  it.skipIf(process.platform !== 'linux')('counts one memory however many names export it, and nothing where the engine refuses by itself', () => {
    expect(addressSpaceData(spec, '14.6.202.34')?.reservation).toBe(8 * GiB);
    expect(addressSpaceData(spec, '13.6.233.17')).toBeUndefined();
  });
});

describe('reading /proc', () => {
  it('reads the soft address-space limit, unlimited as Infinity', () => {
    const line = (soft: string, hard: string): string => `Max stack size            8388608              unlimited            bytes\nMax address space         ${soft}          ${hard}          bytes\n`;
    expect(parseAddressLimit(line('42949672960', 'unlimited'))).toBe(40 * GiB);
    expect(parseAddressLimit(line('unlimited', 'unlimited'))).toBe(Number.POSITIVE_INFINITY);
    expect(parseAddressLimit('')).toBe(Number.POSITIVE_INFINITY);
  });

  it('finds the user address space above the stack, whatever the command name holds', () => {
    const stat = (stackStart: number): string => `4242 (a (b) c) S ${Array.from({ length: 24 }, (_, i) => i + 1).join(' ')} ${stackStart} 0 0`;
    expect(parseUserAddressSpace(stat(0x7ffd7a0a5f30))).toBe(2 ** 47);
    expect(parseUserAddressSpace(stat(0xffffc2b4e000))).toBe(2 ** 48);
    expect(parseUserAddressSpace(stat(0x7fe5a3c000))).toBe(2 ** 39);
  });

  it('reads the process size from statm in pages', () => {
    expect(parseStatmSize('2621440 1234 567 8 0 99 0\n', 4096)).toBe(10 * GiB);
    expect(parseStatmSize('163840 1 1 1 0 1 0\n', 65_536)).toBe(10 * GiB);
  });

  it('keeps 2 GiB free, or 1/128 of a larger ceiling', () => {
    expect(slackFor(40 * GiB)).toBe(2 * GiB);
    expect(slackFor(2 ** 47)).toBe(2 ** 40);
  });

  it('fits a start only with room for it, the starts under way and the slack', () => {
    expect(startFits(30 * GiB, 0, 8 * GiB, 40 * GiB, 2 * GiB)).toBe(true);
    expect(startFits(30 * GiB + 1, 0, 8 * GiB, 40 * GiB, 2 * GiB)).toBe(false);
    expect(startFits(22 * GiB, 8 * GiB, 8 * GiB, 40 * GiB, 2 * GiB)).toBe(true);
    expect(startFits(22 * GiB, 9 * GiB, 8 * GiB, 40 * GiB, 2 * GiB)).toBe(false);
  });
});

/** A process of `limit` bytes whose instances each map 8 GiB until a GC frees the dropped ones. */
class FakeProcess implements ProcessView {
  base = 2 * GiB;
  held = 0;
  dropped = 0;
  collections = 0;
  mapped(): number {
    return this.base + (this.held + this.dropped) * 8 * GiB;
  }
  collect(): void {
    this.collections++;
    this.dropped = 0;
  }
}

function guardOf(view: FakeProcess, ledger = new SharedArrayBuffer(4)): AddressSpaceGuard {
  const data: AddressSpaceData = { ledger, limit: 40 * GiB, reservation: 8 * GiB, slack: 2 * GiB };
  return new AddressSpaceGuard(data, () => view.held, view);
}

describe('the guard of a worker thread', () => {
  it('starts while one more fits, then refuses with ERR_INSTANCE_LIMIT without instantiating', () => {
    const view = new FakeProcess();
    const guard = guardOf(view);
    let made = 0;
    const make = (): number => {
      made++;
      view.held++;
      return made;
    };
    expect([guard.instantiate(make), guard.instantiate(make), guard.instantiate(make), guard.instantiate(make)]).toEqual([1, 2, 3, 4]);
    let thrown: unknown;
    try {
      guard.instantiate(make);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AddressSpaceShort);
    expect(made).toBe(4);
    expect(view.collections).toBe(0); // nothing was dropped: nothing to collect
    expect(instanceRefusal(thrown)?.error).toMatchObject({ code: 'ERR_INSTANCE_LIMIT' });
    expect(instanceRefusal(thrown)?.lost).toBe(false);
    expect(instanceRefusal(thrown)?.error.message).toContain('the process maps 34 GiB of its 40 GiB address space');
  });

  it('collects dropped instances before refusing, and starts in the room they leave', () => {
    const view = new FakeProcess();
    const guard = guardOf(view);
    const make = (): void => {
      view.held++;
    };
    for (let i = 0; i < 4; i++) guard.instantiate(make);
    view.held--;
    view.dropped++;
    guard.instantiate(make);
    expect(view.collections).toBe(1);
    expect(view.held).toBe(4);
  });

  it('collects near the ceiling after a batch that dropped instances, and not otherwise', () => {
    const view = new FakeProcess();
    const guard = guardOf(view);
    guard.collectIfNear();
    expect(view.collections).toBe(0);
    guard.instantiate(() => {
      view.held++;
    });
    view.held--;
    view.dropped++;
    guard.collectIfNear();
    expect(view.collections).toBe(1);
    // A batch that only called: not even measured.
    const mapped = view.mapped.bind(view);
    let measured = 0;
    view.mapped = (): number => {
      measured++;
      return mapped();
    };
    guard.collectIfNear();
    expect(measured).toBe(0);
  });

  it('leaves room for a start under way on another thread (a shared ledger)', () => {
    const view = new FakeProcess();
    const ledger = new SharedArrayBuffer(4);
    const first = guardOf(view, ledger);
    const second = guardOf(view, ledger);
    for (let i = 0; i < 3; i++) first.instantiate(() => view.held++);
    // 26 GiB mapped: one more fits, but not two at once. The second thread checks while the first is instantiating.
    let inner: unknown;
    first.instantiate(() => {
      try {
        second.instantiate(() => view.held++);
      } catch (error) {
        inner = error;
      }
      view.held++;
    });
    expect(inner).toBeInstanceOf(AddressSpaceShort);
    expect(view.held).toBe(4);
    expect(new Int32Array(ledger)[0]).toBe(0); // nothing stays counted once the starts are done
  });
});
