// A handle for one session key: every call of the key runs in submission order, one at a time,
// on the same reactor instance, until that instance is lost (then calls reject until `reset()`).

import { checkArgs, type Callable } from './arguments.js';
import { InvalidArgumentError, SessionClosedError } from './errors.js';
import { checkBufferArgs, checkResultMode } from './buffers.js';
import {
  resolveCallOptions, type CallArg, type CallOptions, type ResolvedCallOptions, type SessionCalls, type TypedArgs,
  type TypedResults,
} from './call-options.js';
import { ownCallArgs, takeCallManyList } from './owned-arguments.js';
import type { CallOp, Op, ResultMode } from './protocol.js';
import { sessionLostError, type InstanceEntry, type InstanceTable } from './instance-table.js';
import type { Admission, SessionQueue } from './admission.js';
import type { ExportCatalog } from './export-catalog.js';
import type { OutputRouter } from './output-router.js';
import type { SessionDirectory } from './session-directory.js';
import type { WorkerSlot } from './worker-slot.js';
import { SessionJob, abortedError } from './session-job.js';
import type { SnapshotSupport } from './snapshot-support.js';

/** What a session is wired to, given by its pool; its jobs share it. */
export interface SessionDeps {
  /** The session key. */
  readonly key: string;
  /** The worker position its operations go to. */
  readonly worker: WorkerSlot;
  /** Its binding to an instance: identity, start, loss (read here, changed only by {@link instances}). */
  readonly entry: InstanceEntry;
  /** The instance lifecycle: starts, resets, the loss rule. */
  readonly instances: InstanceTable;
  /** Its queue places (`maxQueuePerSession`, within `maxQueue`). */
  readonly queue: SessionQueue;
  /** Whether the pool still accepts work. */
  readonly admission: Admission;
  /** Export lookup and the guest allocator. */
  readonly exports: ExportCatalog;
  /** Where its instance's output goes. */
  readonly output: OutputRouter;
  /** The pool's directory, which forgets it once closed. */
  readonly directory: SessionDirectory;
  /** The pool's `callTimeout`, in ms (`Infinity`: none). */
  readonly callTimeout: number;
  /** Whether the pool can snapshot, and its checks on snapshot bytes. */
  readonly snapshots: SnapshotSupport;
}

/** A session's handle, from {@link ReactorPool.session}. */
export class Session {
  /** The session key. */
  readonly key: string;
  readonly #deps: SessionDeps;
  #closed = false;

  /** @internal */
  constructor(deps: SessionDeps) {
    this.key = deps.key;
    this.#deps = deps;
  }

  /** True once the session's instance is lost; calls reject with `ERR_SESSION_LOST` until {@link reset}. */
  get lost(): boolean {
    return this.#deps.entry.lostCause !== undefined;
  }

  /** The worker (0-based) this session's instance lives on. */
  get workerId(): number {
    return this.#deps.worker.id;
  }

  /**
   * Calls an export with arguments matching its signature (i32/f32/f64 as numbers, i64 as bigints; a
   * `Uint8Array` or a string fills two i32 parameters, pointer and length, through guest memory).
   * Resolves with its result: a number, a bigint for i64, `undefined` for none, an array for several
   * (or bytes or a string, with `session.with({ result })`).
   * @typeParam R - the result type you expect.
   */
  call<R = number>(name: string, ...args: CallArg[]): Promise<R> {
    return this.#call(name, args, undefined);
  }

  /**
   * Calls an export once per item, in order, in one trip to the worker. `list` is an array of argument
   * tuples, an array of single arguments (one-parameter exports), or a typed array (one parameter and
   * one result: the results come back in a typed array of the result type, e.g. i32 → `Int32Array`).
   * Stops at the first failing call: the error's `completed` says how many calls ran before it.
   * A timeout applies to the whole list.
   */
  callMany<R extends TypedResults = Int32Array>(name: string, list: TypedArgs): Promise<R>;
  callMany<R = number>(name: string, list: readonly (CallArg | readonly CallArg[])[]): Promise<R[]>;
  callMany(name: string, list: unknown): Promise<unknown> {
    return this.#callMany(name, list, undefined);
  }

