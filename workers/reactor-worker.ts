// The piscina task handler of a reactor worker thread: it owns this thread's reactor instances
// and runs each batch's operations in order, one at a time, returning one result per operation.

import { threadId, workerData } from 'node:worker_threads';
import type { SerializedError } from '../src/errors.js';
import {
  Progress, RESULT_MODES, Status, Tag, TYPED_RESULT_KINDS, type Batch, type BatchResult, type BufferArg, type Failure, type ProbeResult, type ResultMode,
  type ProbeTask, type WasmValue, type WorkerData,
} from '../src/protocol.js';
import { ReactorInstance, describeFailure, takeOutput, type OutputSink } from './reactor-instance.js';
import { loadWasi } from './quiet-wasi.js';
import { SealedWasi } from './sealed-wasi.js';

const data = workerData as WorkerData;
const WASI = await loadWasi();

/** A slot's current instance, or the record of how it was lost (a tombstone, until a newer epoch opens). */
interface Entry {
  readonly epoch: number;
  readonly instance?: ReactorInstance;
  readonly lostBy?: SerializedError;
}

const entries = new Map<number, Entry>();
const sink: OutputSink = { capture: { ...data.capture }, chunks: undefined, run: undefined };
const progress = new Progress(data.progress);
const NO_INSTANCE: SerializedError = { code: 'ERR_WORKER_FAILED', message: 'the instance is no longer on this worker thread' };
/** Bytes of linear memory held by this thread's live instances. */
let memoryHeld = 0;

export default function handleTask(task: Batch | ProbeTask): BatchResult | ProbeResult {
  if ('probe' in task) return probe();
  if (task.thread !== threadId) return { stale: true };
  const wire = task.wire;
  const results: unknown[] = [];
  sink.chunks = [];
  try {
    if (task.track) {
      for (let at = 0, index = 0; at < wire.length; index++) {
        progress.write(task.seq, index);
        at = runOp(wire, at, results);
      }
    } else {
      for (let at = 0; at < wire.length;) at = runOp(wire, at, results);
    }
    if (!limitMemory && performance.now() - lastSweep > SWEEP_MS) sweepMemory();
  } finally {
    sink.chunks = undefined;
    sink.run = undefined;
    if (task.track) progress.write(-1, 0);
  }
  return { stale: false, results, memory: memoryHeld };
}

/**
 * With a `memoryLimit`, each instance's memory is checked after every call that ran on it. Reading
 * a wasm memory's size costs more than a small call, so without a limit nothing is read per call:
 * the memory held (for `stats()`) is recounted after a batch at most every {@link SWEEP_MS}.
 */
const limitMemory = data.memoryLimit !== Number.POSITIVE_INFINITY;
const SWEEP_MS = 200;
let lastSweep = Number.NEGATIVE_INFINITY;

function sweepMemory(): void {
  lastSweep = performance.now();
  let held = 0;
  for (const entry of entries.values()) {
    if (entry.instance === undefined) continue;
    entry.instance.countedBytes = entry.instance.memoryBytes;
    held += entry.instance.countedBytes;
  }
  memoryHeld = held;
}

/** Replaces the slot's entry (or removes it), keeping {@link memoryHeld} in step. */
function setEntry(slot: number, entry: Entry | undefined): void {
  const old = entries.get(slot)?.instance;
  if (old !== undefined) memoryHeld -= old.countedBytes;
  if (entry === undefined) {
    entries.delete(slot);
    return;
  }
  entries.set(slot, entry);
  if (entry.instance !== undefined) {
    entry.instance.countedBytes = entry.instance.memoryBytes;
    memoryHeld += entry.instance.countedBytes;
  }
}

/**
 * After an operation ran on `instance` (with a memory limit): counts its memory, and if it is over
 * the limit, discards it and returns the failure that loses the session.
 */
