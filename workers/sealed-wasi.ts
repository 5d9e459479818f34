// The WASI preview1 imports each reactor instance links against. Fds 0-2 are virtual and private to
// the instance, process-level calls are intercepted, waiting is bounded; only what the user granted
// (preopened directories, through node:wasi) reaches anything outside. README "WASI surface" maps it.

import type { WASI as WasiClass } from 'node:wasi';
import type { WasiConfig } from '../src/protocol.js';
import { seeded } from '../src/seeded-random.js';
import type { InstanceHostState } from '../src/snapshot-format.js';
import { TapeMode, type InputTape } from './input-tape.js';
import { appendOutput, type OutputSink } from './output-sink.js';
import {
  Clock, Errno, EventType, FDFLAGS_ALL, Filetype, PREVIEW1_FUNCTIONS, Rights, SIZE, type Preview1Function, type WasiArg, type WasiFunction,
} from './wasi-abi.js';
import { checkPoll, clockNow, clockResolution, pollOneoff, type FdReadiness } from './wasi-poll.js';

/** Thrown through the wasm stack when the reactor calls `proc_exit`: the instance is finished. */
export class ReactorExit extends Error {
  constructor(readonly exitCode: number) {
    super(`reactor called proc_exit(${exitCode})`);
  }
}

/** Thrown through the wasm stack when the reactor calls `proc_raise`: no signal is sent; the instance is finished. */
export class ReactorSignal extends Error {
  constructor(readonly signal: number) {
    super(`reactor called proc_raise(${signal})`);
  }
}

/** NUL-terminated strings (args or environment), encoded once per worker. */
interface EncodedStrings {
  readonly items: readonly Uint8Array[];
  readonly bytes: number;
}

/** What every instance of one worker is granted, prepared once. */
interface Grant {
  readonly args: EncodedStrings;
  readonly env: EncodedStrings;
  readonly stdin: Uint8Array;
  /** Only with preopened directories is a node:wasi object needed at all. */
  readonly preopens: Readonly<Record<string, string>> | undefined;
}

const grants = new WeakMap<WasiConfig, Grant>();

function grantOf(config: WasiConfig): Grant {
  let grant = grants.get(config);
  if (grant === undefined) {
    grant = {
      args: encodeStrings(config.args),
      env: encodeStrings(Object.entries(config.env).map(([name, value]) => `${name}=${value}`)),
      stdin: config.stdin,
      preopens: Object.keys(config.preopens).length === 0 ? undefined : config.preopens,
    };
    grants.set(config, grant);
  }
  return grant;
}

function encodeStrings(strings: readonly string[]): EncodedStrings {
  const encoder = new TextEncoder();
  const items = strings.map((text) => encoder.encode(`${text}\0`));
  return { items, bytes: items.reduce((sum, item) => sum + item.byteLength, 0) };
}

const STDIN_RIGHTS = Rights.FD_READ | Rights.FD_FDSTAT_SET_FLAGS | Rights.FD_SYNC | Rights.FD_DATASYNC |
  Rights.FD_FILESTAT_GET | Rights.POLL_FD_READWRITE;
const STDOUT_RIGHTS = Rights.FD_WRITE | Rights.FD_FDSTAT_SET_FLAGS | Rights.FD_SYNC | Rights.FD_DATASYNC |
  Rights.FD_FILESTAT_GET | Rights.POLL_FD_READWRITE;

/** 0, 1 or 2 for a virtual stdio descriptor, -1 for any other (i32 fds arrive signed). */
function stdio(fd: WasiArg): number {
  return typeof fd === 'number' && fd >= 0 && fd <= 2 ? fd : -1;
}

/**
 * A guest pointer outside memory, or a host call made before the memory is known (a start
 * function runs before the instance exists): the guest's EFAULT. Anything else is a real failure.
 */
function fault(error: unknown): number {
  if (error instanceof RangeError && !error.message.startsWith('Maximum call stack')) return Errno.FAULT;
  if ((error as { code?: unknown } | null)?.code === 'ERR_WASI_NOT_STARTED') return Errno.FAULT;
  throw error;
}

const badDescriptor: WasiFunction = () => Errno.BADF;

/** The most `getRandomValues` fills at once. */
const RANDOM_CHUNK = 65_536;

/**
 * Web Crypto's generator, reached on first use: importing node:crypto up front cost every worker
 * thread several milliseconds of start-up, which create() waits for.
 */