  /**
   * This session's `call` and `callMany` with per-call options: an `AbortSignal`, a timeout, how to
   * read the result. `session.with({ signal }).call('inc', 1)`. Options are checked now (`ERR_INVALID_OPTION`).
   */
  with(options: CallOptions): SessionCalls {
    const resolved = resolveCallOptions(options, this.#deps.callTimeout);
    return {
      call: (name: string, ...args: CallArg[]) => this.#call(name, args, resolved),
      callMany: (name: string, list: unknown) => this.#callMany(name, list, resolved),
    };
  }

  #call(name: string, args: CallArg[], options: ResolvedCallOptions | undefined): Promise<never> {
    try {
      const callable = this.#prepare(name);
      const allocator = this.#deps.exports.allocator;
      const mode = options?.result ?? callable.result;
      let buffers: ResultMode | undefined;
      // `args` is this call's own rest array: once its buffers are copied, nothing in it is the caller's.
      const buffered = ownCallArgs(callable, args);
      if (mode === 'value' && !buffered) {
        checkArgs(callable, args);
      } else {
        checkBufferArgs(callable, args, allocator);
        checkResultMode(callable, mode, allocator);
        buffers = mode;
      }
      this.#admit(options);
      const open = this.#claimStart();
      const { instanceId, epoch } = this.#deps.entry;
      // Two literals rather than a spread: no throwaway object per call.
      const op: CallOp = buffers === undefined
        ? { kind: 'call', instanceId, epoch, open, exportIndex: callable.index, args }
        : { kind: 'call', instanceId, epoch, open, exportIndex: callable.index, args, buffers };
      return this.#enqueue(op, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #callMany(name: string, list: unknown, options: ResolvedCallOptions | undefined): Promise<never> {
    try {
      const callable = this.#prepare(name);
      const allocator = this.#deps.exports.allocator;
      const mode = options?.result ?? callable.result;
      const { argsList, typedResult, buffers } = takeCallManyList(callable, list, allocator);
      const throughMemory = mode !== 'value' || buffers;
      if (throughMemory) {
        if (typedResult !== undefined) {
          throw new InvalidArgumentError(
            `callMany with result '${mode}' takes an array of arguments or tuples, not a typed array`,
            { exportName: callable.name },
          );
        }
        checkResultMode(callable, mode, allocator);
      }
      this.#admit(options);
      const open = this.#claimStart();
      const { instanceId, epoch } = this.#deps.entry;
      return this.#enqueue({
        kind: 'callMany', instanceId, epoch, open, exportIndex: callable.index, argsList,
        ...(typedResult === undefined ? {} : { typedResult }),
        ...(throughMemory ? { buffers: mode } : {}),
      }, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Refuses an operation that would overflow a queue or whose signal already fired; counts it otherwise. */
  #admit(options: ResolvedCallOptions | undefined): void {
    if (options?.signal?.aborted === true) throw abortedError(this.key, options.signal);
    this.#deps.queue.take();
  }

  /**
   * Gives the session a fresh instance (`_initialize` runs again), after the calls already made.
   * This is how a lost session comes back. With isolation `'worker'` the instance is shared: a live
   * session keeps it (other sessions' state is not wiped), a lost one binds to a fresh shared instance.
   */
  reset(): Promise<void> {
    return this.#reset(true);
  }

  /** @internal The pool's own reset (`onTrap: 'reset'`): never refused for a full queue. */
  autoReset(): Promise<void> {
    return this.#reset(false);
  }

  #reset(bounded: boolean): Promise<void> {
    const { entry, instances, queue } = this.#deps;
    try {
      this.#assertUsable();
      if (instances.isolation === 'worker' && entry.lostCause === undefined) return Promise.resolve();
      if (bounded) queue.take();
      else queue.takeUnbounded();
      this.#claim(() => instances.reset(entry));
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#enqueue({ kind: 'open', instanceId: entry.instanceId, epoch: entry.epoch }, undefined);
  }

  /**
   * A snapshot of the session's state, taken after the calls already made (and before any made later):
   * its linear memory, globals and the pool's state for its instance, as bytes for {@link restore} in
   * this or another pool of the same module, in this process or another, on any supported Node.js.
   * A session that has made no call yet has its instance started first. Rejects with
   * `ERR_NOT_SNAPSHOTTABLE` when the pool cannot snapshot (the error names every reason; see
   * `pool.spec.snapshot`), `ERR_SESSION_LOST` for a lost session.
   */
  snapshot(): Promise<Uint8Array> {
    try {
      const what = `session ${JSON.stringify(this.key)}: snapshot`;
      this.#assertUsable();
      this.#deps.snapshots.assertPossible(what);
      const cause = this.#deps.entry.lostCause;
      if (cause !== undefined) throw sessionLostError(this.key, cause);
      this.#admit(undefined);
      const open = this.#claimStart();
      const { instanceId, epoch } = this.#deps.entry;
      return this.#enqueue({ kind: 'snapshot', instanceId, epoch, open }, undefined);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Replaces the session's instance, after the calls already made, with one restored from `snapshot`
   * (from {@link snapshot}): later calls continue from the state it holds; `_initialize` does not run.
   * Like {@link reset} it brings a lost session back. The bytes are checked and copied now: rejects with
   * `ERR_INVALID_SNAPSHOT` (truncated, corrupt, not a snapshot) or `ERR_SNAPSHOT_MISMATCH` (another
   * module) and the session is untouched. A snapshot that passes those checks but cannot be restored on
   * the worker (its memory cannot be allocated, the pool's WASI configuration differs) loses the session
   * with that code, as a failed `reset()` would.
   */
  restore(snapshot: Uint8Array): Promise<void> {
    const { entry, instances, queue } = this.#deps;
    let bytes: Uint8Array;
    try {
      const what = `session ${JSON.stringify(this.key)}: restore`;
      this.#assertUsable();
      bytes = this.#deps.snapshots.check(snapshot, what);
      queue.take();
      this.#claim(() => instances.reset(entry));
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#enqueue({ kind: 'restore', instanceId: entry.instanceId, epoch: entry.epoch, snapshot: bytes }, undefined);
  }

  /**
   * Ends the session after the calls already made: its instance is discarded and its key forgotten,
   * so `pool.session(key)` later starts afresh. Later calls on this handle reject with `ERR_SESSION_CLOSED`.
   */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    const { entry, instances, directory, queue } = this.#deps;
    directory.remove(this);
    if (!instances.forget(entry)) return Promise.resolve();
    // Closing never fails for a full queue: it is counted, not refused.
    queue.takeUnbounded();
    // A drop fails only when its instance went anyway (its thread died, the pool stopped): closed all the same.
    return this.#enqueue({ kind: 'drop', instanceId: entry.instanceId, epoch: entry.epoch }, undefined).then(() => undefined, () => undefined);
  }

  #assertUsable(): void {
    this.#deps.admission.assertAccepting();
    if (this.#closed) throw new SessionClosedError(`session ${JSON.stringify(this.key)} is closed`, { sessionKey: this.key });
  }

  #prepare(name: string): Callable {
    this.#assertUsable();
    const callable = this.#deps.exports.lookup(name);
    const cause = this.#deps.entry.lostCause;
    if (cause !== undefined) throw sessionLostError(this.key, cause);
    return callable;
  }

  /**
   * True for the first operation queued for the current epoch: it is the one allowed to create the
   * instance, if `maxInstances` leaves room (else it throws, the operation's queue place given back).
   */
  #claimStart(): boolean {
    const { entry, instances } = this.#deps;
    if (entry.startQueued) return false;
    return this.#claim(() => instances.claimStart(entry));
  }

  /** Counts the instance an admitted operation will start; refused past `maxInstances`, with its queue place given back. */
  #claim<T>(claim: () => T): T {
    try {
      return claim();
    } catch (error) {
      this.#deps.queue.give();
      throw error;
    }
  }

  /** Queues an admitted operation for the worker. */
  #enqueue(op: Op, options: ResolvedCallOptions | undefined): Promise<never> {
    // One shared executor: a call allocates its promise and resolving functions, not a closure as well.
    const promise = new Promise<never>(capture);
    const timeout = options === undefined ? this.#deps.callTimeout : options.timeout;
    // 0 stands for "no limit" on the job: a small integer, where Infinity would be a boxed number.
    const job = new SessionJob(this.#deps, op, timeout === Number.POSITIVE_INFINITY ? 0 : timeout, captured.resolve, captured.reject);
    if (options?.signal !== undefined) job.watch(options.signal);
    this.#deps.worker.submit(job);
    return promise;
  }
}

/** The resolving functions of the promise {@link capture} last ran for (read right after `new Promise`). */
const captured: { resolve: (value: unknown) => void; reject: (error: unknown) => void } = { resolve: () => {}, reject: () => {} };

function capture(resolve: (value: never) => void, reject: (error: unknown) => void): void {
  captured.resolve = resolve as (value: unknown) => void;
  captured.reject = reject;
}

/** Session keys are strings of 1 to 1024 characters. */
export function checkSessionKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > 1024) {
    throw new InvalidArgumentError(`Expected the session key to be a string of 1 to 1024 characters, got ${typeof key === 'string' ? `a string of ${key.length}` : typeof key}`);
  }
  return key;
}
