// The process's address space for wasm memories, where the engine cannot be asked: on V8 14.6 and later
// (Node 26) a wasm memory V8 cannot reserve ends the worker thread instead of throwing, so the pool must
// refuse a start before the engine tries. What the pool knows here, and the rule both threads apply.

import { readFileSync } from 'node:fs';
import type { ModuleSpec } from './module-spec.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

/** What a worker thread needs to keep its starts within the process's address space (see workers/address-space-guard.ts). */
export interface AddressSpaceData {
  /**
   * One Int32 per process: MiB of address space that starts are about to reserve (counted before a
   * thread instantiates, uncounted once the reservation shows in the process's size), so that threads
   * starting at once each leave room for the others.
   */
  readonly ledger: SharedArrayBuffer;
  /** The process's ceiling in bytes: its `ulimit -v`, or the user address space when lower. */
  readonly limit: number;
  /** Bytes V8 reserves for one instance of the module (its memories with their guard regions). */
  readonly reservation: number;
  /** Bytes kept free after a start, for everything else the process maps (JavaScript heaps, threads). */
  readonly slack: number;
}

/**
 * Whether this engine ends a worker thread when it cannot reserve a wasm memory. V8 14.6 runs a
 * last-resort GC on the failed reservation, which calls the near-heap-limit callback Node installs
 * on every worker: the thread exits with ERR_WORKER_OUT_OF_MEMORY before the RangeError is thrown.
 * V8 14.1 (Node 25) and earlier throw the RangeError (measured on Node 20, 22, 24 and 25).
 */
export function engineRefusalEndsThread(v8Version: string): boolean {
  const [major = 0, minor = 0] = v8Version.split('.').map(Number);
  return major > 14 || (major === 14 && minor >= 2);
}

/** V8's reservation for one memory (what the trap handler's guard regions need), by engine and index type. */
export function reservationPerMemory(v8Version: string, memory64: boolean): number {
  const major = Number(v8Version.split('.')[0]);
  // Measured: 10 GiB per memory up to V8 12 (Node 20, 22); 8 GiB (32-bit) and 16 GiB (64-bit) from V8 13.
  if (major < 13) return 10 * GiB;
  return memory64 ? 16 * GiB : 8 * GiB;
}

/** `Max address space` of /proc/self/limits (its soft limit) in bytes; Infinity when unlimited or absent. */
export function parseAddressLimit(limits: string): number {
  const match = /^Max address space\s+(\S+)/m.exec(limits);
  if (match === null || match[1] === 'unlimited') return Number.POSITIVE_INFINITY;
  const bytes = Number(match[1]);
  return Number.isFinite(bytes) && bytes > 0 ? bytes : Number.POSITIVE_INFINITY;
}

/**
 * The user address space, from the stack's start (field 28 of /proc/self/stat): the stack sits at the
 * top of it, so it ends at the next power of two (2^47 = 128 TiB on x86-64, 2^48 or 2^39 on arm64).
 */
export function parseUserAddressSpace(stat: string): number {
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its end.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const stackStart = Number(fields[25]);
  if (!Number.isFinite(stackStart) || stackStart <= 0) return Number.POSITIVE_INFINITY;
  return 2 ** Math.ceil(Math.log2(stackStart + 1));
}

/** The process's size in bytes from /proc/self/statm (its first field, in pages). */
export function parseStatmSize(statm: string, pageSize: number): number {
  return Number(statm.slice(0, statm.indexOf(' '))) * pageSize;
}

/** Bytes the pool keeps free: 2 GiB, or 1/128 of the ceiling when larger (1 TiB of 128 TiB). */
export function slackFor(limit: number): number {
  return Math.max(2 * GiB, Math.floor(limit / 128));
}

/**
 * Whether a start that reserves `reservation` bytes fits: the process maps `used` bytes of `limit`,
 * and starts on other threads are about to reserve `othersInFlight` bytes more.
 */
export function startFits(used: number, othersInFlight: number, reservation: number, limit: number, slack: number): boolean {
  return used + othersInFlight + reservation + slack <= limit;
}

/** Rounds bytes up to the ledger's unit. */
export function toLedgerUnits(bytes: number): number {
  return Math.ceil(bytes / MiB);
}

export const LEDGER_UNIT = MiB;

let ledger: SharedArrayBuffer | undefined;

/** The process's ledger, shared by every pool (made at the first pool that needs it). */
function processLedger(): SharedArrayBuffer {
  ledger ??= new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
  return ledger;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
}

/**
 * What the pool's workers need to refuse a start the engine would die of; undefined where the engine
 * refuses by itself (a RangeError the workers turn into `ERR_INSTANCE_LIMIT`) or nothing can be
 * measured (no /proc: outside Linux, such a start still ends the thread, see README "Capacity").
 */
export function addressSpaceData(spec: ModuleSpec, v8Version: string = process.versions.v8): AddressSpaceData | undefined {
  if (!engineRefusalEndsThread(v8Version) || process.platform !== 'linux') return undefined;
  const limits = readText('/proc/self/limits');
  const stat = readText('/proc/self/stat');
  if (limits === undefined || stat === undefined) return undefined;
  const limit = Math.min(parseAddressLimit(limits), parseUserAddressSpace(stat));
  if (!Number.isFinite(limit)) return undefined;
  // One memory: a WASI reactor exports one (perhaps under many names); a rare second one comes out of the slack.
  const reservation = reservationPerMemory(v8Version, spec.memory?.memory64 === true);
  return { ledger: processLedger(), limit, reservation, slack: slackFor(limit) };
}
