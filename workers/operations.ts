// A worker thread's reactor instances and what operations do to them: each operation of a request
// record (see src/wire.ts) runs here, in order, and reports one outcome.

import { workerData } from 'node:worker_threads';
import type { SerializedError } from '../src/errors.js';
import {
  MemoryBoard, Progress, Status, type BufferArg, type Failure, type ResultMode, type TypedResultKind, type WasmValue, type WorkerData,
} from '../src/protocol.js';
import {
  FORM_MASK, FORM_SHIFT, Form, KEY_BIT, OPEN_BIT, TAG_MASK, Tag, bytesValue, modeOf, readValues, replayValue, structuredValue, typedList, typedResultOf,
  type Words,
} from '../src/wire.js';
import { HostFunctionLinker } from './host-calls.js';
import { InputTape, TapeMode } from './input-tape.js';
import { ListCallFailed, ReactorInstance, takeOutput, type InstanceSetup, type OutputSink } from './reactor-instance.js';
import { loadWasi } from './quiet-wasi.js';
import { replayRecords, type ReplayHost } from './replay.js';
import { SealedWasi } from './sealed-wasi.js';
import { Snapshots } from './snapshots.js';
import {
  describeFailure, discardByTrapPolicy, failedAfterAll, failedPartWay, instanceRefusal, invalidArgument, isArgumentConversion,
  moduleCannotInstantiate, noInstance, overMemoryLimit, restoreFailed, sessionLost, snapshotFailed, startFailed,
} from './worker-failures.js';
import { AddressSpaceGuard } from './address-space-guard.js';

const data = workerData as WorkerData;
const WASI = await loadWasi();

/**
 * An instance id's current instance, or the record of how it was lost (a tombstone, until a newer epoch opens),
 * or of why it could not start (`refusedBy`: the engine had no room; the next start of the epoch tries again).
 */
interface Entry {
  readonly epoch: number;
  readonly instance?: ReactorInstance;
  readonly lostBy?: SerializedError;
  readonly refusedBy?: SerializedError;
}

const entries = new Map<number, Entry>();
/** Instances this thread holds (entries with one), for the address-space guard's count of dropped ones. */
let liveInstances = 0;
/** Where the engine would end this thread on a failed reservation: every start is checked first. */
const room = data.addressSpace === undefined ? undefined : new AddressSpaceGuard(data.addressSpace, () => liveInstances);
const sink: OutputSink = { capture: { ...data.capture }, chunks: undefined, run: undefined };
/** Durable sessions: every instance's clock, random and poll results, recorded per operation (or replayed). */
const tapeMode = data.durable ? TapeMode.Record : TapeMode.Off;
const tape = new InputTape(tapeMode);
/** The host functions the module imports (the `hostFunctions` module, imported by every thread at start). */
const host = data.hostFunctions === undefined ? undefined : await HostFunctionLinker.load(data.hostFunctions, tape, data.allocator);
/** Each instance's session key (host functions only), as operations that start one bring it. */
const sessionKeys = new Map<number, string>();
const setup: InstanceSetup = {
  WASI, module: data.module, exportNames: data.exportNames, config: data.wasi, sink, tape, allocator: data.allocator, host,
  stackPointer: data.stackPointer, globals: data.snapshot?.globals.map((g) => g.exportName) ?? [], room,
  tables: data.snapshot?.tables ?? [], functions: new Map(data.snapshot?.functions.map((f) => [f.index, f.exportName])),
};
/** Taking and restoring snapshots; undefined when the pool cannot (the main thread then never asks). */
const snapshots = data.snapshot === undefined ? undefined : new Snapshots(setup, data.snapshot);
const progress = new Progress(data.progress);
const memoryBoard = new MemoryBoard(data.memory);
/** Bytes of linear memory held by this thread's live instances. */
let memoryHeld = 0;

/** Receives an operation's outcome. */
export type Emit = (status: Status, payload: unknown) => void;

/** The thread's progress board (which operation runs since when), for the main thread's watchdog. */
export { progress };

/** Publishes the memory the thread's instances hold (after each batch). */
export function publishMemory(): void {
  memoryBoard.write(memoryHeld);
}

/** Called before and after each batch: output written meanwhile is captured per operation. */
export function beginBatch(): void {
  sink.chunks = [];
  tape.clear();
}

export function endBatch(): void {
  sink.chunks = undefined;
  sink.run = undefined;
  room?.collectIfNear();
}