function fillRandom(bytes: Uint8Array): void {
  for (let at = 0; at < bytes.byteLength; at += RANDOM_CHUNK) {
    globalThis.crypto.getRandomValues(bytes.subarray(at, at + RANDOM_CHUNK));
  }
}

/**
 * How an instance sees time and randomness: the host's clocks (the monotonic one shifted so that it
 * continues from where a snapshot left it) and generator, or, for the image snapshots are compared
 * against, a fixed sequence of both, so that every process builds the same image.
 */
export type WasiInputs = 'host' | 'deterministic';

/** The seed of the deterministic generator (any fixed value: it only has to be the same everywhere). */
const DETERMINISTIC_SEED = 0x5eed;
/** Nanoseconds the deterministic clocks advance per reading. */
const DETERMINISTIC_TICK = 1000n;

/** Virtual stdio fds as a snapshot holds them. */
export type StdioState = InstanceHostState['stdio'];

/** A preview1 function as the pool implements it, given the instance it acts on. */
type HostFunction = (s: SealedWasi, ...args: WasiArg[]) => number;

const importsByModule = new WeakMap<WebAssembly.Module, readonly Preview1Function[]>();

/** The preview1 functions `module` imports (others it may name fail to link, as they would with node:wasi). */
function wasiImportsOf(module: WebAssembly.Module): readonly Preview1Function[] {
  let names = importsByModule.get(module);
  if (names === undefined) {
    const known: ReadonlySet<string> = new Set(PREVIEW1_FUNCTIONS);
    names = [...new Set(WebAssembly.Module.imports(module)
      .filter((entry) => entry.module === 'wasi_snapshot_preview1' && entry.kind === 'function' && known.has(entry.name))
      .map((entry) => entry.name as Preview1Function))];
    importsByModule.set(module, names);
  }
  return names;
}

/**
 * One instance's side of WASI: its virtual stdio (open, flags, rights, how much stdin it has read),
 * its memory once known, its node:wasi object when directories are preopened, and its imports.
 */
export class SealedWasi {
  static readonly #host = SealedWasi.#hostFunctions();
  /**
   * This instance's `wasi_snapshot_preview1` imports: one small function per preview1 function the
   * module imports, bound to this instance (so no host call can act on another instance's memory).
   */
  readonly imports: Partial<Record<Preview1Function, WasiFunction>> = {};
  readonly #grant: Grant;
  readonly #sink: OutputSink;
  /** node:wasi, for preopened directories only (and what is opened from them: fds 3 and up). */
  readonly #files: WasiClass | undefined;
  #memory: WebAssembly.Memory | undefined;
  #view = new DataView(new ArrayBuffer(0));
  /** Per virtual fd 0-2: open, its fdflags and rights (the guest may change them; only here). */
  readonly #open = [true, true, true];
  readonly #fdflags = [0, 0, 0];
  readonly #rights = [STDIN_RIGHTS, STDOUT_RIGHTS, STDOUT_RIGHTS];
  /** How much of the configured stdin this instance has read. */
  #stdinRead = 0;
  /** Added to the host's monotonic clock: a restored instance's clock continues from its snapshot's. */
  #monotonicOffset = 0n;
  /** Set for {@link WasiInputs} `'deterministic'`: the fixed clock and generator. */
  readonly #fixed: { time: bigint; random: () => number } | undefined;
  /** Where host inputs are recorded, or replayed from (durable sessions); never for fixed inputs. */
  readonly #tape: InputTape | undefined;

  constructor(
    WASI: typeof WasiClass, module: WebAssembly.Module, config: WasiConfig, sink: OutputSink, inputs: WasiInputs = 'host', tape?: InputTape,
  ) {
    this.#fixed = inputs === 'deterministic' ? { time: 0n, random: seeded(DETERMINISTIC_SEED) } : undefined;
    this.#tape = inputs === 'deterministic' ? undefined : tape;
    this.#grant = grantOf(config);
    this.#sink = sink;
    const preopens = this.#grant.preopens;
    this.#files = preopens === undefined ? undefined : new WASI({ version: 'preview1', preopens: { ...preopens } });
    // Only what the module imports: every function made here is garbage V8 collects with the
    // instance, and that collection, not the making, is what slows starts down (bench/wasi-start.mjs).
    for (const name of wasiImportsOf(module)) {
      const host = SealedWasi.#host[name];
      this.imports[name] = (...args: WasiArg[]): number => {
        try {
          return host(this, ...args);
        } catch (error) {
          return fault(error);
        }
      };
    }
  }

