// A durable worker's operations on a real worker thread: each reports its input tape with its outcome
// (only when it made a clock, random or poll call), and a replay op rebuilds an instance from records
// made of those tapes, or loses it with ERR_REPLAY_DIVERGED; without durability no tape comes back.

import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { ByteWriter, CallFlags, RecordType, encodeRecord, writeValue } from '../dist/src/journal-record.js';
import { MemoryBoard, Progress, Status, type Failure, type OkWithOutput, type Op, type WorkerData } from '../dist/src/protocol.js';
import { frameReplayRecords } from '../dist/src/replay-records.js';
import { BatchEncoder } from '../dist/src/wire.js';
import { fixture } from './helpers/fixtures.js';
import { NONDETERMINISTIC_EXPORTS } from './helpers/taped-worker.js';

const WORKER = new URL('./helpers/operations-worker.mjs', import.meta.url);
const threads: Worker[] = [];

afterEach(async () => {
  await Promise.all(threads.splice(0).map((thread) => thread.terminate()));
});

type Outcome = [Status, unknown];

/** A worker thread running the operations with `durable`; `run` sends one batch and gets its outcomes. */
function startWorker(durable: boolean): (ops: readonly Op[]) => Promise<Outcome[]> {
  const workerData: WorkerData = {
    module: new WebAssembly.Module(readFileSync(fixture('nondeterministic.wasm'))),
    exportNames: NONDETERMINISTIC_EXPORTS,
    wasi: { args: [], env: {}, preopens: {}, stdin: new Uint8Array(0) },
    capture: { stdout: true, stderr: true },
    memoryLimit: Number.POSITIVE_INFINITY,
    onTrap: 'keep',
    progress: new SharedArrayBuffer(Progress.BYTES),
    memory: new SharedArrayBuffer(MemoryBoard.BYTES),
    allocator: undefined,
    stackPointer: undefined,
    poll: { afterSmall: 0, afterLarge: 0 },
    snapshot: undefined,
    durable,
  };
  const thread = new Worker(WORKER, { workerData });
  threads.push(thread);
  return (ops) => new Promise((resolve, reject) => {
    const encoder = new BatchEncoder(1 << 20);
    encoder.begin(1);
    for (const op of ops) encoder.add(op);
    const words = encoder.finish(false);
    const buffer = (words.u8.buffer as ArrayBuffer).slice(0, words.length * 8);
    thread.once('message', resolve);
    thread.once('error', reject);
    thread.postMessage({ buffer, side: encoder.side }, [buffer]);
  });
}

const index = (name: string): number => NONDETERMINISTIC_EXPORTS.indexOf(name as (typeof NONDETERMINISTIC_EXPORTS)[number]);
const call = (instanceId: number, name: string, args: number[] = [], open = false): Op => ({ kind: 'call', instanceId, epoch: 1, open, exportIndex: index(name), args });

function encoded(write: (out: ByteWriter) => void): Uint8Array {
  const out = new ByteWriter();
  write(out);
  return out.take();
}

/** The journal record a main thread would write for a call and its outcome. */
function callRecord(seq: number, name: string, args: number[], outcome: Outcome, opened = false): Uint8Array {
  const [status, payload] = outcome;
  const value = status === Status.OkWithOutput ? (payload as OkWithOutput).value : payload;
  const tape = status === Status.OkWithOutput ? (payload as OkWithOutput).tape ?? new Uint8Array(0) : new Uint8Array(0);
  return encoded((out) => encodeRecord(out, {
    type: RecordType.Call, key: 'k', seq, flags: opened ? CallFlags.Opened : 0, exportIndex: index(name), mode: undefined, typedResult: undefined,
    idempotencyKey: undefined, args: encoded((o) => writeValue(o, args)), outcome: encoded((o) => writeValue(o, value)), tape,
  }));
}

