// Keeps a worker thread's starts within the process's address space where the engine would end the
// thread rather than refuse (see src/address-space.ts): checks before each instantiation, and collects
// the thread's dropped instances (whose reservations stay mapped until a GC) before it refuses.

import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LEDGER_UNIT, startFits, parseStatmSize, toLedgerUnits, type AddressSpaceData } from '../src/address-space.js';

const GiB = 2 ** 30;
/** Within this many reservations of the ceiling, a batch that dropped instances collects them at its end. */
const NEAR_RESERVATIONS = 16;

/** Thrown instead of instantiating: the start would not fit (see worker-failures.ts). */
export class AddressSpaceShort extends RangeError {
  constructor(readonly used: number, readonly limit: number, readonly reservation: number) {
    super(
      `one more instance reserves about ${gib(reservation)} GiB, and the process maps ${gib(used)} GiB of its ${gib(limit)} GiB address space`,
    );
  }
}

function gib(bytes: number): string {
  return (bytes / GiB).toFixed(1).replace(/\.0$/, '');
}

/** How the guard sees the process; replaced in tests. */
export interface ProcessView {
  /** Bytes the process maps now. */
  mapped(): number;
  /** Runs a full GC of this thread's heap (frees the reservations of instances nothing holds). */
  collect(): void;
}

export class AddressSpaceGuard {
  readonly #data: AddressSpaceData;
  readonly #ledger: Int32Array;
  readonly #view: ProcessView;
  /** Instances made by this thread since its last collection (some may since have been dropped). */
  #madeSinceCollect = 0;
  /** Instances the thread held at its last collection. */
  #liveAtCollect = 0;
  /** What the last {@link collectIfNear} saw, to skip batches that neither started nor dropped an instance. */
  #liveAtBatchEnd = 0;
  #madeAtBatchEnd = 0;

  /** `live()` counts the instances the thread still holds. */
  constructor(data: AddressSpaceData, readonly live: () => number, view: ProcessView = procView()) {
    this.#data = data;
    this.#ledger = new Int32Array(data.ledger);
    this.#view = view;
  }

  /**
   * Instantiates with `make` if one more instance fits, after collecting this thread's garbage if it
   * would not otherwise; throws {@link AddressSpaceShort} if it still does not.
   */
  instantiate<T>(make: () => T): T {
    const units = toLedgerUnits(this.#data.reservation);
    const before = Atomics.add(this.#ledger, 0, units);
    try {
      const others = before * LEDGER_UNIT;
      let used = this.#view.mapped();
      if (!this.#fits(used, others) && this.#hasGarbage()) {
        this.#collect();
        used = this.#view.mapped();
      }
      if (!this.#fits(used, others)) throw new AddressSpaceShort(used, this.#data.limit, this.#data.reservation);
      const made = make();
      this.#madeSinceCollect++;
      return made;
    } finally {
      Atomics.sub(this.#ledger, 0, units);
    }
  }

  /** After a batch: near the ceiling, frees what the thread dropped, so that other threads' starts find the room. */
  collectIfNear(): void {
    // Only after a batch that started or dropped instances: most batches only call, and pay nothing here.
    const live = this.live();
    if (live === this.#liveAtBatchEnd && this.#madeSinceCollect === this.#madeAtBatchEnd) return;
    this.#liveAtBatchEnd = live;
    this.#madeAtBatchEnd = this.#madeSinceCollect;
    if (!this.#hasGarbage()) return;
    const { limit, reservation, slack } = this.#data;
    if (this.#view.mapped() + NEAR_RESERVATIONS * reservation + slack > limit) this.#collect();
  }

  #fits(used: number, others: number): boolean {
    return startFits(used, others, this.#data.reservation, this.#data.limit, this.#data.slack);
  }

  #hasGarbage(): boolean {
    return this.#liveAtCollect + this.#madeSinceCollect > this.live();
  }

  #collect(): void {
    this.#view.collect();
    this.#madeSinceCollect = 0;
    this.#liveAtCollect = this.live();
  }
}

/** This process, through /proc/self/statm, and V8's own `gc`. */
function procView(): ProcessView {
  const buffer = Buffer.alloc(128);
  let gc: (() => void) | undefined;
  const statm = (): string => {
    const fd = openSync('/proc/self/statm', 'r');
    try {
      return buffer.toString('latin1', 0, readSync(fd, buffer, 0, buffer.length, 0));
    } finally {
      closeSync(fd);
    }
  };
  let pageSize: number | undefined;
  return {
    mapped(): number {
      pageSize ??= pageSizeOf(statm());
      return parseStatmSize(statm(), pageSize);
    },
    collect(): void {
      gc ??= exposeGc();
      // The first GC finds the dropped instances; their reservations are unmapped as V8's array-buffer
      // sweeper finishes, which a second GC waits for (one alone left them mapped about one time in five).
      gc();
      gc();
    },
  };
}

/**
 * The kernel's page size (statm counts in pages: 4 KiB on x86-64, 4, 16 or 64 KiB on arm64), from
 * statm's size against /proc/self/status's VmSize (in kB), read once: cheaper than status each time.
 */
function pageSizeOf(statm: string): number {
  const kib = Number(/^VmSize:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'latin1'))?.[1]);
  const pages = parseStatmSize(statm, 1);
  if (!(kib > 0 && pages > 0)) return 4096;
  return 2 ** Math.round(Math.log2((kib * 1024) / pages));
}

/**
 * V8's `gc`, for this thread: Node offers no other way to collect now (`v8.queryObjects` collects too,
 * but takes ~100 ms and warns). `--expose-gc` only puts `gc` in contexts made while it is set, so it is
 * set for one new context and unset at once; a thread already given `gc` (node --expose-gc) uses it.
 */
function exposeGc(): () => void {
  const global = (globalThis as { gc?: unknown }).gc;
  if (typeof global === 'function') return global as () => void;
  setFlagsFromString('--expose-gc');
  try {
    return runInNewContext('gc') as () => void;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}
