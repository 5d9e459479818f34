// Every failure record a reactor worker sends back: one producer per kind, so each code and the shape
// of its message live in one place (the main thread rebuilds the error class from the code).

import { ReactorPoolError, type SerializedError } from '../src/errors.js';
import type { Failure } from '../src/protocol.js';
import { AddressSpaceShort } from './address-space-guard.js';
import { OutOfBounds } from './guest-memory.js';
import { HostCallFailed } from './host-calls.js';
import { SnapshotRejected } from './reactor-instance.js';
import { ReactorExit, ReactorSignal } from './sealed-wasi.js';

/** A failure whose `lost` and message the worker may still adjust (trap policy, position in a callMany). */
export interface OpenFailure {
  error: SerializedError;
  lost: boolean;
}

/**
 * The TypeError V8 throws at the JS→wasm boundary for an argument it cannot convert (a bigint for an
 * i32, a number for an i64: with a compiled module the main thread knows no signatures). Thrown
 * before the export is entered, so no wasm frame is on its stack; a TypeError from inside the call
 * (an import) has one.
 */
export function isArgumentConversion(error: unknown): error is TypeError {
  return error instanceof TypeError && typeof error.stack === 'string' && !/wasm:\/\/|wasm-function\[/.test(error.stack);
}

/**
 * V8 throws this RangeError when it cannot reserve a new wasm memory: the process is out of address
 * space (each memory reserves about 10 GiB), not the module at fault.
 */
export function isOutOfAddressSpace(error: unknown): error is RangeError {
  return error instanceof RangeError && error.message.includes('Out of memory');
}

/** How messages name what ran: `_initialize` is not an export the caller called. */
function subject(name: string): string {
  return name === '_initialize' ? '`_initialize`' : `export \`${name}\``;
}

/** The serialisable failure for anything an export (or `_initialize`) threw; the main thread adds the session. */
export function describeFailure(error: unknown, name: string): OpenFailure {
  if (error instanceof ReactorExit) {
    return {
      lost: true,
      error: {
        code: 'ERR_REACTOR_EXIT',
        message: `export \`${name}\`: the reactor called proc_exit(${error.exitCode}); its instance is gone`,
        exportName: name,
        exitCode: error.exitCode,
      },
    };
  }
  if (error instanceof ReactorSignal) {
    return {
      lost: true,
      error: {
        code: 'ERR_REACTOR_SIGNAL',
        message: `export \`${name}\`: the reactor called proc_raise(${error.signal}); no signal was sent, its instance is gone`,
        exportName: name,
        signal: error.signal,
      },
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof HostCallFailed) {
    return { lost: false, error: { code: error.code, message: `export \`${name}\`: ${message}`, exportName: name } };
  }
  if (error instanceof OutOfBounds) {
    return { lost: false, error: { code: 'ERR_OUT_OF_BOUNDS', message: `export \`${name}\`: ${message}`, exportName: name } };
  }
  return {
    lost: false,
    error: { code: 'ERR_REACTOR_TRAP', message: `export \`${name}\` trapped: ${message}`, exportName: name },
  };
}

/** `_initialize` (or the start function) threw: the instance never started and the epoch is lost. */
export function startFailed(error: unknown): OpenFailure {
  const failure = describeFailure(error, '_initialize');
  failure.error.message = `starting the instance failed: ${failure.error.message}`;
  failure.lost = true;
  return failure;
}

/** A trap under `onTrap: 'lose' | 'reset'`: the trapped instance is discarded. */
export function discardByTrapPolicy(failure: OpenFailure, onTrap: 'lose' | 'reset'): void {
  failure.lost = true;
  failure.error.message += `; the instance is discarded (onTrap: '${onTrap}')`;
}

/** Call `completed` of a callMany of `count` calls failed: the ones before it ran. */
export function failedPartWay(failure: Failure, completed: number, count: number): void {
  failure.error.completed = completed;
  failure.error.message += ` (call ${completed} of ${count} in callMany; ${completed} completed)`;
}

/** A callMany's memory is checked once, after the whole list: every call of it ran. */
export function failedAfterAll(failure: Failure, count: number): void {
  failure.error.completed = count;
  failure.error.message += ` (after all ${count} calls of the callMany completed)`;
}

/** After running `name`, the instance held `bytes` of linear memory, over `limit`: it is discarded. */
export function overMemoryLimit(name: string, bytes: number, limit: number): Failure {
  return {
    lost: true,
    error: {
      code: 'ERR_MEMORY_LIMIT',
      message: `${subject(name)}: the instance's linear memory is ${bytes} bytes, over the memoryLimit of ${limit}; the instance is discarded`,
      exportName: name,
      limit,
    },
  };
}

/** The engine refused a plain argument at the JS→wasm boundary (`conversion` is its message); the export never ran. */
export function invalidArgument(name: string, conversion: string): Failure {
  return {
    lost: false,
    error: { code: 'ERR_INVALID_ARGUMENT', message: `export \`${name}\`: an argument does not fit its parameter type (${conversion}); nothing ran`, exportName: name },
  };
}

/** The engine could not reserve a wasm memory (`reason` is its message): nothing ran, nothing is lost. */
export function engineOutOfAddressSpace(reason: string): Failure {
  return {
    lost: false,
    error: {
      code: 'ERR_INSTANCE_LIMIT',
      message: `the engine could not reserve memory for one more instance (${reason}): this process holds too many live wasm memories (each reserves 8 to 16 GiB of address space); nothing ran and the session is not lost: retry once other sessions have closed, or lower maxInstances`,
    },
  };
}

/** The pool refused the start before the engine tried (`reason`: the sizes): on this engine a failed reservation ends the thread. */
export function addressSpaceShort(reason: string): Failure {
  return {
    lost: false,
    error: {
      code: 'ERR_INSTANCE_LIMIT',
      message: `no room for one more instance in the process's address space (${reason}); nothing ran and the session is not lost: retry once other sessions have closed, or lower maxInstances`,
    },
  };
}

/** The refusal for a start the address space has no room for (the pool's check, or the engine's RangeError); undefined for any other error. */
export function instanceRefusal(error: unknown): Failure | undefined {
  if (error instanceof AddressSpaceShort) return addressSpaceShort(error.message);
  return isOutOfAddressSpace(error) ? engineOutOfAddressSpace(error.message) : undefined;
}

/** Why an operation found no instance of its epoch on this thread (it went with a thread before, or was never opened here). */
export function noInstance(): SerializedError {
  return { code: 'ERR_WORKER_FAILED', message: 'the instance is no longer on this worker thread' };
}

/** The operation's instance was lost earlier, by `cause` when known; a fresh record each time (callers append to messages). */
export function sessionLost(cause: SerializedError | undefined): Failure {
  const error: SerializedError = {
    code: 'ERR_SESSION_LOST',
    message: `the session has lost its instance${cause === undefined ? '' : ` (${cause.code})`}; call session.reset() to start a fresh one`,
  };
  if (cause !== undefined) error.cause = cause;
  return { error, lost: true };
}

/** The module could not be linked on a new thread (`reason` is the engine's message). */
export function moduleCannotInstantiate(reason: string): SerializedError {
  return { code: 'ERR_INVALID_MODULE', message: `module cannot be instantiated: ${reason}` };
}

/** Taking a snapshot of a live instance failed (the instance is untouched and stays). */
export function snapshotFailed(error: unknown): Failure {
  const message = error instanceof Error ? error.message : String(error);
  return { lost: false, error: { code: 'ERR_NOT_SNAPSHOTTABLE', message: `taking the snapshot failed: ${message}` } };
}

/**
 * A snapshot could not become an instance here: refused by its checks (their own code), or it does not
 * fit the module (`ERR_INVALID_SNAPSHOT`). The instance it was to replace is gone: the session is lost.
 */
export function restoreFailed(error: unknown): Failure {
  if (error instanceof ReactorPoolError) return { lost: true, error: { ...error.toJSON(), message: `restoring the snapshot failed: ${error.message}` } };
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof SnapshotRejected ? 'ERR_INVALID_SNAPSHOT' : 'ERR_REACTOR_TRAP';
  return { lost: true, error: { code, message: `restoring the snapshot failed: ${message}` } };
}

/**
 * Replaying a durable session's journal did not end as the journal says, at `where` (a record's seq):
 * `what` differed (expected vs got), or the instance was lost (`cause`). The instance is gone.
 */
export function replayDiverged(where: string, what: string, cause?: SerializedError): Failure {
  const error: SerializedError = {
    code: 'ERR_REPLAY_DIVERGED',
    message: `replaying the journal diverged at ${where}: ${what}${cause === undefined ? '' : ` (${cause.code}: ${cause.message})`}; the session cannot be rebuilt`,
  };
  if (cause !== undefined) error.cause = cause;
  return { error, lost: true };
}

/** A replay rebuilt an instance holding `bytes` of linear memory, over `limit` (the limit was lowered since?): it is discarded. */
export function replayOverMemoryLimit(bytes: number, limit: number): Failure {
  return replayDiverged('the end', 'the rebuilt instance is over the memory limit', {
    code: 'ERR_MEMORY_LIMIT',
    message: `the instance's linear memory is ${bytes} bytes, over the memoryLimit of ${limit}; the instance is discarded`,
    limit,
  });
}