/**
 * With a `memoryLimit`, each instance's memory is checked after every call that ran on it. Reading
 * a wasm memory's size costs more than a small call, so without a limit nothing is read per call:
 * the memory held (for `stats()`) is recounted when the main thread asks, shortly after work ran.
 */
const limitMemory = data.memoryLimit !== Number.POSITIVE_INFINITY;

/** Recounts every instance's memory and publishes the total. */
export function countMemory(): void {
  let held = 0;
  for (const entry of entries.values()) {
    if (entry.instance === undefined) continue;
    entry.instance.countedBytes = entry.instance.memoryBytes;
    held += entry.instance.countedBytes;
  }
  memoryHeld = held;
  memoryBoard.write(memoryHeld);
}

/** Replaces the entry of an instance id (or removes it), keeping {@link memoryHeld} in step. */
function setEntry(instanceId: number, entry: Entry | undefined): void {
  const old = entries.get(instanceId)?.instance;
  if (old !== undefined) {
    memoryHeld -= old.countedBytes;
    liveInstances--;
  }
  if (entry === undefined) {
    entries.delete(instanceId);
    return;
  }
  entries.set(instanceId, entry);
  if (entry.instance !== undefined) {
    entry.instance.countedBytes = entry.instance.memoryBytes;
    memoryHeld += entry.instance.countedBytes;
    liveInstances++;
  }
}

/**
 * After an operation ran on `instance` (with a memory limit): counts its memory, and if it is over
 * the limit, discards it and returns the failure that loses the session.
 */
function checkMemory(instance: ReactorInstance, instanceId: number, epoch: number, name: string): Failure | undefined {
  const bytes = instance.memoryBytes;
  if (bytes === instance.countedBytes) return undefined;
  memoryHeld += bytes - instance.countedBytes;
  instance.countedBytes = bytes;
  return bytes > data.memoryLimit ? discardOverLimit(instanceId, epoch, name, bytes) : undefined;
}

function discardOverLimit(instanceId: number, epoch: number, name: string, bytes: number): Failure {
  const failure = overMemoryLimit(name, bytes, data.memoryLimit);
  setEntry(instanceId, { epoch, lostBy: failure.error });
  return failure;
}

/** Links the module once without starting it, so that a module that cannot run here fails at pool creation. */
export function probe(): SerializedError | undefined {
  try {
    // The same sealed imports as every instance: a start function that prints gets EFAULT (no memory yet), not a refusal.
    const hostImports = host === undefined ? {} : host.importsOf(host.bind());
    const link = (): unknown => new WebAssembly.Instance(data.module, { ...hostImports, wasi_snapshot_preview1: new SealedWasi(WASI, data.module, data.wasi, sink).imports });
    if (room === undefined) link();
    else room.instantiate(link);
    return undefined;
  } catch (error) {
    const refused = instanceRefusal(error);
    if (refused !== undefined) return refused.error;
    const message = error instanceof Error ? error.message : String(error);
    return moduleCannotInstantiate(message);
  }
}

/** Reused for every plain call's arguments: no array per call. */
const args: (number | bigint)[] = [];

/**
 * Runs the operation whose header is at word `at` of `words` and emits its outcome. `takeSide` yields
 * the value of an operation whose arguments came on the side port.
 */
