// The input tape of a durable session: what the non-deterministic preview1 functions (clocks, random,
// poll_oneoff) gave an instance during one operation, recorded in order, and fed back in a replay.

import { ByteReader, ByteWriter, RecordDecodeError } from '../src/journal-record.js';
import { Clock, SIZE } from './wasi-abi.js';

/*
 * A tape is a sequence of entries, little-endian, nothing before or after them:
 *   u8 1 (clock)   u32 clock id, u64 the value written (ns)
 *   u8 2 (random)  u32 length, then that many bytes
 *   u8 3 (poll)    u32 subscriptions, u32 events written, u64 the instance's monotonic clock after the poll,
 *                  then every written event's 32 bytes as they were left in guest memory
 *   u8 4 (host call)   u32 the host import's index (see HostFunctionsData.imports), then its effects, in order:
 *   u8 5 (host write)  u32 pointer, u32 length, then the bytes the host function wrote there
 *   u8 6 (host alloc)  u32 the pointer the guest's allocator returned, u32 length, then the bytes copied there
 *                      (written before the allocator runs, the pointer filled in after: entries its run
 *                      records follow it)
 *   u8 7 (host return) each result: an i64 for i64, else an f64 (the count and types are the import's)
 *   u8 8 (host throw)  the code (a string: a u32 length and UTF-8; `trap` for a trap), then the message
 *   (the guest's clock, random and poll entries made while a host function runs lie between these)
 * Calls that fail before they reach the host's clocks or generator (an unknown clock, a pointer outside
 * memory, a bad subscription) are deterministic and leave no entry.
 */

/** Entry kinds on a tape. */
export const TapeEntry = { Clock: 1, Random: 2, Poll: 3, HostCall: 4, HostWrite: 5, HostAlloc: 6, HostReturn: 7, HostThrow: 8 } as const;
export type TapeEntry = (typeof TapeEntry)[keyof typeof TapeEntry];

const ENTRY_NAMES: Record<TapeEntry, string> = {
  1: 'clock_time_get', 2: 'random_get', 3: 'poll_oneoff', 4: 'a host function call', 5: 'a host function\'s memory write',
  6: 'a host function\'s allocation', 7: 'a host function\'s return', 8: 'a host function\'s failure',
};

/** What a host function did next, as the tape gives it back (see {@link InputTape.replayHostEffect}). */
export type HostEffect =
  | { readonly kind: 'write' | 'alloc'; readonly ptr: number; readonly bytes: Uint8Array }
  | { readonly kind: 'return'; readonly values: readonly (number | bigint)[] }
  | { readonly kind: 'throw'; readonly code: string; readonly message: string };

/** What the tape sink does with host inputs. */
export const TapeMode = {
  /** Nothing: inputs come from the host and are not kept (no durability). */
  Off: 0,
  /** Inputs come from the host and are written to the tape. */
  Record: 1,
  /** Inputs come from the tape, never the host; poll_oneoff never sleeps. */
  Replay: 2,
} as const;
export type TapeMode = (typeof TapeMode)[keyof typeof TapeMode];

/**
 * Thrown from a host function (through the wasm stack) when a replayed call asks for another input
 * than the tape holds. The tape also keeps {@link InputTape.diverged}: a guest that swallows the
 * exception cannot hide it.
 */
export class TapeDivergence extends Error {}

/** A poll's events as the tape gives them back. */
export interface ReplayedPoll {
  /** Every written event's bytes, 32 each. */
  readonly events: Uint8Array;
  readonly count: number;
}

/**
 * The worker-global tape sink every instance's WASI surface reports to, like the output sink: set
 * around each operation, it costs an operation that calls none of these functions nothing.
 */
export class InputTape {
  /** Read by the WASI surface on every clock, random and poll call: one field, no getter. */
  mode: TapeMode;
  #writer: ByteWriter | undefined;
  #reader: ByteReader | undefined;
  /** Why the replay diverged (the first reason), once it has. */
  diverged: string | undefined;
  /** The highest monotonic time the replay fed an instance (ns; -1 before any). */
  maxMonotonic = -1n;

  constructor(mode: TapeMode = TapeMode.Off) {
    this.mode = mode;
  }

  /** Whether entries were recorded since the last {@link take}. */
  get recorded(): boolean {
    return this.#writer !== undefined && this.#writer.length > 0;
  }