  /** Called once the instance exists: host calls can now reach its memory (before, they get EFAULT). */
  attach(memory: WebAssembly.Memory | undefined): void {
    this.#memory = memory;
    if (memory !== undefined) this.#files?.initialize({ exports: { memory } });
  }

  /** The instance's monotonic clock now, in ns. */
  get monotonicNow(): bigint {
    return this.#now(Clock.MONOTONIC) as bigint;
  }

  /** What a snapshot keeps of this side of the instance. */
  state(): Pick<InstanceHostState, 'monotonicNs' | 'stdio' | 'stdinRead'> {
    return {
      monotonicNs: this.monotonicNow,
      stdio: [0, 1, 2].map((fd) => ({ open: this.#open[fd] === true, fdflags: this.#fdflags[fd] as number, rights: this.#rights[fd] as bigint })),
      stdinRead: this.#stdinRead,
    };
  }

  /** Takes on a snapshot's state: stdio as it was, stdin read as far, the monotonic clock continuing from its value. */
  restoreState(state: Pick<InstanceHostState, 'monotonicNs' | 'stdio' | 'stdinRead'>): void {
    state.stdio.forEach((io, fd) => {
      this.#open[fd] = io.open;
      this.#fdflags[fd] = io.fdflags & FDFLAGS_ALL;
      // Rights only ever shrink: a snapshot cannot grant more than a fresh instance has.
      this.#rights[fd] = io.rights & (this.#rights[fd] as bigint);
    });
    this.#stdinRead = Math.min(state.stdinRead, this.#grant.stdin.byteLength);
    this.#monotonicOffset = state.monotonicNs - process.hrtime.bigint();
  }

  /** Moves the monotonic clock forward, if need be, so that it reads `ns` at least from now on (after a replay). */
  continueMonotonicFrom(ns: bigint): void {
    const behind = ns - this.monotonicNow;
    if (behind > 0n) this.#monotonicOffset += behind;
  }

  /** `clock_time_get`'s value: the host's (recorded when durable), or the tape's in a replay; undefined for an unknown clock. */
  #clockTime(clock: number): bigint | undefined {
    const tape = this.#tape;
    if (tape === undefined || tape.mode === TapeMode.Off) return this.#now(clock);
    if (clockResolution(clock) === undefined) return undefined;
    if (tape.mode === TapeMode.Replay) return tape.replayClock(clock);
    const now = this.#now(clock) as bigint;
    tape.recordClock(clock, now);
    return now;
  }

  /** `random_get` into `bytes`: the host's generator (recorded when durable), the tape's bytes in a replay, or the fixed sequence. */
  #random(bytes: Uint8Array): void {
    const fixed = this.#fixed;
    const tape = this.#tape;
    if (fixed !== undefined) {
      for (let i = 0; i < bytes.byteLength; i++) bytes[i] = Math.floor(fixed.random() * 256);
    } else if (tape?.mode === TapeMode.Replay) {
      tape.replayRandom(bytes);
    } else {
      fillRandom(bytes);
      if (tape?.mode === TapeMode.Record) tape.recordRandom(bytes);
    }
  }

  /** `poll_oneoff`: waits on the host's clocks (the events recorded when durable), or writes the tape's events in a replay, at once. */
  #poll(subscriptions: number, events: number, count: number, out: number, file: (name: Preview1Function) => WasiFunction): number {
    const view = this.#memoryView();
    const tape = this.#tape;
    if (tape?.mode === TapeMode.Replay) {
      const refused = checkPoll(view, subscriptions, events, count, out);
      if (refused !== Errno.SUCCESS) return refused;
      const replayed = tape.replayPoll(count);
      new Uint8Array(view.buffer, view.byteOffset + events, replayed.events.byteLength).set(replayed.events);
      view.setUint32(out, replayed.count, true);
      return Errno.SUCCESS;
    }
    const errno = pollOneoff(view, subscriptions, events, count, out,
      (fd, type, scratch) => this.#readiness(fd, type, scratch, file('fd_fdstat_get')), this.#monotonicOffset);
    if (errno === Errno.SUCCESS && tape?.mode === TapeMode.Record) {
      const written = view.getUint32(out, true);
      tape.recordPoll(count, new Uint8Array(view.buffer, view.byteOffset + events, written * SIZE.event), this.monotonicNow);
    }
    return errno;
  }

  /** `clock` now as this instance sees it, or undefined for an unknown clock id. */
  #now(clock: number): bigint | undefined {
    const fixed = this.#fixed;
    if (fixed !== undefined) {
      if (clockResolution(clock) === undefined) return undefined;
      fixed.time += DETERMINISTIC_TICK;
      return fixed.time;
    }
    const now = clockNow(clock);
    return clock === Clock.MONOTONIC && now !== undefined ? now + this.#monotonicOffset : now;
  }

