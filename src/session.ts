// A handle for one session key: every call of the key runs in submission order, one at a time,
// on the same reactor instance, until that instance is lost (then calls reject until `reset()`).

import { checkArgs, type Callable } from './arguments.js';
import { InvalidArgumentError, SessionClosedError, type ReactorPoolError } from './errors.js';
import { checkBufferArgs, checkResultMode } from './buffers.js';
import { resolveCallOptions, type CallArg, type CallOptions, type ResolvedCallOptions } from './call-options.js';
import type {
  ExportArgs, ExportResult, ManyItem, NameIn, NoResultModes, ResultModeOf, SessionCalls, TypedArgsFor, TypedListName, TypedResultOf,
  UntypedExports, OnlyParam, ReturnOf,
} from './export-types.js';
import { ownCallArgs, takeCallManyList } from './owned-arguments.js';
import type { CallOp, Op, ResultMode, WasmValue, BufferArg } from './protocol.js';
import { sessionLostError, type InstanceEntry, type InstanceTable } from './instance-table.js';
import type { Admission, SessionQueue } from './admission.js';
import type { ExportCatalog } from './export-catalog.js';
import type { OutputRouter } from './output-router.js';
import type { SessionDirectory } from './session-directory.js';
import type { WorkerSlot } from './worker-slot.js';
import { SessionJob, abortedError } from './session-job.js';
import { watchSignal } from './signal-watchers.js';
import type { SnapshotSupport } from './snapshot-support.js';
import type { Hibernation } from './hibernation.js';
import type { DurableSession } from './durable-session.js';
import { rebuildSession, resendParked } from './session-rebuild.js';
import { hibernateSession, wakeFromStore } from './session-hibernation.js';
import type { SessionInternals } from './session-internals.js';
import type { PoolMeter } from './pool-metrics.js';
import { tickNow } from './tick-clock.js';

/** What a session is wired to, given by its pool; its jobs share it. */
export interface SessionDeps {
  /** The session key. */
  readonly key: string;
  /** The worker position its operations go to (changed only by {@link Session.moveTo}). */
  worker: WorkerSlot;
  /** Its binding to an instance: identity, start, loss (read here, changed only by {@link instances}; replaced by a move). */
  entry: InstanceEntry;
  /** The worker placement picks for the session now (a hibernated session wakes there). */
  readonly place: (key: string) => WorkerSlot;
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
  /** The hibernation policy and store; undefined when sessions do not hibernate. */
  readonly hibernation: Hibernation | undefined;
  /** Tells the pool a session hibernated or woke (its events and stats). */
  readonly events: SessionEvents;
  /** Every session's gate (operations held back while it hibernates or wakes): the pool waits for them before it stops. */
  readonly gates: Set<Promise<void>>;
  /** Under durability: the session's journal side (undefined without durability). */
  readonly durable: DurableSession | undefined;
  /** The pool's running totals (calls settled, their timings). */
  readonly meter: PoolMeter;
}

/** What a session tells its pool about its hibernation. */
export interface SessionEvents {
  hibernated(key: string, bytes: number): void;
  restored(key: string, workerId: number): void;
  /** Durability: the session was rebuilt from its snapshot and `records` journal records. */
  recovered(key: string, workerId: number, records: number): void;
}

/**
 * A session's handle, from {@link ReactorPool.session}. `E` describes the module's exports (see
 * `reactor-pool types`) and `M` the pool's `results` option; without them calls are typed loosely.
 */
export class Session<E extends object = UntypedExports, M = NoResultModes> {
  /** The session key. */
  readonly key: string;
  readonly #deps: SessionDeps;
  #closed = false;
  /**
   * Set while the session hibernates or wakes (or waits for room to start an instance): operations
   * made meanwhile are held, in order, behind it. Undefined on the fast path.
   */
  #gate: Promise<void> | undefined;
  /** The hibernation under way, if any (a recycle asking for one then waits for it). */
  #hibernating: Promise<boolean> | undefined;
  /** @internal Operations made so far (the hibernation policy watches it change): calls and snapshots admitted. */
  ops = 0;
  /** @internal When the last of them was admitted (a tick reading), -1 before any. */
  lastCallAt = -1;