  /** The entries recorded since the last call (a copy), or undefined when there are none; the tape is empty after. */
  take(): Uint8Array | undefined {
    const writer = this.#writer;
    if (writer === undefined || writer.length === 0) return undefined;
    const bytes = writer.take();
    writer.length = 0;
    return bytes;
  }

  /** Forgets what was recorded since the last {@link take}. */
  clear(): void {
    if (this.#writer !== undefined) this.#writer.length = 0;
  }

  #out(): ByteWriter {
    this.#writer ??= new ByteWriter(64);
    return this.#writer;
  }

  recordClock(clock: number, ns: bigint): void {
    const out = this.#out();
    out.u8(TapeEntry.Clock);
    out.u32(clock);
    out.i64(BigInt.asIntN(64, ns));
  }

  recordRandom(bytes: Uint8Array): void {
    const out = this.#out();
    out.u8(TapeEntry.Random);
    out.blob(bytes);
  }

  /** `events`: the written events as they lie in guest memory (copied here). */
  recordPoll(subscriptions: number, events: Uint8Array, monotonicNs: bigint): void {
    const out = this.#out();
    out.u8(TapeEntry.Poll);
    out.u32(subscriptions);
    out.u32(events.byteLength / SIZE.event);
    out.i64(BigInt.asIntN(64, monotonicNs));
    out.raw(events);
  }

  /** A host function call begins: import `index`. */
  recordHostCall(index: number): void {
    const out = this.#out();
    out.u8(TapeEntry.HostCall);
    out.u32(index);
  }

  /** The running host function wrote `bytes` at `ptr`. */
  recordHostWrite(ptr: number, bytes: Uint8Array): void {
    const out = this.#out();
    out.u8(TapeEntry.HostWrite);
    out.u32(ptr);
    out.blob(bytes);
  }

  /**
   * The running host function asks the guest's allocator for room for `bytes`: recorded before the
   * allocator runs (what it records comes after); the returned function fills in the pointer it gave.
   */
  recordHostAlloc(bytes: Uint8Array): (ptr: number) => void {
    const out = this.#out();
    out.u8(TapeEntry.HostAlloc);
    const at = out.reserve(4);
    out.blob(bytes);
    return (ptr) => this.#out().view.setUint32(at, ptr, true);
  }

  /** The running host function returned `values`, of `types`. */
  recordHostReturn(values: readonly (number | bigint)[], types: readonly string[]): void {
    const out = this.#out();
    out.u8(TapeEntry.HostReturn);
    types.forEach((type, i) => {
      if (type === 'i64') out.i64(BigInt.asIntN(64, values[i] as bigint));
      else out.f64(values[i] as number);
    });
  }

  /** The running host function failed with `code` (`trap`: the guest trapped under it) and `message`. */
  recordHostThrow(code: string, message: string): void {
    const out = this.#out();
    out.u8(TapeEntry.HostThrow);
    out.string(code);
    out.string(message);
  }

  /** Checks that the tape's next entry is a call of host import `index` (`names`: every import, for messages). Throws {@link TapeDivergence}. */
  replayHostCall(index: number, names: readonly string[]): void {
    const input = this.#expect(TapeEntry.HostCall);
    const recorded = this.#read(() => input.u32());
    if (recorded !== index) this.#diverge(`host function ${names[index] ?? index} was called, the tape holds a call of ${names[recorded] ?? `host import ${recorded}`}`);
  }

