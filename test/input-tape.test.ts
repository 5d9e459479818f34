// The input tape: what clocks, random_get and poll_oneoff gave an instance is recorded per operation,
// and fed back in a replay the guest sees exactly the same; a replay asking for other inputs diverges.

import { describe, expect, it } from 'vitest';
import { InputTape, TapeDivergence, TapeMode } from '../dist/workers/input-tape.js';
import type { ReactorInstance } from '../dist/workers/reactor-instance.js';
import { TapedWorker } from './helpers/taped-worker.js';

/** Calls export `name` of `instance` with `args`. */
function call(worker: TapedWorker, instance: ReactorInstance, name: string, ...args: number[]): unknown {
  return instance.call(worker.index(name), args, 0, args.length);
}

/** The error a call throws. */
function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('the call did not throw');
}

describe('the input tape', () => {
  it('records nothing for an operation that makes no clock, random or poll call, and nothing at all when off', () => {
    const worker = new TapedWorker();
    const instance = worker.fresh();
    expect(worker.tape.take()).toBeInstanceOf(Uint8Array); // _initialize drew a random u32
    call(worker, instance, 'add', 5);
    call(worker, instance, 'state');
    call(worker, instance, 'clock', 99); // an unknown clock: INVAL, deterministic
    expect(worker.tape.recorded).toBe(false);
    expect(worker.tape.take()).toBeUndefined();

    const off = new TapedWorker({ mode: TapeMode.Off });
    const quiet = off.fresh();
    call(off, quiet, 'roll');
    call(off, quiet, 'stamp');
    call(off, quiet, 'nap');
    expect(off.tape.take()).toBeUndefined();
  });

  it('gives a replayed instance exactly what the recorded one saw: the same results and state', () => {
    const recording = new TapedWorker();
    const original = recording.fresh();
    const tapes: Uint8Array[] = [recording.tape.take() ?? new Uint8Array(0)];
    const results: unknown[] = [];
    const script: [string, ...number[]][] = [['roll'], ['stamp'], ['nap'], ['bytes', 16], ['clock', 0], ['clock', 2], ['now'], ['roll'], ['nap']];
    for (const [name, ...args] of script) {
      results.push(call(recording, original, name, ...args));
      tapes.push(recording.tape.take() ?? new Uint8Array(0));
    }
    // A relative 1 ms clock fires once: one event, userdata 42.
    expect(results[2]).toBe(((results[1] as number) + 43) | 0);

    const replaying = new TapedWorker();
    replaying.tape.beginReplay();
    replaying.tape.load(tapes[0] as Uint8Array);
    const copy = replaying.fresh();
    expect(replaying.tape.unread).toBe(0);
    script.forEach(([name, ...args], i) => {
      replaying.tape.load(tapes[i + 1] as Uint8Array);
      expect(call(replaying, copy, name, ...args)).toStrictEqual(results[i]);
      expect(replaying.tape.unread).toBe(0);
    });
    expect(replaying.tape.diverged).toBeUndefined();
    expect(call(replaying, copy, 'state')).toBe(call(recording, original, 'state'));
    // The highest monotonic time it was given, for the clock to continue from.
    expect(replaying.tape.maxMonotonic).toBeGreaterThanOrEqual(results[6] as bigint);
  });

  it('diverges when a replayed call asks for another kind of input, clock, or length than the tape holds', () => {
    const recording = new TapedWorker();
    const instance = recording.fresh();
    recording.tape.clear();
    const tapeOf = (name: string, ...args: number[]): Uint8Array => {
      call(recording, instance, name, ...args);
      return recording.tape.take() as Uint8Array;
    };
    const roll = tapeOf('roll');
    const realtime = tapeOf('clock', 0);
    const sixteen = tapeOf('bytes', 16);

    const replaying = new TapedWorker();
    const copy = replaying.fresh();
    replaying.tape.beginReplay();
    const divergence = (tape: Uint8Array, name: string, ...args: number[]): string => {
      replaying.tape.beginReplay();
      replaying.tape.load(tape);
      const error = thrown(() => call(replaying, copy, name, ...args));
      expect(error).toBeInstanceOf(TapeDivergence);
      expect(replaying.tape.diverged).toBe((error as Error).message);
      return (error as Error).message;
    };
    expect(divergence(roll, 'stamp')).toBe("clock_time_get was called, the tape's next entry is random_get");
    expect(divergence(realtime, 'stamp')).toBe('clock_time_get asked for clock 1, the tape holds clock 0');
    expect(divergence(sixteen, 'bytes', 8)).toBe('random_get asked for 8 bytes, the tape holds 16');
    expect(divergence(new Uint8Array(0), 'nap')).toBe('poll_oneoff was called, the tape has no more entries');
    expect(divergence(roll.subarray(0, 3), 'roll')).toMatch(/^the tape ends inside an entry/);

    const twoSubscriptions = new InputTape(TapeMode.Record);
    twoSubscriptions.recordPoll(2, new Uint8Array(32), 0n);
    expect(divergence(twoSubscriptions.take() as Uint8Array, 'nap')).toBe("poll_oneoff has 1 subscriptions, the tape's had 2");
  });

  it('leaves entries a replay did not ask for unread, for the replay to call a divergence', () => {
    const recording = new TapedWorker();
    const instance = recording.fresh();
    recording.tape.clear();
    call(recording, instance, 'roll');
    call(recording, instance, 'roll');
    const twoRolls = recording.tape.take() as Uint8Array;
    const replaying = new TapedWorker();
    const copy = replaying.fresh();
    replaying.tape.beginReplay();
    replaying.tape.load(twoRolls);
    call(replaying, copy, 'roll');
    expect(replaying.tape.unread).toBe(twoRolls.byteLength / 2);
  });

  it('replays a poll without the host: the recorded events, whatever the clock does now', () => {
    const tape = new InputTape(TapeMode.Record);
    // No event fired: the guest sees a count of 0 and adds nothing.
    tape.recordPoll(1, new Uint8Array(0), 5n);
    const replaying = new TapedWorker();
    const instance = replaying.fresh();
    const before = call(replaying, instance, 'state');
    replaying.tape.beginReplay();
    replaying.tape.load(tape.take() as Uint8Array);
    expect(call(replaying, instance, 'nap')).toBe(before);
    expect(replaying.tape.maxMonotonic).toBe(5n);
  });
});
