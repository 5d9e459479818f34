// A handle for one session key: every call of the key runs in submission order, one at a time,
// on the same reactor instance, until that instance is lost (then calls reject until `reset()`).

import { checkArgList, checkArgs, lookupExport, type Callable } from './arguments.js';
import {
  InvalidArgumentError, ReactorPoolError, SessionClosedError, SessionLostError, WorkerFailedError, deserializeError,
} from './errors.js';
import { Status, type Failure, type OkWithOutput, type Op, type OutputChunk, type WasmValue } from './protocol.js';
import type { Job, WorkerSlot } from './worker-slot.js';

/** Typed arrays `callMany` takes for one-parameter exports. */
export type TypedArgs =
  | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array
  | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

/** What `callMany` returns for typed input, by the export's result type: i32, f32, f64, i64. */
export type TypedResults = Int32Array | Float32Array | Float64Array | BigInt64Array;

/** What a session needs from its pool. */
export interface SessionHost {
  readonly isolation: 'session' | 'worker';
  exportFor(name: unknown): Callable;
  /** Throws PoolClosedError once the pool stops accepting calls. */
  assertAccepting(): void;
  /** A never-used instance epoch. */
  nextEpoch(): number;
  /** A never-used session number (the worker's name for the session's instance slot). */
  nextSessionId(): number;
  /** The epoch of the slot's shared instance (isolation 'worker'). */
  sharedEpoch(slot: WorkerSlot): number;
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
  #closed = false;
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
   * Calls an export with arguments matching its signature (i32/f32/f64 as numbers, i64 as bigints).
   * Resolves with its result: a number, a bigint for i64, `undefined` for none, an array for several.
   * @typeParam R - the result type you expect.
   */
  call<R = number>(name: string, ...args: WasmValue[]): Promise<R> {
    try {
      const callable = this.#prepare(name);
      checkArgs(callable, args);
      const open = this.#claimOpen();
      return this.#enqueue({ kind: 'call', slot: this.#slotNumber(), epoch: this.epoch, open, exportIndex: callable.index, args });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Calls an export once per item, in order, in one trip to the worker. `list` is an array of argument
   * tuples, an array of single arguments (one-parameter exports), or a typed array (one parameter and
   * one result: the results come back in a typed array of the result type, e.g. i32 → `Int32Array`).
   * Stops at the first failing call: the error's `completed` says how many calls ran before it.
   */
  callMany<R extends TypedResults = Int32Array>(name: string, list: TypedArgs): Promise<R>;
  callMany<R = number>(name: string, list: readonly (WasmValue | readonly WasmValue[])[]): Promise<R[]>;
  callMany(name: string, list: unknown): Promise<unknown> {
    try {
      const callable = this.#prepare(name);
      const typedResult = checkArgList(callable, list);
      const argsList = list as readonly (readonly WasmValue[])[];
      const open = this.#claimOpen();
      return this.#enqueue({
        kind: 'callMany', slot: this.#slotNumber(), epoch: this.epoch, open, exportIndex: callable.index, argsList,
        ...(typedResult === undefined ? {} : { typedResult }),
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Gives the session a fresh instance (`_initialize` runs again), after the calls already made.
   * This is how a lost session comes back. With isolation `'worker'` the instance is shared: a live
   * session keeps it (other sessions' state is not wiped), a lost one binds to a fresh shared instance.
   */
  reset(): Promise<void> {
    try {
      this.#assertUsable();
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#host.isolation === 'worker') {
      if (this.lostCause === undefined) return Promise.resolve();
      this.epoch = this.#host.sharedEpoch(this.slot);
    } else {
      this.epoch = this.#host.nextEpoch();
    }
    this.lostCause = undefined;
    this.openQueuedEpoch = this.epoch;
    return this.#enqueue({ kind: 'open', slot: this.#slotNumber(), epoch: this.epoch }) as Promise<void>;
  }

  /**
   * Ends the session after the calls already made: its instance is discarded and its key forgotten,
   * so `pool.session(key)` later starts afresh. Later calls on this handle reject with `ERR_SESSION_CLOSED`.
   */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#host.forget(this);
    if (this.#host.isolation === 'worker' || this.openQueuedEpoch !== this.epoch) return Promise.resolve();
    return this.#enqueue({ kind: 'drop', slot: this.id, epoch: this.epoch }).then(() => undefined);
  }

  /** The worker's name for this session's instance: its own number, or 0 for the shared instance. */
  #slotNumber(): number {
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

  /** True for the first operation queued for the current epoch: it is the one allowed to create the instance. */
  #claimOpen(): boolean {
    const open = this.openQueuedEpoch !== this.epoch;
    this.openQueuedEpoch = this.epoch;
    return open;
  }

  #enqueue(op: Op): Promise<never> {
    return new Promise((resolve, reject) => {
      this.slot.submit(new SessionJob(this, op, resolve as (value: unknown) => void, reject));
    });
  }

  /** @internal Delivers a result: resolves, or rejects and applies the loss rule. */
  deliver(job: SessionJob, status: Status, payload: unknown): void {
    if (status === Status.Ok) {
      job.resolve(payload);
      return;
    }
    if (status === Status.OkWithOutput) {
      const { value, output } = payload as OkWithOutput;
      this.#host.deliverOutput(this.key, output);
      job.resolve(value);
      return;
    }
    const failure = payload as Failure;
    if (failure.output !== undefined) this.#host.deliverOutput(this.key, failure.output);
    const error = deserializeError(failure.error);
    error.message = `session ${JSON.stringify(this.key)}: ${error.message}`;
    error.sessionKey = this.key;
    if (failure.lost) {
      const cause = error instanceof SessionLostError && error.cause instanceof ReactorPoolError ? error.cause : error;
      cause.sessionKey ??= this.key;
      this.#host.instanceLost(this, job.op.epoch, cause);
    }
    job.reject(error);
  }
}

/** One operation of a session on its way to the worker. */
class SessionJob implements Job {
  constructor(
    readonly session: Session,
    readonly op: Op,
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: unknown) => void,
  ) {}

  beforeSend(): boolean {
    const { session, op } = this;
    if (session.lostCause !== undefined && op.epoch === session.epoch && op.kind !== 'drop') {
      this.reject(session.lostError(session.lostCause));
      return false;
    }
    if (op.kind === 'open' || (op.kind !== 'drop' && op.open)) session.openSentEpoch = op.epoch;
    return true;
  }

  settle(status: Status, payload: unknown): void {
    this.session.deliver(this, status, payload);
  }

  fail(error: ReactorPoolError): void {
    error.sessionKey ??= this.session.key;
    this.reject(error);
  }
}

/** Session keys are strings of 1 to 1024 characters. */
export function checkSessionKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > 1024) {
    throw new InvalidArgumentError(`Expected the session key to be a string of 1 to 1024 characters, got ${typeof key === 'string' ? `a string of ${key.length}` : typeof key}`);
  }
  return key;
}
