// A handle for one session key: every call of the key runs in submission order, one at a time,
// on the same reactor instance, until that instance is lost (then calls reject until `reset()`).

import { checkArgs, type Callable } from './arguments.js';
import {
  AbortedError, InvalidArgumentError, QueueFullError, ReactorPoolError, SessionClosedError,
  SessionLostError, deserializeError, errorForSession,
} from './errors.js';
import { checkBufferArgs, checkResultMode } from './buffers.js';
import {
  resolveCallOptions, type CallArg, type CallOptions, type ResolvedCallOptions, type SessionCalls, type TypedArgs,
  type TypedResults,
} from './call-options.js';
import { ownCallArgs, takeCallManyList } from './owned-arguments.js';
import { watchSignal } from './signal-watchers.js';
import {
  Status, type AllocatorKind, type Failure, type OkWithOutput, type Op, type OutputChunk, type ResultMode,
} from './protocol.js';
import type { Job } from './job.js';
import type { WorkerSlot } from './worker-slot.js';

/** What a session needs from its pool. */
export interface SessionHost {
  readonly isolation: 'session' | 'worker';
  readonly callTimeout: number;
  readonly maxQueuePerSession: number;
  /** The guest allocator for buffers, if the module exports one. */
  readonly allocator: AllocatorKind | undefined;
  /** Pool-wide count of operations queued or running, and its bound (`maxQueue`). */
  readonly queue: { pending: number; readonly max: number };
  exportFor(name: unknown): Callable;
  exportNameAt(index: number): string;
  /** Throws PoolClosedError once the pool stops accepting calls. */
  assertAccepting(): void;
  /** A never-used instance epoch. */
  nextEpoch(): number;
  /** A never-used session number (the worker's id for the session's instance). */
  nextSessionId(): number;
  /** The epoch of the slot's shared instance (isolation 'worker'). */
  sharedEpoch(slot: WorkerSlot): number;
  /** Counts a new instance for the session (or its worker's shared one); throws ERR_INSTANCE_LIMIT past `maxInstances`. */
  claimInstance(session: Session): void;
  /** The session's instance never started (the engine had no room for it); it is not lost. */
  startRefused(session: Session): void;
  /** The instance at (`slot`, `epoch`) is gone; mark every session that used it lost. */
  instanceLost(session: Session, epoch: number, cause: ReactorPoolError): void;
  deliverOutput(key: string, chunks: readonly OutputChunk[]): void;
  forget(session: Session): void;
}

/** A session's handle, from {@link ReactorPool.session}. */
export class Session {
  /** The session key. */
  readonly key: string;
  /** @internal */ readonly id: number;
  /** @internal */ readonly slot: WorkerSlot;
  /** @internal The instance epoch this session's calls target. */ epoch = -1;
  /** @internal The epoch whose instance-creating operation has been queued. */ openQueuedEpoch = -1;
  /** @internal The epoch whose instance-creating operation has reached the worker. */ openSentEpoch = -1;
  /** @internal Why the instance at `epoch` was lost, until `reset()`. */ lostCause: ReactorPoolError | undefined;
  /** @internal Operations queued or running. */ pending = 0;
  #closed = false;
  /** The engine refused to start an instance of this session: its worker keeps a record of that until dropped. */
  #startWasRefused = false;
  readonly #host: SessionHost;

  /** @internal */
  constructor(key: string, slot: WorkerSlot, host: SessionHost) {
    this.key = key;
    this.id = host.nextSessionId();
    this.slot = slot;
    this.#host = host;
    this.epoch = host.isolation === 'session' ? host.nextEpoch() : host.sharedEpoch(slot);
  }

  /** True once the session's instance is lost; calls reject with `ERR_SESSION_LOST` until {@link reset}. */
  get lost(): boolean {
    return this.lostCause !== undefined;
  }