function checkMemory(instance: ReactorInstance, slot: number, epoch: number, name: string): Failure | undefined {
  const bytes = instance.memoryBytes;
  if (bytes === instance.countedBytes) return undefined;
  memoryHeld += bytes - instance.countedBytes;
  instance.countedBytes = bytes;
  return bytes > data.memoryLimit ? overMemoryLimit(slot, epoch, name, bytes) : undefined;
}

function overMemoryLimit(slot: number, epoch: number, name: string, bytes: number): Failure {
  const error: SerializedError = {
    code: 'ERR_MEMORY_LIMIT',
    message: `${name === '_initialize' ? '`_initialize`' : `export \`${name}\``}: the instance's linear memory is ${bytes} bytes, over the memoryLimit of ${data.memoryLimit}; the instance is discarded`,
    exportName: name,
    limit: data.memoryLimit,
  };
  setEntry(slot, { epoch, lostBy: error });
  return { error, lost: true };
}

/** Links the module once without starting it, so that a module that cannot run here fails at pool creation. */
function probe(): ProbeResult {
  try {
    // The same sealed imports as every instance: a start function that prints gets EFAULT (no memory yet), not a refusal.
    new WebAssembly.Instance(data.module, { wasi_snapshot_preview1: new SealedWasi(WASI, data.module, data.wasi, sink).imports });
    return { thread: threadId };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { thread: threadId, error: { code: 'ERR_INVALID_MODULE', message: `module cannot be instantiated: ${message}` } };
  }
}

/** Runs the operation encoded at `wire[at]`, appends its status and payload, returns where the next one starts. */
function runOp(wire: readonly unknown[], at: number, results: unknown[]): number {
  const tag = wire[at] as number;
  const slot = wire[at + 1] as number;
  const epoch = wire[at + 2] as number;
  let next: number;
  let status: Status = Status.Ok;
  let payload: unknown;
  if (tag === Tag.Drop) {
    const entry = entries.get(slot);
    if (entry !== undefined && entry.epoch <= epoch) setEntry(slot, undefined);
    results.push(Status.Ok, undefined);
    return at + 3;
  }
  if (tag === Tag.Open) {
    next = at + 3;
    const entry = entries.get(slot);
    // An existing entry of this epoch: another session already opened the shared instance (isolation 'worker').
    const failure = entry !== undefined && entry.epoch >= epoch
      ? (entry.lostBy === undefined ? undefined : lost(entry.lostBy))
      : create(slot, epoch);
    if (failure !== undefined) [status, payload] = [Status.Failed, failure];
  } else {
    const open = wire[at + 3] === 1;
    const index = wire[at + 4] as number;
    const name = data.exportNames[index] as string;
    let entry = entries.get(slot);
    let failure: Failure | undefined;
    if (open && (entry === undefined || entry.epoch < epoch)) {
      failure = create(slot, epoch);
      entry = entries.get(slot);
    }
    // Call 0 and CallBuffers 4 are single calls, CallMany 1 and CallManyBuffers 5 lists; 4 and up go through guest memory.
    const mode = tag >= Tag.CallBuffers ? RESULT_MODES[wire[at + 5] as number] : undefined;
    if ((tag & 1) === 0) {
      const from = mode === undefined ? at + 6 : at + 7;
      const count = wire[from - 1] as number;
      next = from + count;
      if (failure === undefined) {
        const found = instanceOf(entry, epoch);
        if (found instanceof ReactorInstance) {
          try {
            payload = mode === undefined
              ? found.call(index, wire, from, count)
              : found.callBuffers(index, wire.slice(from, from + count) as (WasmValue | BufferArg)[], mode);
          } catch (error) {
            failure = fail(error, name, slot, epoch);
          }
          if (limitMemory && failure === undefined) failure = checkMemory(found, slot, epoch, name);
        } else {
          failure = found;
        }
      }
    } else {
      next = at + 7;
      if (failure === undefined) {
        const found = instanceOf(entry, epoch);
        if (found instanceof ReactorInstance) {
          const list = wire[at + 6] as ArrayLike<unknown>;
          failure = runMany(found, index, slot, epoch, list, mode === undefined ? wire[at + 5] as number : -1, mode, (value) => {
            payload = value;
          });
          if (limitMemory && failure === undefined) failure = checkMemory(found, slot, epoch, name);
        } else {
          failure = found;
        }
      }
    }
    if (failure !== undefined) [status, payload] = [Status.Failed, failure];
  }
  const output = sink.run === undefined ? undefined : takeOutput(sink);
  if (output !== undefined) {
    if (status === Status.Ok) [status, payload] = [Status.OkWithOutput, { value: payload, output }];
    else payload = { ...(payload as Failure), output };
  }
  results.push(status, payload);
  return next;
}