  /** Every preview1 function, acting on the instance it is given; built once per thread. */
  static #hostFunctions(): Record<Preview1Function, HostFunction> {
    /** node:wasi's function for descriptors 3 and up (preopens and what they opened); without preopens, none exist. */
    const file = (s: SealedWasi, name: Preview1Function): WasiFunction =>
      (s.#files?.wasiImport as Partial<Record<Preview1Function, WasiFunction>> | undefined)?.[name] ?? badDescriptor;
    /** For calls on a descriptor: virtual stdio answers `onStdio`, other fds go to node:wasi. */
    const byFd = (name: Preview1Function, onStdio: HostFunction): HostFunction => (s, fd, ...rest) => {
      const std = stdio(fd);
      if (std < 0) return file(s, name)(fd, ...rest);
      return s.#open[std] === true ? onStdio(s, std, ...rest) : Errno.BADF;
    };
    const errno = (value: number) => (): number => value;
    /** path_* calls: stdio descriptors are not directories. */
    const atDirs = (name: Preview1Function, ...fdArgs: number[]): HostFunction => (s, ...args) => {
      for (const at of fdArgs) {
        const std = stdio(args[at] as WasiArg);
        if (std >= 0) return s.#open[std] === true ? Errno.NOTDIR : Errno.BADF;
      }
      return file(s, name)(...args);
    };
    return {
      args_get: (s, list, buffer) => s.#writeStrings('args', list as number, buffer as number),
      args_sizes_get: (s, count, bytes) => s.#writeSizes('args', count as number, bytes as number),
      environ_get: (s, list, buffer) => s.#writeStrings('env', list as number, buffer as number),
      environ_sizes_get: (s, count, bytes) => s.#writeSizes('env', count as number, bytes as number),
      clock_res_get: (s, clock, out) => s.#writeTime(clockResolution(clock as number), out as number),
      clock_time_get: (s, clock, _precision, out) => s.#writeTime(s.#clockTime(clock as number), out as number),
      fd_advise: byFd('fd_advise', errno(Errno.SPIPE)),
      fd_allocate: byFd('fd_allocate', errno(Errno.SPIPE)),
      fd_close: byFd('fd_close', (s, fd) => {
        s.#open[fd as number] = false;
        return Errno.SUCCESS;
      }),
      // Nothing to flush: output is captured as it is written.
      fd_datasync: byFd('fd_datasync', errno(Errno.SUCCESS)),
      fd_sync: byFd('fd_sync', errno(Errno.SUCCESS)),
      fd_fdstat_get: byFd('fd_fdstat_get', (s, fd, out) => s.#writeFdstat(fd as number, out as number)),
      fd_fdstat_set_flags: byFd('fd_fdstat_set_flags', (s, fd, flags) => {
        if (((flags as number) & ~FDFLAGS_ALL) !== 0) return Errno.INVAL;
        s.#fdflags[fd as number] = flags as number;
        return Errno.SUCCESS;
      }),
      fd_fdstat_set_rights: byFd('fd_fdstat_set_rights', (s, fd, base, inheriting) => {
        // Rights only shrink; stdio passes nothing on.
        const current = s.#rights[fd as number] as bigint;
        if (((base as bigint) & ~current) !== 0n || inheriting !== 0n) return Errno.NOTCAPABLE;
        s.#rights[fd as number] = base as bigint;
        return Errno.SUCCESS;
      }),
      fd_filestat_get: byFd('fd_filestat_get', (s, _fd, out) => s.#writeFilestat(out as number)),
      fd_filestat_set_size: byFd('fd_filestat_set_size', errno(Errno.INVAL)),
      fd_filestat_set_times: byFd('fd_filestat_set_times', errno(Errno.NOTSUP)),
      fd_pread: byFd('fd_pread', errno(Errno.SPIPE)),
      fd_pwrite: byFd('fd_pwrite', errno(Errno.SPIPE)),
      fd_prestat_get: byFd('fd_prestat_get', errno(Errno.BADF)),
      fd_prestat_dir_name: byFd('fd_prestat_dir_name', errno(Errno.BADF)),
      fd_read: byFd('fd_read', (s, fd, iovs, count, out) => s.#readStdin(fd as number, iovs as number, count as number, out as number)),
      fd_readdir: byFd('fd_readdir', errno(Errno.NOTDIR)),
      fd_renumber: (s, from, to) => s.#renumber(from as number, to as number, file(s, 'fd_renumber')),
      fd_seek: byFd('fd_seek', errno(Errno.SPIPE)),
      fd_tell: byFd('fd_tell', errno(Errno.SPIPE)),
      fd_write: byFd('fd_write', (s, fd, iovs, count, out) => s.#writeStdio(fd as number, iovs as number, count as number, out as number)),
      path_create_directory: atDirs('path_create_directory', 0),
      path_filestat_get: atDirs('path_filestat_get', 0),
      path_filestat_set_times: atDirs('path_filestat_set_times', 0),
      path_link: atDirs('path_link', 0, 4),
      path_open: atDirs('path_open', 0),
      path_readlink: atDirs('path_readlink', 0),
      path_remove_directory: atDirs('path_remove_directory', 0),
      path_rename: atDirs('path_rename', 0, 3),
      path_symlink: atDirs('path_symlink', 2),
      path_unlink_file: atDirs('path_unlink_file', 0),
      poll_oneoff: (s, subscriptions, events, count, out) => s.#poll((subscriptions as number) >>> 0, (events as number) >>> 0,
        (count as number) >>> 0, (out as number) >>> 0, (name) => file(s, name)),
      proc_exit: (_s, code) => {
        throw new ReactorExit(code as number);
      },
      proc_raise: (_s, signal) => {
        throw new ReactorSignal(signal as number);
      },
      sched_yield: errno(Errno.SUCCESS),
      random_get: (s, buffer, length) => {
        s.#random(s.#bytes(buffer as number, length as number));
        return Errno.SUCCESS;
      },
      // The pool grants no sockets (node:wasi cannot preopen any): never the host's.
      sock_accept: errno(Errno.NOTSUP),
      sock_recv: errno(Errno.NOTSUP),
      sock_send: errno(Errno.NOTSUP),
      sock_shutdown: errno(Errno.NOTSUP),
    };
  }

  /** Guest memory as a DataView; throws RangeError (EFAULT) until the instance exists. */
  #memoryView(): DataView {
    const memory = this.#memory;
    if (memory === undefined) throw new RangeError('the instance has no memory yet (a start function is running)');
    const buffer = memory.buffer;
    if (this.#view.buffer !== buffer) this.#view = new DataView(buffer);
    return this.#view;
  }

  /** `length` bytes of guest memory at `pointer`; throws RangeError (EFAULT) if they are not all inside. */
  #bytes(pointer: number, length: number): Uint8Array {
    return new Uint8Array(this.#memoryView().buffer, pointer >>> 0, length >>> 0);
  }

  #writeSizes(which: 'args' | 'env', count: number, bytes: number): number {
    const strings = this.#grant[which];
    const view = this.#memoryView();
    view.setUint32(count >>> 0, strings.items.length, true);
    view.setUint32(bytes >>> 0, strings.bytes, true);
    return Errno.SUCCESS;
  }

  #writeStrings(which: 'args' | 'env', list: number, buffer: number): number {
    const strings = this.#grant[which];
    const view = this.#memoryView();
    const out = this.#bytes(buffer, strings.bytes);
    let at = 0;
    strings.items.forEach((item, i) => {
      view.setUint32((list >>> 0) + i * 4, out.byteOffset + at, true);
      out.set(item, at);
      at += item.byteLength;
    });
    return Errno.SUCCESS;
  }

  #writeTime(time: bigint | undefined, out: number): number {
    if (time === undefined) return Errno.INVAL;
    this.#memoryView().setBigUint64(out >>> 0, time, true);
    return Errno.SUCCESS;
  }