  /** The worker (0-based) this session's instance lives on. */
  get workerId(): number {
    return this.slot.id;
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
    const resolved = resolveCallOptions(options, this.#host.callTimeout);
    return {
      call: (name: string, ...args: CallArg[]) => this.#call(name, args, resolved),
      callMany: (name: string, list: unknown) => this.#callMany(name, list, resolved),
    };
  }

  #call(name: string, args: CallArg[], options: ResolvedCallOptions | undefined): Promise<never> {
    try {
      const callable = this.#prepare(name);
      const mode = options?.result ?? callable.result;
      let buffers: ResultMode | undefined;
      // `args` is this call's own rest array: once its buffers are copied, nothing in it is the caller's.
      const buffered = ownCallArgs(callable, args);
      if (mode === 'value' && !buffered) {
        checkArgs(callable, args);
      } else {
        checkBufferArgs(callable, args, this.#host.allocator);
        checkResultMode(callable, mode, this.#host.allocator);
        buffers = mode;
      }
      this.#admit(options);
      const open = this.#claimOpen();
      return this.#enqueue({
        kind: 'call', instanceId: this.#instanceId(), epoch: this.epoch, open, exportIndex: callable.index, args,
        ...(buffers === undefined ? {} : { buffers }),
      }, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #callMany(name: string, list: unknown, options: ResolvedCallOptions | undefined): Promise<never> {
    try {
      const callable = this.#prepare(name);
      const mode = options?.result ?? callable.result;
      const { argsList, typedResult, buffers } = takeCallManyList(callable, list, this.#host.allocator);
      const throughMemory = mode !== 'value' || buffers;
      if (throughMemory) {
        if (typedResult !== undefined) {
          throw new InvalidArgumentError(
            `callMany with result '${mode}' takes an array of arguments or tuples, not a typed array`,
            { exportName: callable.name },
          );
        }
        checkResultMode(callable, mode, this.#host.allocator);
      }
      this.#admit(options);
      const open = this.#claimOpen();
      return this.#enqueue({
        kind: 'callMany', instanceId: this.#instanceId(), epoch: this.epoch, open, exportIndex: callable.index, argsList,
        ...(typedResult === undefined ? {} : { typedResult }),
        ...(throughMemory ? { buffers: mode } : {}),
      }, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Refuses an operation that would overflow a queue or whose signal already fired; counts it otherwise. */
  #admit(options: ResolvedCallOptions | undefined): void {
    if (options?.signal?.aborted === true) throw this.abortedError(options.signal);
    if (this.pending >= this.#host.maxQueuePerSession) {
      throw new QueueFullError(
        `session ${JSON.stringify(this.key)} has ${this.pending} operations queued or running, the maxQueuePerSession limit; retry once some settle`,
        { sessionKey: this.key, limit: this.#host.maxQueuePerSession },
      );
    }
    const queue = this.#host.queue;
    if (queue.pending >= queue.max) {
      throw new QueueFullError(
        `the pool has ${queue.pending} operations queued or running, the maxQueue limit; retry once some settle`,
        { sessionKey: this.key, limit: queue.max },
      );
    }
    queue.pending++;
    this.pending++;
  }

  #admitUnbounded(): void {
    this.#host.queue.pending++;
    this.pending++;
  }

  /** @internal The error for a call whose signal fired before it reached its worker. */
  abortedError(signal: AbortSignal): AbortedError {
    const why = abortReason(signal);
    return new AbortedError(`session ${JSON.stringify(this.key)}: the call was aborted before it reached its worker${why}; nothing ran`, { sessionKey: this.key });
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
    try {
      this.#assertUsable();
      if (this.#host.isolation === 'worker' && this.lostCause === undefined) return Promise.resolve();
      if (bounded) this.#admit(undefined);
      else this.#admitUnbounded();
      this.#claimInstance();
    } catch (error) {
      return Promise.reject(error);
    }
    this.epoch = this.#host.isolation === 'worker' ? this.#host.sharedEpoch(this.slot) : this.#host.nextEpoch();
    this.lostCause = undefined;
    this.openQueuedEpoch = this.epoch;
    return this.#enqueue({ kind: 'open', instanceId: this.#instanceId(), epoch: this.epoch }, undefined);
  }

  /**
   * Ends the session after the calls already made: its instance is discarded and its key forgotten,
   * so `pool.session(key)` later starts afresh. Later calls on this handle reject with `ERR_SESSION_CLOSED`.
   */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#host.forget(this);
    const workerHasEntry = this.openQueuedEpoch === this.epoch || this.#startWasRefused;
    if (this.#host.isolation === 'worker' || !workerHasEntry) return Promise.resolve();
    // Closing never fails for a full queue: it is counted, not refused.
    this.#admitUnbounded();
    // A drop fails only when its instance went anyway (its thread died, the pool stopped): closed all the same.
    return this.#enqueue({ kind: 'drop', instanceId: this.id, epoch: this.epoch }, undefined).then(() => undefined, () => undefined);
  }

  /** The worker's name for this session's instance: its own number, or 0 for the shared instance. */
  #instanceId(): number {
    return this.#host.isolation === 'session' ? this.id : 0;
  }

  #assertUsable(): void {
    this.#host.assertAccepting();
    if (this.#closed) throw new SessionClosedError(`session ${JSON.stringify(this.key)} is closed`, { sessionKey: this.key });
  }

  #prepare(name: string): Callable {
    this.#assertUsable();
    const callable = this.#host.exportFor(name);
    if (this.lostCause !== undefined) throw this.lostError(this.lostCause);
    return callable;
  }

  /** @internal The error for a call refused because the instance was lost. */
  lostError(cause: ReactorPoolError): SessionLostError {
    return new SessionLostError(
      `session ${JSON.stringify(this.key)} has lost its instance (${cause.code}: ${cause.message}); call session.reset() to start a fresh one`,
      { sessionKey: this.key },
      cause,
    );
  }

  /**
   * True for the first operation queued for the current epoch: it is the one allowed to create the
   * instance, if `maxInstances` leaves room (else it throws, the operation's queue place given back).
   */
  #claimOpen(): boolean {
    if (this.openQueuedEpoch === this.epoch) return false;
    this.#claimInstance();
    this.openQueuedEpoch = this.epoch;
    return true;
  }

  /** Counts the instance an admitted operation will start; refused past `maxInstances`, with its queue place given back. */
  #claimInstance(): void {
    try {
      this.#host.claimInstance(this);
    } catch (error) {
      this.released();
      throw error;
    }
  }

  /** Queues an admitted operation for the worker. */
  #enqueue(op: Op, options: ResolvedCallOptions | undefined): Promise<never> {
    return new Promise((resolve, reject) => {
      const timeout = options === undefined ? this.#host.callTimeout : options.timeout;
      // 0 stands for "no limit" on the job: a small integer, where Infinity would be a boxed number.
      const job = new SessionJob(this, op, timeout === Number.POSITIVE_INFINITY ? 0 : timeout, resolve as (value: unknown) => void, reject);
      if (options?.signal !== undefined) job.watch(options.signal);
      this.slot.submit(job);
    });
  }

