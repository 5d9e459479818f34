// Replaying a durable session's journal on the worker side: Start and Call records run again on their
// tapes and rebuild the same state; any outcome or input that differs, or an instance lost on the way,
// is a divergence (ERR_REPLAY_DIVERGED, lost) naming the record.

import { describe, expect, it } from 'vitest';
import { ByteWriter, RecordType, writeValue } from '../dist/src/journal-record.js';
import type { Failure } from '../dist/src/protocol.js';
import { InputTape, TapeMode } from '../dist/workers/input-tape.js';
import type { ReactorInstance } from '../dist/workers/reactor-instance.js';
import { replayRecords, type ReplayResult } from '../dist/workers/replay.js';
import { SessionRecorder, TapedWorker, type TapedWorkerOptions } from './helpers/taped-worker.js';

/** Where a call record of key 'k' holds its export index: after its type, key, seq and flags. */
const EXPORT_INDEX_AT = 1 + (4 + 1) + 8 + 1;

function stateOf(worker: TapedWorker, instance: ReactorInstance): unknown {
  return instance.call(worker.index('state'), [], 0, 0);
}

function rebuilt(result: ReplayResult): ReactorInstance {
  if (result.failure !== undefined) throw new Error(`the replay failed: ${result.failure.error.message}`);
  return result.instance;
}

function failed(result: ReplayResult): Failure {
  if (result.failure === undefined) throw new Error('the replay did not fail');
  return result.failure;
}

/** Replays `recorder`'s journal on a fresh worker (no base). */
function replay(recorder: SessionRecorder, options: TapedWorkerOptions = {}, base?: ReactorInstance): ReplayResult {
  const worker = new TapedWorker(options);
  return replayRecords(worker.host, base, recorder.framed());
}

/** The record body at `index` with `edit` applied to its bytes. */
function tamper(recorder: SessionRecorder, index: number, edit: (body: Uint8Array) => void): void {
  edit(recorder.bodies[index] as Uint8Array);
}

function encoded(value: unknown): Uint8Array {
  const out = new ByteWriter();
  writeValue(out, value);
  return out.take();
}

