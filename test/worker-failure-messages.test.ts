// Every failure a reactor worker sends comes from one producer (workers/worker-failures.ts), with the
// codes and the exact messages users have always seen; each rebuilds as its class on the main thread.

import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ReactorPoolError, type SerializedError } from '../dist/src/index.js';
import { deserializeError } from '../dist/src/errors.js';
import { OutOfBounds } from '../dist/workers/guest-memory.js';
import { ReactorExit, ReactorSignal } from '../dist/workers/sealed-wasi.js';
import {
  describeFailure, discardByTrapPolicy, engineOutOfAddressSpace, failedAfterAll, failedPartWay, invalidArgument,
  moduleCannotInstantiate, noInstance, overMemoryLimit, sessionLost, startFailed,
} from '../dist/workers/worker-failures.js';

function rebuildsAsItsClass(error: SerializedError): void {
  expect(ERROR_CODES).toContain(error.code);
  const rebuilt = deserializeError(structuredClone(error));
  expect(rebuilt).toBeInstanceOf(ReactorPoolError);
  expect(rebuilt.constructor).not.toBe(ReactorPoolError);
  expect(rebuilt.message).toBe(error.message);
}

describe('worker-side failures', () => {
  it('an exit, a signal, an out-of-bounds buffer and a trap', () => {
    const cases: [unknown, { error: SerializedError; lost: boolean }][] = [
      [new ReactorExit(3), { lost: true, error: { code: 'ERR_REACTOR_EXIT', message: 'export `quit`: the reactor called proc_exit(3); its instance is gone', exportName: 'quit', exitCode: 3 } }],
      [new ReactorSignal(6), { lost: true, error: { code: 'ERR_REACTOR_SIGNAL', message: 'export `quit`: the reactor called proc_raise(6); no signal was sent, its instance is gone', exportName: 'quit', signal: 6 } }],
      [new OutOfBounds('a result at 9 + 4 lies outside'), { lost: false, error: { code: 'ERR_OUT_OF_BOUNDS', message: 'export `quit`: a result at 9 + 4 lies outside', exportName: 'quit' } }],
      [new WebAssembly.RuntimeError('unreachable'), { lost: false, error: { code: 'ERR_REACTOR_TRAP', message: 'export `quit` trapped: unreachable', exportName: 'quit' } }],
      ['thrown string', { lost: false, error: { code: 'ERR_REACTOR_TRAP', message: 'export `quit` trapped: thrown string', exportName: 'quit' } }],
    ];
    for (const [thrown, expected] of cases) {
      const failure = describeFailure(thrown, 'quit');
      expect(failure).toStrictEqual(expected);
      rebuildsAsItsClass(failure.error);
    }
  });

  it('a failed start, a trap policy, a callMany part-way and after all its calls', () => {
    const start = startFailed(new WebAssembly.RuntimeError('unreachable'));
    expect(start).toStrictEqual({ lost: true, error: { code: 'ERR_REACTOR_TRAP', message: 'starting the instance failed: export `_initialize` trapped: unreachable', exportName: '_initialize' } });

    const trapped = describeFailure(new WebAssembly.RuntimeError('unreachable'), 'boom');
    discardByTrapPolicy(trapped, 'reset');
    expect(trapped.lost).toBe(true);
    expect(trapped.error.message).toBe("export `boom` trapped: unreachable; the instance is discarded (onTrap: 'reset')");

    failedPartWay(trapped, 2, 5);
    expect(trapped.error).toMatchObject({ completed: 2, message: "export `boom` trapped: unreachable; the instance is discarded (onTrap: 'reset') (call 2 of 5 in callMany; 2 completed)" });

    const grown = overMemoryLimit('grow', 2_000_000, 1_000_000);
    failedAfterAll(grown, 7);
    expect(grown).toStrictEqual({
      lost: true,
      error: {
        code: 'ERR_MEMORY_LIMIT', exportName: 'grow', limit: 1_000_000, completed: 7,
        message: "export `grow`: the instance's linear memory is 2000000 bytes, over the memoryLimit of 1000000; the instance is discarded (after all 7 calls of the callMany completed)",
      },
    });
    expect(overMemoryLimit('_initialize', 5, 4).error.message).toBe("`_initialize`: the instance's linear memory is 5 bytes, over the memoryLimit of 4; the instance is discarded");
    rebuildsAsItsClass(grown.error);
  });

  it('an argument the engine refused, an engine out of address space, a bad module', () => {
    const argument = invalidArgument('add', 'Cannot convert 1 to a BigInt');
    expect(argument).toStrictEqual({ lost: false, error: { code: 'ERR_INVALID_ARGUMENT', message: 'export `add`: an argument does not fit its parameter type (Cannot convert 1 to a BigInt); nothing ran', exportName: 'add' } });
    rebuildsAsItsClass(argument.error);

    const refused = engineOutOfAddressSpace('WebAssembly.Instance(): Out of memory: Cannot allocate Wasm memory for new instance');
    expect(refused.lost).toBe(false);
    expect(refused.error).toStrictEqual({
      code: 'ERR_INSTANCE_LIMIT',
      message: 'the engine could not reserve memory for one more instance (WebAssembly.Instance(): Out of memory: Cannot allocate Wasm memory for new instance): this process holds too many live wasm memories (each reserves 8 to 16 GiB of address space); nothing ran and the session is not lost: retry once other sessions have closed, or lower maxInstances',
    });
    rebuildsAsItsClass(refused.error);

    const module = moduleCannotInstantiate('import env.f missing');
    expect(module).toStrictEqual({ code: 'ERR_INVALID_MODULE', message: 'module cannot be instantiated: import env.f missing' });
    rebuildsAsItsClass(module);
  });

  it('a lost session, with and without its cause, and an instance no longer on the thread', () => {
    const gone = sessionLost(noInstance());
    expect(gone).toStrictEqual({
      lost: true,
      error: {
        code: 'ERR_SESSION_LOST',
        message: 'the session has lost its instance (ERR_WORKER_FAILED); call session.reset() to start a fresh one',
        cause: { code: 'ERR_WORKER_FAILED', message: 'the instance is no longer on this worker thread' },
      },
    });
    rebuildsAsItsClass(gone.error);
    expect(sessionLost(undefined)).toStrictEqual({
      lost: true,
      error: { code: 'ERR_SESSION_LOST', message: 'the session has lost its instance; call session.reset() to start a fresh one' },
    });
    // Records are fresh: appending to one message never reaches the next.
    expect(noInstance()).not.toBe(noInstance());
    expect(sessionLost(undefined).error).not.toBe(sessionLost(undefined).error);
  });
});