  /** @internal The name of the export at `index`, for messages. */
  exportName(index: number): string {
    return this.#host.exportNameAt(index);
  }

  /** @internal An operation of this session settled. */
  released(): void {
    this.pending--;
    this.#host.queue.pending--;
  }

  /** @internal The instance at `epoch` is lost because of `cause`. */
  loseInstance(epoch: number, cause: ReactorPoolError): void {
    this.#host.instanceLost(this, epoch, cause);
  }

  /** The worker had no room to start the instance `op` was to create: the next call tries again. */
  #startRefused(op: Op): void {
    const creating = op.kind === 'open' || (op.kind !== 'drop' && op.open);
    if (!creating || op.epoch !== this.epoch || this.openQueuedEpoch !== op.epoch || this.lostCause !== undefined) return;
    this.openQueuedEpoch = -1;
    this.openSentEpoch = -1;
    this.#startWasRefused = true;
    this.#host.startRefused(this);
  }

  /** @internal Delivers a result: resolves, or rejects and applies the loss rule. */
  deliver(job: SessionJob, status: Status, payload: unknown): void {
    if (status === Status.Ok) {
      job.resolveWith(payload);
      return;
    }
    if (status === Status.OkWithOutput) {
      const { value, output } = payload as OkWithOutput;
      this.#host.deliverOutput(this.key, output);
      job.resolveWith(value);
      return;
    }
    const failure = payload as Failure;
    if (failure.output !== undefined) this.#host.deliverOutput(this.key, failure.output);
    const error = deserializeError(failure.error);
    error.message = `session ${JSON.stringify(this.key)}: ${error.message}`;
    error.sessionKey = this.key;
    if (error.code === 'ERR_INSTANCE_LIMIT') this.#startRefused(job.op);
    if (failure.lost) {
      const cause = error instanceof SessionLostError && error.cause instanceof ReactorPoolError ? error.cause : error;
      cause.sessionKey ??= this.key;
      this.#host.instanceLost(this, job.op.epoch, cause);
    }
    job.rejectWith(error);
  }
}

/** The job has been handed to its worker. */
const SENT = 1;
/** The job's promise has settled and its queue places were given back. */
const SETTLED = 2;
/** The job was aborted while queued but was to create the instance: it goes as an open instead. */
const STAND_IN = 4;