describe('replaying a journal', () => {
  it('rebuilds the state every kind of record built: starts, calls, callMany, a kept trap and a refused argument', () => {
    const recorder = new SessionRecorder(new TapedWorker());
    recorder.start();
    recorder.call('roll', []);
    recorder.call('stamp', []);
    recorder.call('nap', []);
    recorder.call('bytes', [12]);
    recorder.callMany('add', Int32Array.from([1, 2, 3]), 'Int32Array');
    recorder.callMany('roll', [[], []]);
    expect(recorder.call('boom', [])).toEqual({ code: 'ERR_REACTOR_TRAP' });
    expect(recorder.call('add', [1n])).toEqual({ code: 'ERR_INVALID_ARGUMENT' });
    recorder.call('roll', []);
    const instance = rebuilt(replay(recorder));
    expect(stateOf(recorder.worker, instance)).toBe(stateOf(recorder.worker, recorder.instance as ReactorInstance));
  });

  it('starts the instance for a call that opened it, and again for a later start (a reset), from their tapes', () => {
    const recorder = new SessionRecorder(new TapedWorker());
    recorder.call('roll', [], { open: true });
    recorder.call('roll', []);
    recorder.start();
    recorder.call('stamp', []);
    const instance = rebuilt(replay(recorder));
    expect(stateOf(recorder.worker, instance)).toBe(stateOf(recorder.worker, recorder.instance as ReactorInstance));
  });

  it('replays onto a base instance (as after a restore), and skips a compaction snapshot record', () => {
    const recorder = new SessionRecorder(new TapedWorker());
    recorder.start();
    recorder.call('roll', []);
    // The base stands for a restored snapshot of the state so far: the first two records, replayed
    // (on the worker that replays the rest: its instances report to its tape).
    const worker = new TapedWorker();
    const base = rebuilt(replayRecords(worker.host, undefined, recorder.framed()));
    recorder.bodies.length = 0;
    recorder.journal({ type: RecordType.Snapshot, key: 'k', seq: 2, generation: 1, replaces: false });
    recorder.call('add', [5]);
    recorder.call('stamp', []);
    const instance = rebuilt(replayRecords(worker.host, base, recorder.framed()));
    expect(instance).toBe(base);
    expect(stateOf(worker, instance)).toBe(stateOf(recorder.worker, recorder.instance as ReactorInstance));
    // Onto another state, the same records diverge (add's recorded outcome is the sum with the old state).
    expect(failed(replayRecords(worker.host, worker.fresh(), recorder.framed())).error.message).toMatch(/at record seq 3 \(export `add`\)/);
  });

  it('diverges on a value other than the recorded one, naming the record, the export, expected and got', () => {
    const recorder = new SessionRecorder(new TapedWorker());
    recorder.start();
    recorder.call('add', [2]);
    recorder.call('add', [3]);
    // The second add's outcome, recorded as 1 more than it was.
    const state = stateOf(recorder.worker, recorder.instance as ReactorInstance) as number;
    const body = recorder.bodies[2] as Uint8Array;
    const outcome = encoded(state);
    const at = indexOf(body, outcome);
    body.set(encoded(state + 1), at);
    const failure = failed(replay(recorder));
    expect(failure.lost).toBe(true);
    expect(failure.error.code).toBe('ERR_REPLAY_DIVERGED');
    expect(failure.error.message).toBe(
      `replaying the journal diverged at record seq 3 (export \`add\`): expected \`${state + 1}\` (number), got \`${state}\` (number); the session cannot be rebuilt`,
    );
  });

  it('diverges when the inputs differ from the ones recorded: another random value, or a tape left unread', () => {
    const recorder = new SessionRecorder(new TapedWorker());
    recorder.start();
    recorder.call('roll', []);
    // The last 4 bytes of the record are the random u32 the call drew: another value, another state.
    tamper(recorder, 1, (body) => {
      body[body.byteLength - 1] = ((body[body.byteLength - 1] as number) + 1) & 0xff;
    });
    expect(failed(replay(recorder)).error.message).toMatch(/^replaying the journal diverged at record seq 2 \(export `roll`\): expected `-?\d+` \(number\), got `-?\d+` \(number\)/);

    const unread = new SessionRecorder(new TapedWorker());
    unread.start();
    unread.call('add', [1]);
    const extra = new InputTape(TapeMode.Record);
    extra.recordClock(1, 7n);
    unread.bodies[1] = withTape(unread, 1, extra.take() as Uint8Array);
    expect(failed(replay(unread)).error.message).toBe(
      'replaying the journal diverged at record seq 2: the call left 13 bytes of its tape unread (fewer clock, random or poll calls than recorded); the session cannot be rebuilt',
    );
  });

  it('compares error outcomes by code only', () => {
    const recorder = new SessionRecorder(new TapedWorker());
    recorder.start();
    recorder.call('boom', []);
    expect(rebuilt(replay(recorder))).toBeDefined();
    // Replayed under a policy that discards a trapped instance: it is lost on the way.
    const lost = failed(replay(recorder, { onTrap: 'lose' }));
    expect(lost.error.code).toBe('ERR_REPLAY_DIVERGED');
    expect(lost.error.cause?.code).toBe('ERR_REACTOR_TRAP');
    expect(lost.error.message).toMatch(/^replaying the journal diverged at record seq 2 \(export `boom`\): the instance was lost \(ERR_REACTOR_TRAP: /);
  });

  it('diverges when the call ends otherwise than recorded: an error for a value, a value for an error, another error', () => {
    const recorder = new SessionRecorder(new TapedWorker());
    recorder.start();
    recorder.call('add', [1]);
    recorder.call('boom', []);
    const [start, add, boom] = recorder.bodies as [Uint8Array, Uint8Array, Uint8Array];
    // Swap the two calls' export indices: add now traps where a value was recorded, boom returns a value.
    const addIndex = recorder.worker.index('add');
    const boomIndex = recorder.worker.index('boom');
    const swapped = (body: Uint8Array, index: number): Uint8Array => {
      const copy = body.slice();
      new DataView(copy.buffer).setUint16(EXPORT_INDEX_AT, index, true);
      return copy;
    };
    recorder.bodies.splice(0, 3, start, swapped(add, boomIndex));
    expect(failed(replay(recorder)).error.message).toMatch(/at record seq 2 \(export `boom`\): expected `-?\d+` \(number\), got error ERR_REACTOR_TRAP \(export `boom` trapped: /);
    recorder.bodies.splice(0, 2, start, swapped(boom, addIndex));
    expect(failed(replay(recorder)).error.message).toMatch(/at record seq 3 \(export `add`\): expected error ERR_REACTOR_TRAP, got `-?\d+` \(number\)/);
  });

  it('diverges when the instance exits on the way, with the exit as the cause', () => {
    const recorder = new SessionRecorder(new TapedWorker());
    recorder.start();
    // Journaled as if it had returned (a call that exits never is): the replay finds the exit.
    recorder.call('add', [1]);
    const quit = recorder.bodies[1] as Uint8Array;
    new DataView(quit.buffer).setUint16(EXPORT_INDEX_AT, recorder.worker.index('quit'), true);
    const failure = failed(replay(recorder));
    expect(failure.error.cause?.code).toBe('ERR_REACTOR_EXIT');
    expect(failure.error.message).toMatch(/at record seq 2 \(export `quit`\): the instance was lost \(ERR_REACTOR_EXIT: /);
  });

  it('refuses records that are not replayed: a close, a void, a snapshot that replaced the state, a call on no instance', () => {
    const cases: [string, (recorder: SessionRecorder) => void][] = [
      ['record seq 2: a close record cannot be replayed', (r) => r.journal({ type: RecordType.Close, key: 'k', seq: 2 })],
      ['record seq 0: a void record cannot be replayed', (r) => r.journal({ type: RecordType.Void, key: '', seq: 0, segment: 1, from: 0, to: 9 })],
      ['record seq 2: a snapshot record that replaced the state (generation 4) is a base, not a record to replay',
        (r) => r.journal({ type: RecordType.Snapshot, key: 'k', seq: 2, generation: 4, replaces: true })],
    ];
    for (const [message, add] of cases) {
      const recorder = new SessionRecorder(new TapedWorker());
      recorder.start();
      add(recorder);
      expect(failed(replay(recorder)).error.message).toBe(`replaying the journal diverged at ${message}; the session cannot be rebuilt`);
    }
    const orphan = new SessionRecorder(new TapedWorker());
    orphan.start();
    orphan.call('add', [1]);
    orphan.bodies.shift();
    expect(failed(replay(orphan)).error.message).toMatch(/at record seq 2: a call on no instance/);
    expect(failed(replayRecords(new TapedWorker().host, undefined, new Uint8Array(0))).error.message).toMatch(/nothing to replay onto/);
    expect(failed(replayRecords(new TapedWorker().host, undefined, new Uint8Array([9, 0, 0, 0, 1]))).error.message).toMatch(/at the records: they do not split/);
  });

  it('checks the memory limit once rebuilt', () => {
    const recorder = new SessionRecorder(new TapedWorker());
    recorder.start();
    recorder.call('grow', [2]);
    expect(rebuilt(replay(recorder, { memoryLimit: 3 * 65536 }))).toBeDefined();
    const failure = failed(replay(recorder, { memoryLimit: 2 * 65536 }));
    expect(failure.error.code).toBe('ERR_REPLAY_DIVERGED');
    expect(failure.error.cause).toMatchObject({ code: 'ERR_MEMORY_LIMIT', limit: 2 * 65536 });
  });

  it('continues the monotonic clock from the last time replayed, never back', () => {
    const recorder = new SessionRecorder(new TapedWorker());
    recorder.start();
    recorder.call('now', []);
    // A time far past this host's clock (the journal came from another host, up for years).
    const later = process.hrtime.bigint() + 10n ** 17n;
    const tape = new InputTape(TapeMode.Record);
    tape.recordClock(1, later);
    recorder.bodies[1] = withTape(recorder, 1, tape.take() as Uint8Array, encoded(later));
    const worker = new TapedWorker();
    const instance = rebuilt(replayRecords(worker.host, undefined, recorder.framed()));
    expect(instance.call(worker.index('now'), [], 0, 0) as bigint).toBeGreaterThanOrEqual(later);
  });

  it('suppresses output, leaves the output sink as it was, and records again afterwards', () => {
    const recorder = new SessionRecorder(new TapedWorker({ file: 'kitchen.wasm', exportNames: ['say', 'get'] }));
    recorder.start();
    recorder.call('say', [7]);
    const worker = new TapedWorker({ file: 'kitchen.wasm', exportNames: ['say', 'get'] });
    const captured = worker.output.chunks;
    const instance = rebuilt(replayRecords(worker.host, undefined, recorder.framed()));
    expect(worker.output.chunks).toBe(captured);
    expect(captured).toEqual([]);
    instance.call(worker.index('say'), [8], 0, 1);
    expect(worker.output.run).toBeDefined();
    expect(worker.tape.mode).toBe(TapeMode.Record);
  });
});

/** Where `needle` lies in `haystack` (the last place). */
function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  for (let at = haystack.byteLength - needle.byteLength; at >= 0; at--) {
    if (needle.every((byte, i) => haystack[at + i] === byte)) return at;
  }
  throw new Error('not found');
}

/** Record `index` of `recorder` rebuilt with another tape (and outcome). */
function withTape(recorder: SessionRecorder, index: number, tape: Uint8Array, outcome?: Uint8Array): Uint8Array {
  const body = recorder.bodies[index] as Uint8Array;
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  // A call record ends with its args, outcome and tape blobs: find them from the fixed header.
  // Then the export index, mode, typed result kind and the idempotency key's absence.
  let at = EXPORT_INDEX_AT + 2 + 1 + 1 + 1;
  const argsLength = view.getUint32(at, true);
  at += 4 + argsLength;
  const head = body.subarray(0, at);
  const oldOutcome = body.subarray(at + 4, at + 4 + view.getUint32(at, true));
  const out = new ByteWriter();
  out.raw(head);
  out.blob(outcome ?? oldOutcome);
  out.blob(tape);
  return out.take();
}
