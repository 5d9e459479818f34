// A durable worker's instances built on the test's own thread (one tape sink, one output sink), and a
// recorder that runs a session on them the way a durable worker does, journaling each operation.

import { readFileSync } from 'node:fs';
import type { ErrorCode } from '../../dist/src/errors.js';
import { ByteWriter, CallFlags, RecordType, encodeRecord, writeError, writeValue, type JournalRecord } from '../../dist/src/journal-record.js';
import type { ResultMode, TypedResultKind } from '../../dist/src/protocol.js';
import { frameReplayRecords } from '../../dist/src/replay-records.js';
import { InputTape, TapeMode } from '../../dist/workers/input-tape.js';
import type { OutputSink } from '../../dist/workers/output-sink.js';
import { loadWasi } from '../../dist/workers/quiet-wasi.js';
import { ListCallFailed, ReactorInstance, type InstanceSetup } from '../../dist/workers/reactor-instance.js';
import type { ReplayHost } from '../../dist/workers/replay.js';
import { describeFailure, isArgumentConversion } from '../../dist/workers/worker-failures.js';
import { fixture } from './fixtures.js';

export const NONDETERMINISTIC_EXPORTS = ['roll', 'stamp', 'clock', 'now', 'nap', 'bytes', 'state', 'add', 'boom', 'quit', 'grow'] as const;

const WASI = await loadWasi();

export interface TapedWorkerOptions {
  readonly file?: string;
  readonly exportNames?: readonly string[];
  readonly onTrap?: 'keep' | 'lose' | 'reset';
  readonly memoryLimit?: number;
  /** The tape's mode between replays (a durable worker's: record). */
  readonly mode?: TapeMode;
}

export class TapedWorker {
  readonly tape: InputTape;
  readonly output: OutputSink = { capture: { stdout: true, stderr: true }, chunks: [], run: undefined };
  readonly setup: InstanceSetup;
  readonly host: ReplayHost;

  constructor(options: TapedWorkerOptions = {}) {
    const mode = options.mode ?? TapeMode.Record;
    const exportNames = options.exportNames ?? NONDETERMINISTIC_EXPORTS;
    this.tape = new InputTape(mode);
    this.setup = {
      WASI,
      module: new WebAssembly.Module(readFileSync(fixture(options.file ?? 'nondeterministic.wasm'))),
      exportNames,
      config: { args: [], env: {}, preopens: {}, stdin: new Uint8Array(0) },
      sink: this.output,
      tape: this.tape,
      allocator: undefined,
      stackPointer: undefined,
      globals: [],
      tables: [],
      functions: new Map(),
    };
    this.host = {
      fresh: () => this.fresh(), exportNames, onTrap: options.onTrap ?? 'keep', memoryLimit: options.memoryLimit ?? Number.POSITIVE_INFINITY,
      tape: this.tape, tapeModeAfter: mode, output: this.output,
    };
  }

  fresh(): ReactorInstance {
    return new ReactorInstance(this.setup);
  }

  index(name: string): number {
    const index = this.setup.exportNames.indexOf(name);
    if (index < 0) throw new Error(`no export ${name}`);
    return index;
  }
}

/** What one recorded call gave: its value, or its error code. */
export type Recorded = { readonly value: unknown } | { readonly code: ErrorCode };

/**
 * Runs a session on a {@link TapedWorker} with its tape recording, and journals each operation as a
 * durable worker's main thread would: a Start or Call record with the operation's tape and outcome.
 */
export class SessionRecorder {
  readonly bodies: Uint8Array[] = [];
  instance: ReactorInstance | undefined;
  #seq = 0;

  constructor(readonly worker: TapedWorker) {}

  /** A fresh instance (a Start record). */
  start(): void {
    this.instance = this.worker.fresh();
    this.journal({ type: RecordType.Start, key: 'k', seq: this.#nextSeq(), tape: this.#tape() });
  }

  /** A call (`open`: on a fresh instance started first, as a session's first call). */
  call(name: string, args: readonly unknown[], options: { open?: boolean; mode?: ResultMode } = {}): Recorded {
    return this.#run(name, args, options.open === true, false, options.mode, undefined);
  }

  callMany(name: string, list: ArrayLike<unknown>, typedResult?: TypedResultKind): Recorded {
    return this.#run(name, list, false, true, undefined, typedResult);
  }

  /** Appends `record` as its body. */
  journal(record: JournalRecord): void {
    const out = new ByteWriter();
    encodeRecord(out, record);
    this.bodies.push(out.take());
  }

  /** The records, framed as a replay operation carries them. */
  framed(): Uint8Array {
    return frameReplayRecords(this.bodies);
  }

  #nextSeq(): number {
    return ++this.#seq;
  }

  #tape(): Uint8Array {
    return this.worker.tape.take() ?? new Uint8Array(0);
  }

  #run(name: string, args: unknown, open: boolean, many: boolean, mode: ResultMode | undefined, typedResult: TypedResultKind | undefined): Recorded {
    const worker = this.worker;
    if (open) this.instance = worker.fresh();
    const instance = this.instance;
    if (instance === undefined) throw new Error('no instance: start() first');
    const index = worker.index(name);
    const outcome = new ByteWriter();
    let recorded: Recorded;
    try {
      const value = many
        ? instance.callList(index, args as ArrayLike<unknown>, typedResult, mode)
        : mode === undefined ? instance.call(index, args as unknown[], 0, (args as unknown[]).length) : instance.callBuffers(index, args as never, mode);
      writeValue(outcome, value);
      recorded = { value };
    } catch (thrown) {
      const error = thrown instanceof ListCallFailed ? thrown.error : thrown;
      const code = mode === undefined && isArgumentConversion(error) ? 'ERR_INVALID_ARGUMENT' : describeFailure(error, name).error.code;
      instance.restoreStackPointer();
      writeError(outcome, { code, message: String(error) });
      recorded = { code };
    }
    const argsOut = new ByteWriter();
    writeValue(argsOut, args);
    const flags = (open ? CallFlags.Opened : 0) | (many ? CallFlags.Many : 0) | ('code' in recorded ? CallFlags.Failed : 0);
    this.journal({
      type: RecordType.Call, key: 'k', seq: this.#nextSeq(), flags, exportIndex: index, mode, typedResult, idempotencyKey: undefined,
      args: argsOut.take(), outcome: outcome.take(), tape: this.#tape(),
    });
    return recorded;
  }
}