export function runOp(words: Words, at: number, emit: Emit, takeSide: () => unknown): void {
  const bits = words.i32[2 * at] as number;
  const tag = bits & TAG_MASK;
  const instanceId = words.i32[2 * at + 2] as number;
  const epoch = words.f64[at + 2] as number;
  let status: Status = Status.Ok;
  let payload: unknown;
  if (host !== undefined) {
    if ((bits & KEY_BIT) !== 0) sessionKeys.set(instanceId, takeSide() as string);
    host.sessionKey = sessionKeys.get(instanceId) ?? '';
  }
  if (tag === Tag.Drop) {
    const entry = entries.get(instanceId);
    if (entry !== undefined && entry.epoch <= epoch) {
      setEntry(instanceId, undefined);
      sessionKeys.delete(instanceId);
    }
    emit(Status.Ok, undefined);
    return;
  }
  if (tag === Tag.Restore) {
    const form = (bits >> FORM_SHIFT) & FORM_MASK;
    const bytes = (form === Form.Side ? takeSide() : bytesValue(words, at)) as Uint8Array;
    const failure = restore(instanceId, epoch, bytes);
    if (failure !== undefined) [status, payload] = [Status.Failed, failure];
  } else if (tag === Tag.Replay) {
    const form = (bits >> FORM_SHIFT) & FORM_MASK;
    const { base, records } = replayValue(words, at, form === Form.Side ? takeSide() : undefined);
    const failure = replay(instanceId, epoch, base, records);
    if (failure !== undefined) [status, payload] = [Status.Failed, failure];
  } else if (tag === Tag.Snapshot) {
    let entry = entries.get(instanceId);
    let failure: Failure | undefined;
    if ((bits & OPEN_BIT) !== 0 && needsStart(entry, epoch)) {
      failure = create(instanceId, epoch);
      entry = entries.get(instanceId);
    }
    if (failure === undefined) {
      const found = instanceOf(entry, epoch);
      if (found instanceof ReactorInstance) {
        try {
          if (snapshots === undefined) throw new Error('this pool takes no snapshots');
          payload = snapshots.take(found);
        } catch (error) {
          failure = snapshotFailed(error);
        }
      } else {
        failure = found;
      }
    }
    if (failure !== undefined) [status, payload] = [Status.Failed, failure];
  } else if (tag === Tag.Open) {
    const entry = entries.get(instanceId);
    // An existing entry of this epoch: another session already opened the shared instance (isolation 'worker').
    const failure = needsStart(entry, epoch)
      ? create(instanceId, epoch)
      : (entry?.lostBy === undefined ? undefined : sessionLost(entry.lostBy));
    if (failure !== undefined) [status, payload] = [Status.Failed, failure];
  } else {
    const index = words.i32[2 * at + 1] as number;
    const name = data.exportNames[index] as string;
    const form = (bits >> FORM_SHIFT) & FORM_MASK;
    // Arguments that came on the side port are taken whatever happens, to keep the port in step.
    const sideValue = form === Form.Side ? takeSide() : undefined;
    let entry = entries.get(instanceId);
    let failure: Failure | undefined;
    if ((bits & OPEN_BIT) !== 0 && needsStart(entry, epoch)) {
      failure = create(instanceId, epoch);
      entry = entries.get(instanceId);
    }
    const mode = modeOf(bits);
    if (tag === Tag.Call) {
      if (failure === undefined) {
        const found = instanceOf(entry, epoch);
        if (found instanceof ReactorInstance) {
          try {
            if (form === Form.Values) {
              readValues(words, at, args);
              payload = found.call(index, args, 0, args.length);
            } else {
              const list = (form === Form.Side ? sideValue : structuredValue(words, at)) as (WasmValue | BufferArg)[];
              payload = mode === undefined ? found.call(index, list, 0, list.length) : found.callBuffers(index, list, mode);
            }
          } catch (error) {
            failure = fail(error, name, instanceId, epoch, mode === undefined);
          }
          if (limitMemory && failure === undefined) failure = checkMemory(found, instanceId, epoch, name);
        } else {
          failure = found;
        }
      }
    } else if (failure === undefined) {
      const found = instanceOf(entry, epoch);
      if (found instanceof ReactorInstance) {
        const list = (form === Form.Typed ? typedList(words, at) : form === Form.Side ? sideValue : structuredValue(words, at)) as ArrayLike<unknown>;
        failure = runMany(found, index, instanceId, epoch, list, typedResultOf(bits), mode, (value) => {
          payload = value;
        });
        if (limitMemory && failure === undefined) {
          failure = checkMemory(found, instanceId, epoch, name);
          // Memory is checked after the whole list: every call of it ran.
          if (failure !== undefined) failedAfterAll(failure, list.length);
        }
      } else {
        failure = found;
      }
    }
    if (failure !== undefined) [status, payload] = [Status.Failed, failure];
  }
  const output = sink.run === undefined ? undefined : takeOutput(sink);
  // One check per operation when nothing non-deterministic ran (or without durability).
  const taped = tape.recorded ? tape.take() : undefined;
  if (output !== undefined || taped !== undefined) {
    const extra = taped === undefined ? {} : { tape: taped };
    if (status === Status.Ok) [status, payload] = [Status.OkWithOutput, { value: payload, output: output ?? [], ...extra }];
    else payload = { ...(payload as Failure), ...(output === undefined ? {} : { output }), ...extra };
  }
  emit(status, payload);
}

function instanceOf(entry: Entry | undefined, epoch: number): ReactorInstance | Failure {
  if (entry === undefined || entry.epoch !== epoch) return sessionLost(noInstance());
  if (entry.refusedBy !== undefined) return { error: entry.refusedBy, lost: false };
  return entry.instance ?? sessionLost(entry.lostBy);
}

/** Whether an instance-creating operation at `epoch` must start one: none yet, an older one, or a refused start. */
function needsStart(entry: Entry | undefined, epoch: number): boolean {
  return entry === undefined || entry.epoch < epoch || (entry.epoch === epoch && entry.refusedBy !== undefined);
}