  /** @internal `after`: the previous session of the key is still closing; operations wait for it. */
  constructor(deps: SessionDeps, after?: Promise<void>) {
    this.key = deps.key;
    this.#deps = deps;
    if (deps.durable !== undefined) deps.durable.onParked = () => this.#scheduleRebuild();
    if (after !== undefined) this.#hold(after);
  }

  /** True once the session's instance is lost; calls reject with `ERR_SESSION_LOST` until {@link reset}. */
  get lost(): boolean {
    return this.#deps.entry.lostCause !== undefined;
  }

  /** True while the session's state is in the snapshot store rather than in an instance; its next operation restores it. */
  get hibernated(): boolean {
    return this.#deps.entry.hibernated;
  }

  /** @internal Awake with an instance, nothing queued or running, nothing held: hibernating it makes nobody wait. */
  get idle(): boolean {
    const { entry, queue } = this.#deps;
    return !this.#closed && this.#gate === undefined && entry.lostCause === undefined && !entry.hibernated && entry.startQueued && queue.pending === 0;
  }

  /** @internal Whether an instance of the session is (or is about to be) on its worker: started, not hibernated, not lost. */
  get hasInstance(): boolean {
    const { entry } = this.#deps;
    return entry.startQueued && !entry.hibernated && entry.lostCause === undefined;
  }