describe('a durable worker', () => {
  it('reports the tape of each operation that used clocks, random or poll with its outcome, and none for one that did not', async () => {
    const run = startWorker(true);
    const outcomes = await run([call(1, 'roll', [], true), call(1, 'add', [1]), call(1, 'stamp'), call(1, 'nap')]);
    expect(outcomes.map(([status]) => status)).toEqual([Status.OkWithOutput, Status.Ok, Status.OkWithOutput, Status.OkWithOutput]);
    for (const at of [0, 2, 3]) {
      const payload = outcomes[at]?.[1] as OkWithOutput;
      expect(payload.output).toEqual([]);
      expect(payload.tape).toBeInstanceOf(Uint8Array);
    }
    // The opening call's tape holds `_initialize`'s random draw and the call's: two entries of 1 + 4 + 4 bytes.
    expect((outcomes[0]?.[1] as OkWithOutput).tape?.byteLength).toBe(18);
    // A trap that keeps the instance carries its tape too (boom makes no such call: none).
    const [trapped] = await run([call(1, 'boom')]);
    expect(trapped?.[0]).toBe(Status.Failed);
    expect((trapped?.[1] as Failure).tape).toBeUndefined();
  });

  it('reports no tape without durability', async () => {
    const run = startWorker(false);
    const outcomes = await run([call(1, 'roll', [], true), call(1, 'stamp')]);
    expect(outcomes.map(([status]) => status)).toEqual([Status.Ok, Status.Ok]);
  });

  it('rebuilds an instance by a replay op from records of those outcomes, and loses it on a divergence', async () => {
    const run = startWorker(true);
    const outcomes = await run([call(1, 'roll', [], true), call(1, 'stamp'), call(1, 'nap'), call(1, 'state')]);
    const records = frameReplayRecords([
      callRecord(1, 'roll', [], outcomes[0] as Outcome, true),
      callRecord(2, 'stamp', [], outcomes[1] as Outcome),
      callRecord(3, 'nap', [], outcomes[2] as Outcome),
    ]);
    const state = outcomes[3]?.[1];
    const replayed = await run([{ kind: 'replay', instanceId: 2, epoch: 1, base: undefined, records }, call(2, 'state')]);
    expect(replayed).toEqual([[Status.Ok, undefined], [Status.Ok, state]]);

    // The same records with the stamp's recorded value one off.
    const wrong = [...(outcomes[1] as Outcome)] as Outcome;
    wrong[1] = { ...(wrong[1] as OkWithOutput), value: ((wrong[1] as OkWithOutput).value as number) + 1 };
    const diverging = frameReplayRecords([callRecord(1, 'roll', [], outcomes[0] as Outcome, true), callRecord(2, 'stamp', [], wrong)]);
    const [failed, after] = await run([{ kind: 'replay', instanceId: 3, epoch: 1, base: undefined, records: diverging }, call(3, 'state')]);
    expect(failed?.[0]).toBe(Status.Failed);
    expect(failed?.[1]).toMatchObject({ lost: true, error: { code: 'ERR_REPLAY_DIVERGED' } });
    expect((failed?.[1] as Failure).error.message).toMatch(/^replaying the journal diverged at record seq 2 \(export `stamp`\): expected /);
    expect(after?.[1]).toMatchObject({ lost: true, error: { code: 'ERR_SESSION_LOST', cause: { code: 'ERR_REPLAY_DIVERGED' } } });
  });

  it('fails a replay whose base cannot be restored with the restore\'s own failure', async () => {
    const run = startWorker(true);
    const [failed] = await run([{ kind: 'replay', instanceId: 4, epoch: 1, base: new Uint8Array(8), records: new Uint8Array(0) }]);
    expect(failed?.[1]).toMatchObject({ lost: true });
    expect((failed?.[1] as Failure).error.code).not.toBe('ERR_REPLAY_DIVERGED');
    expect((failed?.[1] as Failure).error.message).toMatch(/^restoring the snapshot failed/);
  });
});