/** Creates the instance of `epoch`; on failure leaves a tombstone (or a refusal) and returns the failure. */
function create(instanceId: number, epoch: number): Failure | undefined {
  return start(instanceId, epoch, () => new ReactorInstance(setup), '_initialize', startFailed, false);
}

/**
 * Replaces the instance of `instanceId` with one restored from `bytes`, at `epoch`. A snapshot that
 * cannot be restored here leaves a tombstone, as a failed start does: the session is lost.
 */
function restore(instanceId: number, epoch: number, bytes: Uint8Array): Failure | undefined {
  return start(instanceId, epoch, () => {
    if (snapshots === undefined) throw new Error('this pool restores no snapshots');
    return snapshots.restore(bytes, sink);
  }, 'restore', restoreFailed, true);
}

/** What a replay needs of this worker. */
const replayHost: ReplayHost = {
  fresh: () => new ReactorInstance(setup), exportNames: data.exportNames, onTrap: data.onTrap, memoryLimit: data.memoryLimit,
  tape, tapeModeAfter: tapeMode, output: sink,
};

/**
 * Rebuilds the instance of `instanceId` at `epoch`: restores `base` (its failure is the replay's), then
 * replays `records` onto it. A divergence leaves a tombstone, as a failed restore does.
 */
function replay(instanceId: number, epoch: number, base: Uint8Array | undefined, records: Uint8Array): Failure | undefined {
  let instance: ReactorInstance | undefined;
  if (base !== undefined) {
    const failure = restore(instanceId, epoch, base);
    if (failure !== undefined) return failure;
    instance = entries.get(instanceId)?.instance;
  }
  const result = replayRecords(replayHost, instance, records);
  if (result.failure !== undefined) {
    setEntry(instanceId, { epoch, lostBy: result.failure.error });
    return result.failure;
  }
  setEntry(instanceId, { epoch, instance: result.instance });
  return undefined;
}

/**
 * Makes the instance of `epoch` with `make` (named `name` in a memory-limit failure). On failure it
 * leaves a tombstone with `failed`'s record; an engine out of address space leaves a refusal the next
 * start retries, unless `refusalLoses` (a restore: the instance it replaced is gone already).
 */
function start(
  instanceId: number, epoch: number, make: () => ReactorInstance, name: string, failed: (error: unknown) => Failure, refusalLoses: boolean,
): Failure | undefined {
  try {
    const instance = make();
    setEntry(instanceId, { epoch, instance });
    return instance.countedBytes > data.memoryLimit ? discardOverLimit(instanceId, epoch, name, instance.countedBytes) : undefined;
  } catch (error) {
    const refused = instanceRefusal(error);
    if (refused !== undefined) {
      if (!refusalLoses) {
        setEntry(instanceId, { epoch, refusedBy: refused.error });
        return refused;
      }
      setEntry(instanceId, { epoch, lostBy: refused.error });
      return { ...refused, lost: true };
    }
    const failure = failed(error);
    setEntry(instanceId, { epoch, lostBy: failure.error });
    return failure;
  }
}

/**
 * The failure of an export call. An exit, or a trap when the policy discards trapped instances,
 * leaves a tombstone for the operations behind it; a kept instance gets its stack pointer back. A call made with plain values (not through guest
 * memory) that the engine refused to convert never ran: it costs the instance nothing.
 */
function fail(error: unknown, name: string, instanceId: number, epoch: number, plain: boolean): Failure {
  if (plain && isArgumentConversion(error)) return invalidArgument(name, error.message);
  const failure = describeFailure(error, name);
  if (!failure.lost && data.onTrap !== 'keep') discardByTrapPolicy(failure, data.onTrap);
  if (failure.lost) setEntry(instanceId, { epoch, lostBy: failure.error });
  else entries.get(instanceId)?.instance?.restoreStackPointer();
  return failure;
}

function runMany(
  instance: ReactorInstance, index: number, instanceId: number, epoch: number, list: ArrayLike<unknown>, kind: TypedResultKind | undefined,
  mode: ResultMode | undefined, done: (value: unknown) => void,
): Failure | undefined {
  try {
    done(instance.callList(index, list, kind, mode));
    return undefined;
  } catch (thrown) {
    const { error, completed } = thrown as ListCallFailed;
    const failure = fail(error, data.exportNames[index] as string, instanceId, epoch, mode === undefined);
    failedPartWay(failure, completed, list.length);
    return failure;
  }
}