  /**
   * @internal Places the session on `worker`. Only while nothing of it is on its current worker: it is
   * hibernated, lost, or has not started an instance (operations of a lost one still settle by its entry).
   */
  moveTo(worker: WorkerSlot): void {
    const { instances } = this.#deps;
    // A closing session stays where it is: its key may already belong to the key's next session.
    if (worker === this.#deps.worker || this.#closed) return;
    if (this.hasInstance) {
      throw new InvalidArgumentError(`session ${JSON.stringify(this.key)} has an instance on worker ${this.#deps.worker.id}: it moves by hibernating`);
    }
    this.#deps.entry = instances.attach(instances.detach(this.#deps.entry), worker.id);
    this.#deps.worker = worker;
  }

  /** @internal Durability: the session's journal side (undefined without durability). */
  get durable(): DurableSession | undefined {
    return this.#deps.durable;
  }

  /**
   * @internal Durability (eager recovery): rebuilds a session the store holds state for now, rather
   * than at its first operation. Resolves once rebuilt (or lost).
   */
  wakeUp(): Promise<void> {
    if (this.#closed || !this.#deps.entry.hibernated) return Promise.resolve();
    const gate = (this.#gate ?? Promise.resolve()).then(async () => {
      const { entry } = this.#deps;
      if (entry.hibernated && entry.lostCause === undefined && !this.#closed) await this.#wake();
    });
    this.#hold(gate);
    return gate;
  }

  /** The worker (0-based) this session's instance lives on. */
  get workerId(): number {
    return this.#deps.worker.id;
  }

  /**
   * Calls an export with arguments matching its signature (i32/f32/f64 as numbers, i64 as bigints; a
   * `Uint8Array` or a string fills two i32 parameters, pointer and length, through guest memory).
   * Resolves with its result: a number, a bigint for i64, `undefined` for none, an array for several
   * (or bytes or a string, with `session.with({ result })` or the pool's `results` option). With an
   * exports type (`ReactorPool.create<Exports>`) the name, the arguments and the result are typed by it.
   */
  call<K extends NameIn<E, undefined>>(name: K, ...args: ExportArgs<E, K>): Promise<ExportResult<E, M, K, undefined>>;
  call(name: string, ...args: unknown[]): Promise<never> {
    // Checked against the export's signature before anything is sent (`ERR_INVALID_ARGUMENT`).
    return this.#call(name, args as CallArg[], undefined);
  }

  /**
   * Calls an export once per item, in order, in one trip to the worker. `list` is an array of argument
   * tuples, an array of single arguments (one-parameter exports), or a typed array (one parameter and
   * one result: the results come back in a typed array of the result type, e.g. i32 → `Int32Array`).
   * Stops at the first failing call: the error's `completed` says how many calls ran before it.
   * A timeout applies to the whole list.
   */
  callMany<K extends TypedListName<E, M, undefined>>(name: K, list: TypedArgsFor<OnlyParam<E, K>>): Promise<TypedResultOf<ReturnOf<E, K>>>;
  callMany<K extends NameIn<E, undefined>>(name: K, list: readonly ManyItem<ExportArgs<E, K>>[]): Promise<ExportResult<E, M, K, undefined>[]>;
  callMany(name: string, list: unknown): Promise<never> {
    return this.#callMany(name, list, undefined);
  }

  /**
   * This session's `call` and `callMany` with per-call options: an `AbortSignal`, a timeout, how to
   * read the result. `session.with({ signal }).call('inc', 1)`; `session.with({ result: 'string' })`
   * calls resolve with strings. Options are checked now (`ERR_INVALID_OPTION`).
   */
  with<const O extends CallOptions>(options: O & { readonly [K in Exclude<keyof O, keyof CallOptions>]: never }): SessionCalls<E, M, ResultModeOf<O>> {
    const resolved = resolveCallOptions(options, this.#deps.callTimeout, this.#deps.durable !== undefined);
    const calls: SessionCalls = {
      call: (name: string, ...args: CallArg[]) => this.#call(name, args, resolved),
      callMany: (name: string, list: unknown) => this.#callMany(name, list, resolved),
    };
    return calls as SessionCalls<E, M, ResultModeOf<O>>;
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
      const build = (): CallOp => this.#callOp(callable.index, args, buffers, options?.idempotencyKey);
      return this.#send(build, options);
    } catch (error) {
      this.#deps.meter.callRefused(error);
      return Promise.reject(error);
    }
  }

  #callOp(exportIndex: number, args: readonly (WasmValue | BufferArg)[], buffers: ResultMode | undefined, idempotencyKey: string | undefined): CallOp {
    const open = this.#claimStart();
    const { instanceId, epoch } = this.#deps.entry;
    // Literals rather than a spread: no throwaway object per call.
    if (idempotencyKey !== undefined) return { kind: 'call', instanceId, epoch, open, exportIndex, args, ...(buffers === undefined ? {} : { buffers }), idempotencyKey };
    return buffers === undefined
      ? { kind: 'call', instanceId, epoch, open, exportIndex, args }
      : { kind: 'call', instanceId, epoch, open, exportIndex, args, buffers };
  }

  /**
   * Admits a call (or callMany) and sends it, or holds it behind the gate. With an idempotency key,
   * a key already acknowledged (or out) settles it from that outcome instead; a held call looks once
   * it is through the gate (a session rebuilt after a restart learns its keys as it wakes).
   */
  #send(build: () => Op, options: ResolvedCallOptions | undefined): Promise<never> {
    const idempotencyKey = options?.idempotencyKey;
    if (idempotencyKey !== undefined && this.#gate === undefined && !this.#deps.entry.hibernated) {
      const recorded = this.#deps.durable?.recorded(idempotencyKey);
      if (recorded !== undefined) return recorded;
    }
    this.#admit(options);
    if (this.#mustWait(true, !this.#deps.entry.startQueued)) return this.#later(build, options, true, true);
    return this.#pending(idempotencyKey, this.#enqueue(build(), options));
  }

  /** Marks the call of `idempotencyKey` as out: a call with the same key made meanwhile gets its outcome. */
  #pending(idempotencyKey: string | undefined, promise: Promise<never>): Promise<never> {
    const history = this.#deps.durable?.history;
    if (idempotencyKey === undefined || history === undefined) return promise;
    history.pending.set(idempotencyKey, promise);
    // Settled: an acknowledged outcome is remembered by then; one never journaled may run again.
    const settled = (): void => {
      if (history.pending.get(idempotencyKey) === promise) history.pending.delete(idempotencyKey);
    };
    promise.then(settled, settled);
    return promise;
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
      const idempotencyKey = options?.idempotencyKey;
      const build = (): Op => {
        const open = this.#claimStart();
        const { instanceId, epoch } = this.#deps.entry;
        return {
          kind: 'callMany', instanceId, epoch, open, exportIndex: callable.index, argsList,
          ...(typedResult === undefined ? {} : { typedResult }),
          ...(throughMemory ? { buffers: mode } : {}),
          ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
        };
      };
      return this.#send(build, options);
    } catch (error) {
      this.#deps.meter.callRefused(error);
      return Promise.reject(error);
    }
  }

  /** Refuses an operation that would overflow a queue or whose signal already fired; counts it otherwise. */
  #admit(options: ResolvedCallOptions | undefined): void {
    if (options?.signal?.aborted === true) throw abortedError(this.key, options.signal);
    this.#deps.queue.take();
    this.ops++;
    this.lastCallAt = tickNow();
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
      const build = (): Op => {
        // Read when built: a held reset may follow a move.
        const current = this.#deps.entry;
        this.#claim(() => instances.reset(current));
        this.#replaced();
        return { kind: 'open', instanceId: current.instanceId, epoch: current.epoch };
      };
      if (this.#mustWait(false, true)) return this.#later(build, undefined, false);
      return this.#enqueue(build(), undefined);
    } catch (error) {
      return Promise.reject(error);
    }
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
      const build = (): Op => {
        const open = this.#claimStart();
        const { instanceId, epoch } = this.#deps.entry;
        return { kind: 'snapshot', instanceId, epoch, open };
      };
      if (this.#mustWait(true, !this.#deps.entry.startQueued)) return this.#later(build, undefined, true);
      return this.#enqueue(build(), undefined);
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
    const { instances, queue } = this.#deps;
    let bytes: Uint8Array;
    try {
      const what = `session ${JSON.stringify(this.key)}: restore`;
      this.#assertUsable();
      bytes = this.#deps.snapshots.check(snapshot, what);
      queue.take();
      const build = (): Op => {
        const current = this.#deps.entry;
        this.#claim(() => instances.reset(current));
        this.#replaced();
        return { kind: 'restore', instanceId: current.instanceId, epoch: current.epoch, snapshot: bytes };
      };
      if (this.#mustWait(false, true)) return this.#later(build, undefined, false);
      return this.#enqueue(build(), undefined);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Ends the session after the calls already made: its instance is discarded and its key forgotten,
   * so `pool.session(key)` later starts afresh. Later calls on this handle reject with `ERR_SESSION_CLOSED`.
   */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    // Held operations run first: the session ends after the calls already made.
    const gate = this.#gate;
    const closed = gate === undefined ? this.#end() : gate.then(() => this.#end());
    this.#deps.directory.remove(this.#untyped, closed.then(() => undefined, () => undefined));
    return closed;
  }

  async #end(): Promise<void> {
    const durable = this.#deps.durable;
    if (durable !== undefined) {
      // Its durable state goes first: a restart must not bring a closed session back.
      const written = await new Promise<ReactorPoolError | undefined>((resolve) => durable.durability.recordClose(durable.history, resolve));
      await this.#drop();
      if (written !== undefined) throw written;
      return;
    }
    await this.#drop();
  }

  #drop(): Promise<void> {
    const { entry, instances, queue, hibernation } = this.#deps;
    // A hibernated session's close is done once its snapshot is gone from the store.
    const discarded = entry.hibernated ? this.#forgetStored() : undefined;
    hibernation?.deactivated(this);
    if (!instances.forget(entry)) return discarded ?? Promise.resolve();
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
    const claimed = this.#claim(() => instances.claimStart(entry));
    if (claimed) this.#activated();
    return claimed;
  }

  /** The session's instance started (or is starting): the hibernation policy counts it active. */
  #activated(): void {
    this.#deps.hibernation?.activated(this);
  }

  /** A reset or restore replaced the session's instance (or its hibernated state): any snapshot of it in the store is stale. */
  #replaced(): void {
    void this.#forgetStored();
    this.#activated();
  }

  /**
   * Whether an operation must be held rather than sent now: something is held already, the session is
   * hibernated (`wakes`: the operation needs its state), or it `starts` an instance at the hard cap
   * while a hibernation can make room.
   */
  #mustWait(wakes: boolean, starts: boolean): boolean {
    if (this.#gate !== undefined) return true;
    const { entry, hibernation, instances } = this.#deps;
    if (hibernation === undefined) return false;
    if (wakes && entry.hibernated) return true;
    return (starts || entry.hibernated) && instances.live >= instances.maxInstances && hibernation.canMakeRoom();
  }

  /**
   * Holds an admitted operation behind the session's gate; once through, wakes the session if it
   * needs to (`wakes`), waits for room to start an instance, then builds the operation and sends it
   * (`call`: a call or callMany, counted in the metrics if it is rejected before it reaches its worker).
   */
  #later(build: () => Op, options: ResolvedCallOptions | undefined, wakes: boolean, call = false): Promise<never> {
    const queuedAt = tickNow();
    const promise = new Promise<never>(capture);
    const { resolve, reject } = captured;
    // A signal that fires while the operation is held rejects it at once, as for a queued one.
    let aborted = false;
    const signal = options?.signal;
    // A held call rejected before it reaches a job is counted here (a job counts its own outcome).
    const refuse = (error: unknown): void => {
      if (call) this.#deps.meter.callRefused(error);
      reject(error);
    };
    const unwatch = signal === undefined ? undefined : watchSignal(signal, () => {
      aborted = true;
      this.#deps.queue.give();
      refuse(abortedError(this.key, signal));
    });
    const gate = (this.#gate ?? Promise.resolve()).then(async () => {
      const { queue } = this.#deps;
      if (aborted) return;
      try {
        if (wakes && this.#deps.entry.hibernated && this.#deps.entry.lostCause === undefined) await this.#wake();
        // Read after the wake: it may have moved the session to another worker (a new entry).
        const { entry } = this.#deps;
        if (wakes && entry.lostCause !== undefined) throw sessionLostError(this.key, entry.lostCause);
        // The look that finds room and the claim below run in one go: no other start takes the room between.
        let room = this.#roomWait();
        while (room !== undefined && (await room)) room = this.#roomWait();
      } catch (error) {
        unwatch?.();
        if (aborted) return;
        queue.give();
        refuse(error);
        return;
      }
      unwatch?.();
      if (aborted) return;
      const idempotencyKey = options?.idempotencyKey;
      if (idempotencyKey !== undefined) {
        const recorded = this.#deps.durable?.recorded(idempotencyKey);
        if (recorded !== undefined) {
          this.#deps.queue.give();
          recorded.then(resolve, reject);
          return;
        }
        void this.#pending(idempotencyKey, promise);
      }
      let op: Op;
      try {
        // A claim that fails gives its queue place back itself.
        op = build();
      } catch (error) {
        refuse(error);
        return;
      }
      this.#submit(op, options, resolve, reject, queuedAt);
    });
    this.#hold(gate);
    return promise;
  }

  /** Makes `gate` the one later operations wait behind, until it is through. */
  #hold(gate: Promise<void>): void {
    this.#gate = gate;
    const { gates } = this.#deps;
    gates.add(gate);
    void gate.then(() => {
      gates.delete(gate);
      if (this.#gate === gate) this.#gate = undefined;
    });
  }

  /**
   * What to wait for before claiming a start that would pass `maxInstances`: a hibernation making room,
   * or a session becoming idle (resolves true: look again), or undefined when the start may be claimed
   * now. The caller claims in the same tick as the look that returned undefined: starts waiting for the
   * same room look again in turn, and only the first finds it. A wait that resolves false (the
   * hibernation failed), or none possible, leaves the claim to refuse the start (`ERR_INSTANCE_LIMIT`).
   */
  #roomWait(): Promise<boolean> | undefined {
    const { entry, hibernation, instances } = this.#deps;
    if (hibernation === undefined || (entry.startQueued && !entry.hibernated) || instances.live < instances.maxInstances) return undefined;
    return hibernation.makeRoom();
  }

  /**
   * @internal Hibernates the session: after the operations already made, its snapshot goes to the
   * store and its instance is dropped; operations made meanwhile are held and wake it. True once its
   * instance is gone: hibernated, or lost or closed meanwhile (its place is free all the same, for a
   * start waiting for room). False (and the session stays awake) when it is not awake with an
   * instance, or the snapshot or the store failed.
   */
  hibernate(): Promise<boolean> {
    // One under way already (the policy's, when a recycle asks too): its outcome is this one's.
    if (this.#hibernating !== undefined) return this.#hibernating;
    const { entry, hibernation } = this.#deps;
    if (hibernation === undefined || this.#closed || this.#gate !== undefined || entry.hibernated || entry.lostCause !== undefined || !entry.startQueued) {
      return Promise.resolve(false);
    }
    const hibernating = hibernateSession(this.#internals(), hibernation);
    this.#hibernating = hibernating;
    void hibernating.then(() => { this.#hibernating = undefined; });
    return hibernating;
  }

  /** Restores a hibernated session: from the store, or (durability) by a rebuild from its journal. */
  async #wake(): Promise<void> {
    const { durable, hibernation } = this.#deps;
    if (durable !== undefined) await rebuildSession({ ...this.#internals(), durable });
    else if (hibernation !== undefined) await wakeFromStore(this.#internals(), hibernation);
  }

  /** This handle as the pool's own code holds it: the type parameters shape only what calls accept and resolve with. */
  get #untyped(): Session {
    return this as unknown as Session;
  }

  /** What the session's rarer paths need of it (made per use). */
  #internals(): SessionInternals {
    return {
      key: this.key,
      deps: this.#deps,
      handle: this.#untyped,
      closed: () => this.#closed,
      moveTo: (worker) => this.moveTo(worker),
      roomWait: () => this.#roomWait(),
      activated: () => this.#activated(),
      claimStart: () => this.#claimStart(),
      claim: (claim) => this.#claim(claim),
      enqueue: (op) => this.#enqueue(op, undefined),
      hold: (gate) => this.#hold(gate),
      forgetStored: () => this.#forgetStored(),
    };
  }

  /**
   * @internal Durability: the session's instance was lost at `epoch` and is to be rebuilt. Operations
   * still out for it come back parked; the first one to park schedules the rebuild (a session with
   * none out is rebuilt by its next operation).
   */
  lostForRecovery(epoch: number): void {
    const durable = this.#deps.durable;
    if (durable === undefined) return;
    durable.retired.add(epoch);
    durable.recovering = true;
    this.#deps.hibernation?.deactivated(this);
  }

  /** Called when the first operation parks: the rebuild is scheduled behind whatever is held. */
  #scheduleRebuild(): void {
    const gate = (this.#gate ?? Promise.resolve()).then(async () => {
      const { entry, durable } = this.#deps;
      if (entry.hibernated && entry.lostCause === undefined) await this.#wake();
      // Woken meanwhile by an operation that was held (its wake sent them), or lost: settled from here.
      else if (durable !== undefined) resendParked({ ...this.#internals(), durable });
    });
    this.#hold(gate);
  }

  /** @internal Durability: the session's journal is due a compaction: a snapshot after the operations made so far. */
  checkpoint(): void {
    const durable = this.#deps.durable;
    const { entry, queue } = this.#deps;
    if (durable === undefined || this.#closed || this.#gate !== undefined || !this.hasInstance || durable.history.checkpointing) return;
    const history = durable.history;
    history.checkpointing = true;
    queue.takeUnbounded();
    const { instanceId, epoch } = entry;
    (this.#enqueue({ kind: 'snapshot', instanceId, epoch, open: false }, undefined) as Promise<Uint8Array>)
      .then((bytes) => durable.durability.checkpoint(history, bytes, durable.covered.get(bytes) ?? 0))
      .catch(() => false)
      .finally(() => {
        history.checkpointing = false;
      });
  }

  /**
   * @internal Durability: records of the session could not be written: its instance holds effects that
   * were never acknowledged, so it is rebuilt from what is durable.
   */
  rollback(cause: ReactorPoolError): void {
    const { entry, instances } = this.#deps;
    if (this.#closed || entry.hibernated || entry.lostCause !== undefined || !entry.startQueued) return;
    instances.instanceLost(entry, entry.epoch, cause);
  }

  /** The store's copy of the session is stale (woken, reset, restored, closed): dropped, a failure ignored; resolves once deleted. */
  #forgetStored(): Promise<void> {
    return this.#deps.hibernation?.discard(this.key) ?? Promise.resolve();
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
    this.#submit(op, options, captured.resolve, captured.reject);
    return promise;
  }

  #submit(
    op: Op, options: ResolvedCallOptions | undefined, resolve: (value: unknown) => void, reject: (error: unknown) => void, queuedAt?: number,
  ): void {
    const timeout = options === undefined ? this.#deps.callTimeout : options.timeout;
    // 0 stands for "no limit" on the job: a small integer, where Infinity would be a boxed number.
    const job = new SessionJob(this.#deps, op, timeout === Number.POSITIVE_INFINITY ? 0 : timeout, resolve, reject, 0, queuedAt);
    if (options?.signal !== undefined) job.watch(options.signal);
    this.#deps.worker.submit(job);
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