  /** The running host function's next effect, its return, or its failure (`types`: its result types). Throws {@link TapeDivergence}. */
  replayHostEffect(types: readonly string[]): HostEffect {
    const input = this.#reader;
    if (input === undefined || input.done) this.#diverge('a host function is running, the tape has no more entries');
    const kind = this.#read(() => input.u8());
    switch (kind) {
      case TapeEntry.HostWrite:
      case TapeEntry.HostAlloc: {
        const ptr = this.#read(() => input.u32());
        const bytes = this.#read(() => input.blob());
        return { kind: kind === TapeEntry.HostWrite ? 'write' : 'alloc', ptr, bytes };
      }
      case TapeEntry.HostReturn:
        return { kind: 'return', values: types.map((type) => this.#read(() => (type === 'i64' ? input.i64() : input.f64()))) };
      case TapeEntry.HostThrow:
        return { kind: 'throw', code: this.#read(() => input.string()), message: this.#read(() => input.string()) };
      default: {
        const name = (ENTRY_NAMES as Partial<Record<number, string>>)[kind] ?? `an entry of unknown kind ${kind}`;
        return this.#diverge(`a host function is running, the tape's next entry is ${name}`);
      }
    }
  }

  /** A replayed host function's effect did not come out as recorded. Throws {@link TapeDivergence}. */
  hostDiverged(reason: string): never {
    return this.#diverge(reason);
  }

  /** Feeds `tape` to the calls that follow (mode {@link TapeMode.Replay}), replacing any tape not finished. */
  load(tape: Uint8Array): void {
    this.mode = TapeMode.Replay;
    this.#reader = new ByteReader(tape);
  }

  /** Bytes of the loaded tape not read yet. */
  get unread(): number {
    const reader = this.#reader;
    return reader === undefined ? 0 : reader.bytes.byteLength - reader.at;
  }

  /** Starts a replay: no divergence yet, no monotonic time seen. */
  beginReplay(): void {
    this.mode = TapeMode.Replay;
    this.diverged = undefined;
    this.maxMonotonic = -1n;
    this.#reader = undefined;
  }

  /** Ends a replay: back to `mode`, the tape empty. */
  endReplay(mode: TapeMode): void {
    this.mode = mode;
    this.#reader = undefined;
    this.clear();
  }

  /** The value the tape gives clock `clock`. Throws {@link TapeDivergence}. */
  replayClock(clock: number): bigint {
    const input = this.#expect(TapeEntry.Clock);
    const recorded = this.#read(() => input.u32());
    if (recorded !== clock) this.#diverge(`clock_time_get asked for clock ${clock}, the tape holds clock ${recorded}`);
    const ns = BigInt.asUintN(64, this.#read(() => input.i64()));
    if (clock === Clock.MONOTONIC) this.#sawMonotonic(ns);
    return ns;
  }

  /** Fills `bytes` from the tape. Throws {@link TapeDivergence}. */
  replayRandom(bytes: Uint8Array): void {
    const input = this.#expect(TapeEntry.Random);
    const recorded = this.#read(() => input.blob());
    if (recorded.byteLength !== bytes.byteLength) {
      this.#diverge(`random_get asked for ${bytes.byteLength} bytes, the tape holds ${recorded.byteLength}`);
    }
    bytes.set(recorded);
  }

  /** The events of a poll of `subscriptions` subscriptions. Throws {@link TapeDivergence}. */
  replayPoll(subscriptions: number): ReplayedPoll {
    const input = this.#expect(TapeEntry.Poll);
    const recorded = this.#read(() => input.u32());
    const count = this.#read(() => input.u32());
    if (recorded !== subscriptions) this.#diverge(`poll_oneoff has ${subscriptions} subscriptions, the tape's had ${recorded}`);
    if (count > subscriptions) this.#diverge(`the tape's poll_oneoff wrote ${count} events for ${subscriptions} subscriptions`);
    this.#sawMonotonic(BigInt.asUintN(64, this.#read(() => input.i64())));
    const events = this.#read(() => input.raw(count * SIZE.event));
    return { events, count };
  }

  #sawMonotonic(ns: bigint): void {
    if (ns > this.maxMonotonic) this.maxMonotonic = ns;
  }

  /** The reader, past the next entry's kind, which must be `kind`. */
  #expect(kind: TapeEntry): ByteReader {
    const input = this.#reader;
    if (input === undefined || input.done) this.#diverge(`${ENTRY_NAMES[kind]} was called, the tape has no more entries`);
    const found = input.u8();
    if (found !== kind) {
      const name = (ENTRY_NAMES as Partial<Record<number, string>>)[found] ?? `an entry of unknown kind ${found}`;
      this.#diverge(`${ENTRY_NAMES[kind]} was called, the tape's next entry is ${name}`);
    }
    return input;
  }

  #read<T>(read: () => T): T {
    try {
      return read();
    } catch (error) {
      if (error instanceof RecordDecodeError) this.#diverge(`the tape ends inside an entry (${error.message})`);
      throw error;
    }
  }

  #diverge(reason: string): never {
    this.diverged ??= reason;
    throw new TapeDivergence(reason);
  }
}