  /** A character device, as a terminal or a pipe would be. */
  #writeFdstat(fd: number, out: number): number {
    const record = this.#bytes(out, SIZE.fdstat);
    record.fill(0);
    const view = this.#memoryView();
    view.setUint8(record.byteOffset, Filetype.CHARACTER_DEVICE);
    view.setUint16(record.byteOffset + 2, this.#fdflags[fd] as number, true);
    view.setBigUint64(record.byteOffset + 8, this.#rights[fd] as bigint, true);
    return Errno.SUCCESS;
  }

  #writeFilestat(out: number): number {
    const record = this.#bytes(out, SIZE.filestat);
    record.fill(0);
    const view = this.#memoryView();
    view.setUint8(record.byteOffset + 16, Filetype.CHARACTER_DEVICE);
    view.setBigUint64(record.byteOffset + 24, 1n, true);
    return Errno.SUCCESS;
  }

  /** The iovecs at `iovs` as views of guest memory; throws RangeError (EFAULT) if one lies outside. */
  #iovecs(iovs: number, count: number): Uint8Array[] {
    const view = this.#memoryView();
    // Checked first, so a huge count fails at once instead of looping over billions of entries.
    if ((iovs >>> 0) + (count >>> 0) * SIZE.iovec > view.byteLength) throw new RangeError('the iovec array lies outside memory');
    const parts: Uint8Array[] = [];
    for (let i = 0; i < count >>> 0; i++) {
      const at = (iovs >>> 0) + i * SIZE.iovec;
      parts.push(this.#bytes(view.getUint32(at, true), view.getUint32(at + 4, true)));
    }
    return parts;
  }

