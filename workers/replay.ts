// Rebuilding a durable session's instance from its journal: each Start and Call record runs again on
// the inputs its tape recorded, output suppressed, and must end as it did then, or the replay diverged.

import { describeValue, type SerializedError } from '../src/errors.js';
import {
  ByteReader, ByteWriter, CallFlags, RecordType, decodeRecord, outcomeError, readValue, writeValue, type CallRecord, type JournalRecord,
} from '../src/journal-record.js';
import type { BufferArg, Failure, WasmValue } from '../src/protocol.js';
import { splitReplayRecords } from '../src/replay-records.js';
import { TapeMode, type InputTape } from './input-tape.js';
import type { OutputSink } from './output-sink.js';
import { ListCallFailed, type ReactorInstance } from './reactor-instance.js';
import {
  describeFailure, discardByTrapPolicy, instanceRefusal, isArgumentConversion, replayDiverged, replayOverMemoryLimit,
  startFailed,
} from './worker-failures.js';

/** What a replay needs of its worker (injected, so that a test can drive it on any thread). */
export interface ReplayHost {
  /** A fresh instance (`_initialize` ran), its WASI surface reporting to {@link tape}. Throws as the ReactorInstance constructor does. */
  readonly fresh: () => ReactorInstance;
  /** The callable exports, by the index records name them by. */
  readonly exportNames: readonly string[];
  readonly onTrap: 'keep' | 'lose' | 'reset';
  /** Bytes of linear memory the instance may hold once rebuilt (`Infinity`: no limit). */
  readonly memoryLimit: number;
  /** The tape sink the instances' WASI surfaces report to; left in {@link tapeModeAfter} when the replay ends. */
  readonly tape: InputTape;
  readonly tapeModeAfter: TapeMode;
  /** The output sink the instances write to: nothing written during the replay is captured. */
  readonly output: OutputSink;
}

export type ReplayResult = { readonly instance: ReactorInstance; readonly failure?: undefined } | { readonly failure: Failure };

/** A replay that cannot go on: its failure. */
class Diverged extends Error {
  constructor(readonly failure: Failure) {
    super(failure.error.message);
  }
}

/** How much of a guest's error message a divergence quotes. */
const QUOTED_MESSAGE = 120;

/**
 * Replays `records` (framed: see replay-records.ts) onto `base` (a restored instance, or undefined when
 * the first record starts one). The instance rebuilt, or the failure: `ERR_REPLAY_DIVERGED` (lost), or
 * `ERR_INSTANCE_LIMIT` (lost) when the engine had no room for an instance a record starts.
 */
export function replayRecords(host: ReplayHost, base: ReactorInstance | undefined, records: Uint8Array): ReplayResult {
  const { tape, output } = host;
  const captured = output.chunks;
  output.chunks = undefined;
  tape.beginReplay();
  try {
    const instance = replayAll(host, base, records);
    if (tape.maxMonotonic >= 0n) instance.continueClockFrom(tape.maxMonotonic);
    return { instance };
  } catch (error) {
    if (error instanceof Diverged) return { failure: error.failure };
    throw error;
  } finally {
    output.chunks = captured;
    tape.endReplay(host.tapeModeAfter);
  }
}

function replayAll(host: ReplayHost, base: ReactorInstance | undefined, records: Uint8Array): ReactorInstance {
  let bodies: Uint8Array[];
  try {
    bodies = splitReplayRecords(records);
  } catch (error) {
    throw diverged('the records', `they do not split into records (${(error as Error).message})`);
  }
  let instance = base;
  let seq: number | undefined;
  for (const [n, body] of bodies.entries()) {
    let record: JournalRecord;
    try {
      record = decodeRecord(body);
    } catch (error) {
      throw diverged(seq === undefined ? `record ${n}` : `the record after seq ${seq}`, `it does not decode (${(error as Error).message})`);
    }
    seq = record.seq;
    const where = `record seq ${record.seq}`;
    if (record.type === RecordType.Start) {
      host.tape.load(record.tape);
      instance = start(host, where);
    } else if (record.type === RecordType.Call) {
      host.tape.load(record.tape);
      if ((record.flags & CallFlags.Opened) !== 0) instance = start(host, where);
      if (instance === undefined) throw diverged(where, 'a call on no instance: there is no base and no earlier record starts one');
      replayCall(host, instance, record);
    } else if (record.type === RecordType.Snapshot) {
      // A compaction is skipped (the state it holds is the one the replay has reached); a restore replaced
      // the state with one no record here builds: it is a base, never a record to replay.
      if (record.replaces) throw diverged(where, `a snapshot record that replaced the state (generation ${record.generation}) is a base, not a record to replay`);
    } else {
      throw diverged(where, `a ${record.type === RecordType.Close ? 'close' : 'void'} record cannot be replayed`);
    }
    if (host.tape.unread > 0) throw diverged(where, `the call left ${host.tape.unread} bytes of its tape unread (fewer clock, random or poll calls than recorded)`);
  }
  if (instance === undefined) throw diverged('the records', 'nothing to replay onto: there is no base and no record starts an instance');
  const bytes = instance.memoryBytes;
  if (bytes > host.memoryLimit) throw new Diverged(replayOverMemoryLimit(bytes, host.memoryLimit));
  return instance;
}

