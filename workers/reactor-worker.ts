// The piscina task handler of a reactor worker thread: it owns this thread's reactor instances
// and runs each batch's operations in order, one at a time, returning one outcome per operation.

import { threadId, workerData } from 'node:worker_threads';
import type { SerializedError } from '../src/errors.js';
import type {
  Batch, BatchResult, CallManyOp, CallOp, InstanceRef, OpenOp, Op, Outcome, OutputChunk, ProbeResult, ProbeTask,
  WasmValue, WorkerData,
} from '../src/protocol.js';
import { ReactorInstance, describeFailure, type OutputSink } from './reactor-instance.js';
import { loadWasi } from './quiet-wasi.js';

const data = workerData as WorkerData;
const WASI = await loadWasi();

/** A slot's current instance, or the record of how it was lost (a tombstone, until a newer epoch opens). */
interface Entry {
  readonly epoch: number;
  readonly instance?: ReactorInstance;
  readonly lostBy?: SerializedError;
}

const entries = new Map<string, Entry>();
const sink: OutputSink = { capture: { ...data.capture }, chunks: undefined };

export default function handleTask(task: Batch | ProbeTask): BatchResult | ProbeResult {
  if ('probe' in task) return probe();
  if (task.thread !== threadId) return { stale: true };
  const outcomes: Outcome[] = [];
  for (const op of task.ops) outcomes.push(runOp(op));
  return { stale: false, outcomes };
}

/** Links the module once without starting it, so that a module that cannot run here fails at pool creation. */
function probe(): ProbeResult {
  try {
    new WebAssembly.Instance(data.module, {
      wasi_snapshot_preview1: new WASI({ version: 'preview1' }).wasiImport as WebAssembly.ModuleImports,
    });
    return { thread: threadId };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { thread: threadId, error: { code: 'ERR_INVALID_MODULE', message: `module cannot be instantiated: ${message}` } };
  }
}

function runOp(op: Op): Outcome {
  if (op.kind === 'drop') {
    const entry = entries.get(op.slot);
    if (entry !== undefined && entry.epoch <= op.epoch) entries.delete(op.slot);
    return { ok: true, value: undefined };
  }
  const chunks: OutputChunk[] = [];
  sink.chunks = chunks;
  try {
    const outcome = op.kind === 'open' ? open(op) : call(op);
    return chunks.length === 0 ? outcome : { ...outcome, output: chunks };
  } finally {
    sink.chunks = undefined;
  }
}

function open(op: OpenOp): Outcome {
  const entry = entries.get(op.slot);
  if (entry !== undefined && entry.epoch >= op.epoch) {
    // Another session already opened this epoch of the shared instance (isolation 'worker').
    return entry.lostBy === undefined ? { ok: true, value: undefined } : lostOutcome(op.key, entry.lostBy);
  }
  const failure = create(op, op.key);
  return failure ?? { ok: true, value: undefined };
}

/** Creates the instance of `ref.epoch`; on failure leaves a tombstone and returns the failing outcome. */
function create(ref: InstanceRef, key: string): Outcome | undefined {
  try {
    entries.set(ref.slot, { epoch: ref.epoch, instance: new ReactorInstance(WASI, data.module, data.wasi, sink) });
    return undefined;
  } catch (error) {
    const { error: described } = describeFailure(error, '_initialize', key);
    described.message = `starting the instance failed: ${described.message}`;
    entries.set(ref.slot, { epoch: ref.epoch, lostBy: described });
    return { ok: false, error: described, lost: true };
  }
}

function call(op: CallOp | CallManyOp): Outcome {
  let entry = entries.get(op.slot);
  if (op.open && (entry === undefined || entry.epoch < op.epoch)) {
    const failure = create(op, op.key);
    if (failure !== undefined) return failure;
    entry = entries.get(op.slot);
  }
  if (entry === undefined || entry.epoch !== op.epoch) {
    return lostOutcome(op.key, {
      code: 'ERR_WORKER_FAILED',
      message: 'the instance is no longer on this worker thread',
    });
  }
  if (entry.instance === undefined) return lostOutcome(op.key, entry.lostBy);
  const instance = entry.instance;
  let completed = 0;
  try {
    if (op.kind === 'call') return { ok: true, value: instance.call(op.name, op.args) };
    const results = runMany(instance, op, () => completed++);
    return { ok: true, value: results };
  } catch (error) {
    const { error: described, lost } = describeFailure(error, op.name, op.key);
    if (op.kind === 'callMany') {
      described.completed = completed;
      described.message += ` (call ${completed} of ${op.argsList.length} in callMany; ${completed} completed)`;
    }
    if (lost) entries.set(op.slot, { epoch: op.epoch, lostBy: described });
    return { ok: false, error: described, lost };
  }
}

function runMany(instance: ReactorInstance, op: CallManyOp, onDone: () => void): unknown {
  const list = op.argsList;
  const count = list.length;
  if (op.typedResult !== undefined) {
    const out = new globalThis[op.typedResult](count);
    for (let i = 0; i < count; i++) {
      (out as unknown as unknown[])[i] = instance.call(op.name, [list[i] as WasmValue]);
      onDone();
    }
    return out;
  }
  const out: unknown[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const args = list[i] as WasmValue | readonly WasmValue[];
    out[i] = instance.call(op.name, typeof args === 'object' ? args : [args]);
    onDone();
  }
  return out;
}

function lostOutcome(key: string, cause: SerializedError | undefined): Outcome {
  const error: SerializedError = {
    code: 'ERR_SESSION_LOST',
    message: `session ${JSON.stringify(key)} has lost its instance${cause === undefined ? '' : ` (${cause.code})`}; call session.reset() to start a fresh one`,
    sessionKey: key,
  };
  if (cause !== undefined) error.cause = cause;
  return { ok: false, error, lost: true };
}