  #readStdin(fd: number, iovs: number, count: number, out: number): number {
    if (fd !== 0) return Errno.BADF;
    if (((this.#rights[0] as bigint) & Rights.FD_READ) === 0n) return Errno.NOTCAPABLE;
    const parts = this.#iovecs(iovs, count);
    const stdin = this.#grant.stdin;
    const start = this.#stdinRead;
    for (const part of parts) {
      const chunk = stdin.subarray(this.#stdinRead, this.#stdinRead + part.byteLength);
      part.set(chunk);
      this.#stdinRead += chunk.byteLength;
    }
    this.#memoryView().setUint32(out >>> 0, this.#stdinRead - start, true);
    return Errno.SUCCESS;
  }

  #writeStdio(fd: number, iovs: number, count: number, out: number): number {
    if (fd === 0) return Errno.BADF;
    if (((this.#rights[fd] as bigint) & Rights.FD_WRITE) === 0n) return Errno.NOTCAPABLE;
    const parts = this.#iovecs(iovs, count);
    let total = 0;
    for (const part of parts) total += part.byteLength;
    // The count written back is a u32 (iovecs may all name the same bytes).
    if (total > 0xffff_ffff) return Errno.INVAL;
    this.#memoryView().setUint32(out >>> 0, total, true);
    appendOutput(this.#sink, fd as 1 | 2, parts, total);
    return Errno.SUCCESS;
  }

  /** Moving a descriptor onto or off stdio would need real descriptors; the pool's stdio has none. */
  #renumber(from: number, to: number, files: WasiFunction): number {
    const stdFrom = stdio(from);
    const stdTo = stdio(to);
    if (stdFrom < 0 && stdTo < 0) return files(from, to);
    if ((stdFrom >= 0 && this.#open[stdFrom] !== true) || (stdTo >= 0 && this.#open[stdTo] !== true)) return Errno.BADF;
    return from === to ? Errno.SUCCESS : Errno.NOTSUP;
  }

  /** How `fd` stands for poll_oneoff: virtual stdin never blocks, stdout/stderr and files are always ready. */
  #readiness(fd: number, type: number, scratch: number, fdstat: WasiFunction): FdReadiness {
    const std = stdio(fd);
    if (std < 0) {
      // node:wasi's fdstat tells whether the descriptor exists; the event slot is scratch space.
      const errno = fdstat(fd, scratch);
      return { errno, nbytes: 0n, hangup: false };
    }
    const wanted = std === 0 ? EventType.FD_READ : EventType.FD_WRITE;
    if (this.#open[std] !== true || type !== wanted) return { errno: Errno.BADF, nbytes: 0n, hangup: false };
    if (std !== 0) return { errno: Errno.SUCCESS, nbytes: 0n, hangup: false };
    const left = this.#grant.stdin.byteLength - this.#stdinRead;
    return { errno: Errno.SUCCESS, nbytes: BigInt(left), hangup: left === 0 };
  }
}