/** A fresh instance for a Start record or an opening call, its `_initialize` fed from the loaded tape. */
function start(host: ReplayHost, where: string): ReactorInstance {
  try {
    const instance = host.fresh();
    if (host.tape.diverged !== undefined) throw diverged(where, `\`_initialize\`: ${host.tape.diverged}`);
    return instance;
  } catch (error) {
    if (error instanceof Diverged) throw error;
    if (host.tape.diverged !== undefined) throw diverged(where, `\`_initialize\`: ${host.tape.diverged}`);
    const refused = instanceRefusal(error);
    if (refused !== undefined) throw new Diverged({ ...refused, lost: true });
    throw diverged(where, 'starting the instance failed', startFailed(error).error);
  }
}

/** Runs a call record's call again and compares its outcome with the recorded one. */
function replayCall(host: ReplayHost, instance: ReactorInstance, record: CallRecord): void {
  const name = host.exportNames[record.exportIndex];
  const where = `record seq ${record.seq}`;
  if (name === undefined) throw diverged(where, `it names export ${record.exportIndex}, and this module has ${host.exportNames.length} callable exports`);
  const at = `${where} (export \`${name}\`)`;
  const many = (record.flags & CallFlags.Many) !== 0;
  const args = decoded(record.args, at, 'arguments do');
  if (!(Array.isArray(args) || (many && ArrayBuffer.isView(args)))) throw diverged(at, `its arguments are ${describeValue(args)}, not a list`);
  const mode = record.mode;
  let value: unknown;
  let error: SerializedError | undefined;
  try {
    if (many) {
      value = instance.callList(record.exportIndex, args as ArrayLike<unknown>, record.typedResult, mode);
    } else {
      const list = args as (WasmValue | BufferArg)[];
      value = mode === undefined ? instance.call(record.exportIndex, list, 0, list.length) : instance.callBuffers(record.exportIndex, list, mode);
    }
  } catch (thrown) {
    error = kept(host, instance, thrown instanceof ListCallFailed ? thrown.error : thrown, name, mode === undefined, at);
  }
  // Also when the call returned: a guest may catch what a host function throws.
  if (host.tape.diverged !== undefined) throw diverged(at, host.tape.diverged);
  const expected = decoded(record.outcome, at, 'outcome does');
  const expectedError = outcomeError(expected);
  if (expectedError !== undefined) {
    if (error === undefined) throw diverged(at, `expected error ${expectedError.code}, got ${describeValue(value)}`);
    if (error.code !== expectedError.code) throw diverged(at, `expected error ${expectedError.code}, got error ${quote(error)}`);
    return;
  }
  if (error !== undefined) throw diverged(at, `expected ${describeValue(expected)}, got error ${quote(error)}`);
  const out = new ByteWriter();
  try {
    writeValue(out, value);
  } catch (thrown) {
    throw diverged(at, `expected ${describeValue(expected)}, got ${describeValue(value)}, which cannot be journaled (${(thrown as Error).message})`);
  }
  if (!sameBytes(out.bytes.subarray(0, out.length), record.outcome)) throw diverged(at, `expected ${describeValue(expected)}, got ${describeValue(value)}`);
}

/**
 * The error of a replayed call that threw, if it kept its instance (as it must have: a call that lost
 * it was never journaled); a divergence otherwise.
 */
function kept(host: ReplayHost, instance: ReactorInstance, thrown: unknown, name: string, plain: boolean, at: string): SerializedError {
  if (host.tape.diverged !== undefined) throw diverged(at, host.tape.diverged);
  if (plain && isArgumentConversion(thrown)) return { code: 'ERR_INVALID_ARGUMENT', message: thrown.message };
  const failure = describeFailure(thrown, name);
  if (!failure.lost && host.onTrap !== 'keep') discardByTrapPolicy(failure, host.onTrap);
  if (failure.lost) throw diverged(at, 'the instance was lost', failure.error);
  instance.restoreStackPointer();
  return failure.error;
}

function decoded(bytes: Uint8Array, at: string, what: string): unknown {
  try {
    const input = new ByteReader(bytes);
    const value = readValue(input);
    if (!input.done) throw new Error(`${bytes.byteLength - input.at} bytes left over`);
    return value;
  } catch (error) {
    throw diverged(at, `its ${what} not decode (${(error as Error).message})`);
  }
}

function quote(error: SerializedError): string {
  const message = error.message.length > QUOTED_MESSAGE ? `${error.message.slice(0, QUOTED_MESSAGE - 3)}...` : error.message;
  return `${error.code} (${message})`;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

function diverged(where: string, what: string, cause?: SerializedError): Diverged {
  return new Diverged(replayDiverged(where, what, cause));
}