/** Whether `op` creates its instance (an open, or the first call of an epoch). */
function creates(op: Op): boolean {
  return op.kind === 'open' || (op.kind !== 'drop' && op.open);
}

/** One operation of a session on its way to the worker. */
class SessionJob implements Job {
  op: Op;
  /** {@link SENT}, {@link SETTLED} and {@link STAND_IN} bits: one small integer keeps the per-call object lean. */
  #flags = 0;
  #unwatch: (() => void) | undefined;

  constructor(
    readonly session: Session,
    op: Op,
    /** Milliseconds the operation may run; 0 for no limit. */
    readonly timeout: number,
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: unknown) => void,
  ) {
    this.op = op;
  }

  /** Rejects the job with ERR_ABORTED if `signal` fires while it is still queued. */
  watch(signal: AbortSignal): void {
    this.#unwatch = watchSignal(signal, () => {
      if ((this.#flags & SENT) !== 0) return;
      this.rejectWith(this.session.abortedError(signal));
    });
  }

  beforeSend(): boolean {
    const { session, op } = this;
    if ((this.#flags & SETTLED) !== 0) {
      // Aborted while queued. If it was to create the instance, the instance is still created (calls
      // behind it count on that), but the export is not called: an open stands in for it.
      if ((this.#flags & STAND_IN) === 0) {
        if ((op.kind !== 'call' && op.kind !== 'callMany') || !op.open) return false;
        this.op = { kind: 'open', instanceId: op.instanceId, epoch: op.epoch };
        this.#flags |= STAND_IN;
      }
      session.openSentEpoch = op.epoch;
      this.#flags |= SENT;
      return true;
    }
    if (session.lostCause !== undefined && op.epoch === session.epoch && op.kind !== 'drop') {
      this.rejectWith(session.lostError(session.lostCause));
      return false;
    }
    if (creates(op)) session.openSentEpoch = op.epoch;
    this.#flags |= SENT;
    return true;
  }

  notTaken(): void {
    this.#flags &= ~SENT;
    // Nothing of its epoch reached a thread: the instance it was to create does not exist anywhere.
    if (creates(this.op) && this.session.openSentEpoch === this.op.epoch) this.session.openSentEpoch = -1;
  }

  settle(status: Status, payload: unknown): void {
    this.session.deliver(this, status, payload);
  }

  fail(error: ReactorPoolError, lost: boolean): void {
    const { session, op } = this;
    if (!lost && session.lostCause !== undefined && op.epoch === session.epoch && op.kind !== 'drop') {
      // The session was already lost by another of its calls (a runaway one): this one carries that.
      this.rejectWith(session.lostError(session.lostCause));
      return;
    }
    const own = lost ? error : errorForSession(error, this.session.key);
    own.sessionKey ??= this.session.key;
    if (lost) this.session.loseInstance(this.op.epoch, own);
    this.rejectWith(own);
  }

  describe(): string {
    const { op } = this;
    const name = op.kind === 'open' ? '_initialize' : op.kind === 'drop' ? 'close' : this.session.exportName(op.exportIndex);
    return `session ${JSON.stringify(this.session.key)}: ${op.kind === 'callMany' ? 'callMany of ' : ''}\`${name}\``;
  }

  resolveWith(value: unknown): void {
    if (this.#finish()) this.resolve(value);
  }

  rejectWith(error: unknown): void {
    if (this.#finish()) this.reject(error);
  }

  /** Marks the job settled once; false if it already was (an aborted job's late outcome). */
  #finish(): boolean {
    if ((this.#flags & SETTLED) !== 0) return false;
    this.#flags |= SETTLED;
    if (this.#unwatch !== undefined) {
      this.#unwatch();
      this.#unwatch = undefined;
    }
    this.session.released();
    return true;
  }
}

/**
 * `: message` of the signal's reason, if it is an Error. This runs in the signal's 'abort' listener, where
 * a throw would be an uncaught exception: a reason (or a getter) that throws is not shown instead.
 */
function abortReason(signal: AbortSignal): string {
  try {
    const reason: unknown = signal.reason;
    return reason instanceof Error ? `: ${String(reason.message)}` : '';
  } catch {
    return '';
  }
}

/** Session keys are strings of 1 to 1024 characters. */
export function checkSessionKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > 1024) {
    throw new InvalidArgumentError(`Expected the session key to be a string of 1 to 1024 characters, got ${typeof key === 'string' ? `a string of ${key.length}` : typeof key}`);
  }
  return key;
}