function instanceOf(entry: Entry | undefined, epoch: number): ReactorInstance | Failure {
  if (entry === undefined || entry.epoch !== epoch) return lost(NO_INSTANCE);
  return entry.instance ?? lost(entry.lostBy);
}

/** Creates the instance of `epoch`; on failure leaves a tombstone and returns the failure. */
function create(slot: number, epoch: number): Failure | undefined {
  try {
    const instance = new ReactorInstance(WASI, data.module, data.exportNames, data.wasi, sink, data.allocator);
    setEntry(slot, { epoch, instance });
    return instance.countedBytes > data.memoryLimit ? overMemoryLimit(slot, epoch, '_initialize', instance.countedBytes) : undefined;
  } catch (error) {
    const { error: described } = describeFailure(error, '_initialize');
    described.message = `starting the instance failed: ${described.message}`;
    setEntry(slot, { epoch, lostBy: described });
    return { error: described, lost: true };
  }
}

/**
 * The failure of an export call. An exit, or a trap when the policy discards trapped instances,
 * leaves a tombstone for the operations behind it.
 */
function fail(error: unknown, name: string, slot: number, epoch: number): Failure {
  const failure = describeFailure(error, name);
  if (!failure.lost && data.onTrap !== 'keep') {
    failure.lost = true;
    failure.error.message += `; the instance is discarded (onTrap: '${data.onTrap}')`;
  }
  if (failure.lost) setEntry(slot, { epoch, lostBy: failure.error });
  return failure;
}

function runMany(
  instance: ReactorInstance, index: number, slot: number, epoch: number, list: ArrayLike<unknown>, typed: number,
  mode: ResultMode | undefined, done: (value: unknown) => void,
): Failure | undefined {
  const count = list.length;
  const kind = TYPED_RESULT_KINDS[typed];
  const out: { [index: number]: unknown; length: number } = kind === undefined ? new Array<unknown>(count) : new globalThis[kind](count);
  let i = 0;
  try {
    if (mode !== undefined) {
      for (; i < count; i++) {
        const item = list[i] as WasmValue | BufferArg | readonly (WasmValue | BufferArg)[];
        out[i] = instance.callBuffers(index, Array.isArray(item) ? item : [item as WasmValue | BufferArg], mode);
      }
    } else {
      for (; i < count; i++) {
        const args = list[i] as WasmValue | readonly WasmValue[];
        out[i] = typeof args === 'object' ? instance.call(index, args, 0, args.length) : instance.callOne(index, args);
      }
    }
  } catch (error) {
    const failure = fail(error, data.exportNames[index] as string, slot, epoch);
    failure.error.completed = i;
    failure.error.message += ` (call ${i} of ${count} in callMany; ${i} completed)`;
    return failure;
  }
  done(out);
  return undefined;
}

function lost(cause: SerializedError | undefined): Failure {
  const error: SerializedError = {
    code: 'ERR_SESSION_LOST',
    message: `the session has lost its instance${cause === undefined ? '' : ` (${cause.code})`}; call session.reset() to start a fresh one`,
  };
  if (cause !== undefined) error.cause = cause;
  return { error, lost: true };
}
