// The public entry: owns the options, the worker slots, the session directory (key → session → worker)
// and the instance table, and turns what they report into the pool's events.

import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  CallTimeoutError, InvalidArgumentError, InvalidOptionError, PoolClosedError, RestartLimitError, WorkerRecycledError, describeValue,
  type ReactorPoolError,
} from './errors.js';
import { loadModule, type LoadedModule } from './module-source.js';
import { addressSpaceData } from './address-space.js';
import { loadHostFunctions } from './host-functions.js';
import type { ModuleSpec } from './module-spec.js';
import { MAX_WORKERS, resolveOptions, type ResolvedOptions } from './options.js';
import { placeKey } from './placement.js';
import type { AllocatorKind, WorkerData } from './protocol.js';
import { checkResultOptions } from './buffers.js';
import { Admission, SessionQueue } from './admission.js';
import { ExportCatalog } from './export-catalog.js';
import { InstanceTable, type InstanceEntry } from './instance-table.js';
import { OutputRouter } from './output-router.js';
import { notifyListeners } from './rethrow-later.js';
import { Session, checkSessionKey, type SessionEvents } from './session.js';
import type { NoResultModes, TypedPoolOptions, UntypedExports } from './export-types.js';
import { SessionDirectory } from './session-directory.js';
import { SnapshotSupport } from './snapshot-support.js';
import { Hibernation } from './hibernation.js';
import { DEFAULT_MAX_ACTIVE_SESSIONS } from './hibernation-options.js';
import type { SnapshotStore } from './snapshot-store.js';
import { WorkerSlot, type SlotEvents, type ThreadEnd } from './worker-slot.js';
import { DurabilityLink } from './durability-link.js';
import { PoolMeter, type PoolMetrics } from './pool-metrics.js';
import { listSessions, stateOf, type SessionInfo } from './session-listing.js';

const WORKER_FILE = fileURLToPath(new URL('../workers/reactor-worker.js', import.meta.url));

/**
 * How long a worker polls for the next batch before it sleeps (waking a sleeping thread costs far
 * more): after a small batch, and after a large one when a core is left for the main thread.
 */
const POLL_MS = 0.1;
const POLL_MS_SPARE_CORE = 0.3;

/** The start function of a reactor; callers can never name it, so a failure in it is a failed start. */
const START_EXPORT = '_initialize';

/** Emitted when a session's instance is lost; the session rejects calls until `reset()`. */
export interface SessionLostEvent {
  readonly key: string;
  readonly cause: ReactorPoolError;
}

/**
 * Emitted when a worker thread dies (`ERR_WORKER_FAILED`) or is terminated to stop a runaway call
 * (`cause` says which call); it is replaced, and its sessions are lost.
 */
export interface WorkerFailedEvent {
  readonly workerId: number;
  readonly cause: ReactorPoolError;
}

/** Emitted once when the pool stops by itself (a worker hit the restart limit); calls reject from then on. */
export interface PoolFailedEvent {
  readonly cause: ReactorPoolError;
}

/** Emitted when a session hibernated: its snapshot (`bytes` long) is in the store and its instance is gone. */
export interface SessionHibernatedEvent {
  readonly key: string;
  readonly bytes: number;
}

/** Emitted when a hibernated session was restored from the store, on `workerId`, for an operation made on it. */
export interface SessionRestoredEvent {
  readonly key: string;
  readonly workerId: number;
}

/**
 * Durability: emitted when a session was rebuilt from its snapshot and `records` journal records (after
 * its instance was lost, or on its first use after a restart), on `workerId`.
 */
export interface SessionRecoveredEvent {
  readonly key: string;
  readonly workerId: number;
  readonly records: number;
}

/** The pool's events, by name. */
export interface ReactorPoolEvents {
  sessionLost: [event: SessionLostEvent];
  sessionRecovered: [event: SessionRecoveredEvent];
  sessionHibernated: [event: SessionHibernatedEvent];
  sessionRestored: [event: SessionRestoredEvent];
  workerFailed: [event: WorkerFailedEvent];
  failed: [event: PoolFailedEvent];
}

/** A snapshot of the pool's state. */
export interface PoolStats {
  readonly workers: number;
  readonly sessions: number;
  readonly lostSessions: number;
  /** Operations queued or in flight. */
  readonly pending: number;
  /** Sessions placed on each worker. */
  readonly sessionsPerWorker: readonly number[];
  /** Live instances (counted against `maxInstances` from the moment their start is queued). */
  readonly instances: number;
  /**
   * Bytes of linear memory held by each worker's instances: as of its last batch when a
   * `memoryLimit` is set; otherwise recounted at most 200 ms after work ran (idle workers catch up too).
   */
  readonly memoryPerWorker: readonly number[];
  /** Sessions awake with an instance (or starting one), as the hibernation policy counts them (0 without hibernation). */
  readonly activeSessions: number;
  /** Sessions whose state is in the snapshot store. */
  readonly hibernatedSessions: number;
  /** Bytes of their snapshots. */
  readonly hibernatedBytes: number;
}

/**
 * A pool of worker threads running one WASI reactor module as stateful per-session instances.
 * Create it with {@link ReactorPool.create}; get sessions with {@link ReactorPool.session}.
 */
export class ReactorPool<E extends object = UntypedExports, M = NoResultModes> extends EventEmitter<ReactorPoolEvents> {
  /** What the pool learned from the module: exports and signatures, imports, memory. */
  readonly spec: ModuleSpec;
  /**
   * The guest allocator bytes and strings go through: `'malloc'` (`malloc` + `free`), `'alloc'`
   * (`alloc` + `dealloc`), `'cabi_realloc'`, or `undefined` (buffers are refused with `ERR_NO_ALLOCATOR`).
   */
  readonly allocator: AllocatorKind | undefined;
  readonly #options: ResolvedOptions;
  readonly #exports: ExportCatalog;
  /** The workers; during a shrinking resize the leaving ones stay at the end until they have stopped. */
  #slots: WorkerSlot[];
  /** How many of {@link #slots} placement uses (the others are leaving). */
  #placeable: number;
  /** What a new worker is started with (the same for every worker). */
  readonly #workerData: Omit<WorkerData, 'progress' | 'memory'>;
  readonly #slotEvents: SlotEvents;
  /** Resizes run one after another. */
  #resizing: Promise<void> = Promise.resolve();
  /** Calls settled, their timings, lifecycle counts (see {@link metrics}). */
  readonly #meter = new PoolMeter(this);
  readonly #directory = new SessionDirectory((session, closed) => this.#meter.sessionClosed(session.key, closed));
  readonly #instances: InstanceTable;
  readonly #admission: Admission;
  readonly #output: OutputRouter;
  readonly #snapshots: SnapshotSupport;
  /** The hibernation policy; undefined when sessions do not hibernate. */
  readonly #hibernation: Hibernation | undefined;
  /** Sessions' gates: operations held while a session hibernates or wakes (see Session). */
  readonly #gates = new Set<Promise<void>>();
  #state: 'open' | 'closing' | 'closed' = 'open';
  #stopped: Promise<void> | undefined;
  /** Durability: the store and each session's journal side (set by create before the pool is handed out). */
  #durable: DurabilityLink | undefined;

  /**
   * Loads and checks the module, compiles it once, and starts the workers.
   * Rejects with a coded {@link ReactorPoolError} if an option or the module is unusable.
   *
   * `Exports` describes the module's exports (`reactor-pool types module.wasm` writes it), so sessions'
   * calls are checked against it: `ReactorPool.create<ReferenceReactor>({ module })`. `Modes` is the
   * type of the `results` option (inferred when `Exports` is not given; else give both).
   * @typeParam Exports - the module's exports; without it any name and arguments compile, and results are typed loosely.
   * @typeParam Modes - the `results` option's type.
   */
  static async create<Exports extends object = UntypedExports, const Modes extends object = NoResultModes>(
    options: TypedPoolOptions<Exports, Modes>,
  ): Promise<ReactorPool<Exports, Modes>> {
    const resolved = resolveOptions(options);
    const hostUrl = resolved.hostFunctions?.href;
    const host = hostUrl === undefined ? undefined : { table: await loadHostFunctions(hostUrl), source: hostUrl };
    const loaded = await loadModule(resolved.module, host);
    const pool = new ReactorPool<Exports, Modes>(resolved, loaded);
    let timer: NodeJS.Timeout | undefined;
    try {
      // The store is read while the threads start.
      const durable = resolved.durability === undefined
        ? undefined
        : DurabilityLink.open(resolved.durability, Buffer.from(loaded.digest ?? new Uint8Array(0)).toString('hex'), pool.#directory);
      durable?.catch(() => undefined);
      // Thread start-up is not the module's doing and may be slow on a loaded machine: wait for it
      // unbounded, then bound only linking (which runs the module's start function).
      await Promise.all(pool.#slots.map((slot) => slot.ready()));
      const probes = Promise.all(pool.#slots.map((slot) => slot.probe()));
      if (resolved.callTimeout === Number.POSITIVE_INFINITY) {
        await probes;
      } else {
        // Linking runs the module's start function, if it has one: bound it like a call.
        const limit = resolved.callTimeout;
        await Promise.race([probes, new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new CallTimeoutError(
            `linking the module in a worker ran for over ${limit} ms (callTimeout); does its start function return?`,
            { limit },
          )), limit);
        })]);
      }
      pool.#durable = await durable;
      if (resolved.durability?.recover === 'eager') await pool.#recoverEagerly();
      pool.#meter.poolCreated(pool.workers, resolved.isolation);
    } catch (error) {
      await pool.destroy();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return pool;
  }

  /** Durability, `recover: 'eager'`: rebuilds every stored session now (up to the active-session cap; the rest stay stored). */
  async #recoverEagerly(): Promise<void> {
    const cap = this.#hibernation?.limits.maxActiveSessions ?? Number.POSITIVE_INFINITY;
    const keys = this.#durable?.keys() ?? [];
    await Promise.all(keys.slice(0, Math.min(keys.length, cap)).map((key) => this.session(key).wakeUp()));
  }

  /**
   * Durability: the keys of every session the durable store holds state for (whose last acknowledged
   * operation left state behind), open in this pool or not; after a restart, the sessions it can recover.
   * Rejects with `ERR_INVALID_OPTION` for a pool without durability.
   */
  durableSessions(): Promise<string[]> {
    if (this.#durable === undefined) return Promise.reject(new InvalidOptionError('durableSessions() needs a durable pool (the `durability` option)'));
    return Promise.resolve(this.#durable.keys());
  }

  private constructor(options: ResolvedOptions, { module, spec, signaturesKnown, digest, hostImports }: LoadedModule) {
    super();
    this.#options = options;
    this.#admission = new Admission(options.maxQueue, options.maxQueuePerSession);
    this.#instances = new InstanceTable({
      isolation: options.isolation,
      maxInstances: options.maxInstances,
      onLost: (entry, cause) => this.#sessionLost(entry, cause),
      recover: (entry, cause) => this.#state !== 'closed' && this.#durable?.recoverable(entry, cause) === true,
    });
    this.#output = new OutputRouter(options.stdout, options.stderr);
    this.spec = spec;
    this.#exports = new ExportCatalog(spec, signaturesKnown, options.results);
    this.#snapshots = new SnapshotSupport(spec, digest, {
      isolation: options.isolation, preopens: Object.keys(options.wasi.preopens).length, memoryLimit: options.memoryLimit,
    });
    if (options.durability !== undefined) this.#snapshots.assertPossible('durability');
    this.#hibernation = this.#makeHibernation(options);
    this.allocator = this.#exports.allocator;
    // Before any worker starts: a refusal here leaves nothing to stop.
    checkResultOptions(options.results, this.#exports.callables, spec, this.allocator);
    const workerData: Omit<WorkerData, 'progress' | 'memory'> = {
      module,
      exportNames: this.#exports.names,
      wasi: options.wasi,
      capture: { stdout: options.stdout !== 'ignore', stderr: options.stderr !== 'ignore' },
      memoryLimit: options.memoryLimit,
      onTrap: options.onTrap,
      allocator: this.allocator,
      stackPointer: spec.stackPointer?.found === true ? spec.stackPointer.exportName : undefined,
      // After a large batch the main thread is busy making the next: polling then pays only while a
      // core is left for the main thread, and takes that core's time otherwise.
      poll: { afterSmall: POLL_MS, afterLarge: availableParallelism() > options.workers ? POLL_MS_SPARE_CORE : 0 },
      snapshot: this.#snapshots.workerData,
      // Durable sessions: the worker reports input tapes and serves replays.
      durable: options.durability !== undefined,
      // Host functions: the shared instance of isolation 'worker' runs many sessions' calls, so every operation carries its key.
      hostFunctions: options.hostFunctions === undefined || hostImports === undefined
        ? undefined
        : { url: options.hostFunctions.href, imports: hostImports, keys: options.isolation === 'worker' ? 'every' : 'start' },
      // Where the engine would end a thread that meets the address-space ceiling, workers check before each start.
      addressSpace: addressSpaceData(spec),
    };
    this.#workerData = workerData;
    this.#slotEvents = {
      onThreadLost: (slot: WorkerSlot, cause: ReactorPoolError, end: ThreadEnd) => this.#threadLost(slot, cause, end),
      onThreadStarted: (slot: WorkerSlot, threadId: number) => this.#meter.workerStarted(slot.id, threadId),
    };
    this.#slots = Array.from({ length: options.workers }, (_, id) => this.#newSlot(id));
    this.#placeable = this.#slots.length;
  }

  #newSlot(id: number): WorkerSlot {
    return new WorkerSlot(id, WORKER_FILE, this.#workerData, this.#options.resourceLimits, this.#slotEvents);
  }

  /** Number of worker threads (those placement uses: during a shrinking resize, the ones that stay). */
  get workers(): number {
    return this.#placeable;
  }

  /** The worker placement picks for `key` now: rendezvous hashing with a load cap over the workers that stay. */
  #place(key: string): WorkerSlot {
    const slots = this.#slots.slice(0, this.#placeable);
    return slots[placeKey(key, slots.map((slot) => this.#instances.boundTo(slot.id)))] as WorkerSlot;
  }

  /**
   * Grows or shrinks the pool to `workers` threads (1 to 256). Growing starts the new threads; new
   * sessions, and hibernated ones waking, are placed over all of them (rendezvous hashing: few keys
   * change place). Shrinking removes the highest-numbered workers: each of their sessions moves — it
   * hibernates after the calls already made and wakes on a remaining worker at its next call — and
   * none is lost where sessions can hibernate; otherwise (a module that cannot be snapshotted) their
   * sessions with instances are lost (`ERR_WORKER_RECYCLED`) and start afresh elsewhere after
   * `reset()`. Calls made meanwhile wait. Isolation `'worker'` can grow but not shrink
   * (`ERR_INVALID_ARGUMENT`): its shared instances hold many sessions' state. Resizes run one at a time.
   */
  resize(workers: number): Promise<void> {
    try {
      if (!Number.isSafeInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
        throw new InvalidArgumentError(`Expected a worker count from 1 to ${MAX_WORKERS}, got ${describeValue(workers)}`);
      }
      this.#admission.assertAccepting();
    } catch (error) {
      return Promise.reject(error);
    }
    const run = this.#resizing.then(() => this.#resize(workers));
    this.#resizing = run.catch(() => undefined);
    return run;
  }

  /** Whether the threads were stopped (read afresh after each await). */
  #isStopped(): boolean {
    return this.#state === 'closed';
  }

  async #resize(workers: number): Promise<void> {
    // Accepted before a close: a shrink still moves its sessions (the close waits); a grow is pointless then.
    if (this.#isStopped()) return;
    const current = this.#placeable;
    if (workers > current) {
      if (this.#state !== 'open') return;
      const added = Array.from({ length: workers - current }, (_, i) => this.#newSlot(current + i));
      this.#slots.push(...added);
      try {
        await Promise.all(added.map((slot) => slot.ready()));
      } catch (error) {
        this.#slots.splice(current);
        await Promise.all(added.map((slot) => slot.stop(new PoolClosedError('the resize that started this worker failed'))));
        throw error;
      }
      this.#placeable = workers;
      return;
    }
    if (workers === current) return;
    if (this.#options.isolation === 'worker') {
      throw new InvalidArgumentError(`isolation 'worker' cannot shrink from ${current} to ${workers} workers: a worker's shared instance holds the state of every session placed on it`);
    }
    this.#placeable = workers;
    const leaving = this.#slots.slice(workers);
    const on = (session: Session): boolean => session.workerId >= workers;
    // In this turn: sessions with nothing on a leaving worker (not started, hibernated, lost) move at
    // once; awake ones hibernate (each snapshot queued after its calls) and wake where placement puts them.
    const moves: Promise<boolean>[] = [];
    for (const session of [...this.#directory.all()].filter(on)) {
      if (!session.hasInstance) session.moveTo(this.#place(session.key));
      else if (this.#hibernation !== undefined) moves.push(session.hibernate());
    }
    await Promise.all(moves);
    await Promise.all(leaving.map((slot) => slot.drain()));
    // Destroyed meanwhile: the slots were stopped with the pool.
    if (this.#isStopped()) return;
    // Whatever is still there (a pool that cannot snapshot, a store that failed) is lost with its worker.
    for (const slot of leaving) {
      this.#instances.threadLost(slot.id, new WorkerRecycledError(`worker ${slot.id} was removed by resize(${workers}); its instances are gone`, { workerId: slot.id }));
    }
    for (const session of [...this.#directory.all()].filter(on)) session.moveTo(this.#place(session.key));
    await Promise.all(leaving.map((slot) => slot.stop(new PoolClosedError(`worker ${slot.id} was removed by resize(${workers})`))));
    this.#slots.splice(workers);
  }

  /** `'session'` or `'worker'`, as created. */
  get isolation(): 'session' | 'worker' {
    return this.#options.isolation;
  }

  /**
   * The handle for `key` (the same object for the same key until it is closed). A new key is placed
   * on a worker now; with isolation `'session'` its instance is created on its first call.
   * Throws `ERR_INVALID_ARGUMENT` for a malformed key and `ERR_POOL_CLOSED` for a new key once closing.
   */
  session(key: string): Session<E, M> {
    checkSessionKey(key);
    // The directory holds every session alike; this pool's are all of its exports type.
    let session = this.#directory.get(key) as Session<E, M> | undefined;
    if (session === undefined) {
      this.#admission.assertAccepting();
      const worker = this.#place(key);
      const closing = this.#directory.closingOf(key);
      const entry = this.#instances.bind(key, worker.id, closing !== undefined);
      const durable = this.#durable?.sessionFor(key);
      // A session the store holds state for starts as a hibernated one: its first operation rebuilds it.
      if (durable?.history.holdsState === true) this.#instances.hibernate(entry);
      session = new Session<E, M>({
        key,
        worker,
        entry,
        instances: this.#instances,
        queue: new SessionQueue(key, this.#admission),
        admission: this.#admission,
        exports: this.#exports,
        output: this.#output,
        directory: this.#directory,
        callTimeout: this.#options.callTimeout,
        snapshots: this.#snapshots,
        hibernation: this.#hibernation,
        events: this.#sessionEvents,
        gates: this.#gates,
        place: (sessionKey) => this.#place(sessionKey),
        durable,
        meter: this.#meter,
      }, closing);
      this.#directory.add(session as unknown as Session);
      this.#meter.sessionCreated(key, worker.id);
    }
    return session;
  }

  /** What sessions tell the pool about hibernation: its events. */
  readonly #sessionEvents: SessionEvents = {
    hibernated: (key, bytes) => {
      this.#meter.hibernated(key, bytes);
      this.#notify('sessionHibernated', { key, bytes });
    },
    restored: (key, workerId) => {
      this.#meter.restored(key, workerId);
      this.#notify('sessionRestored', { key, workerId });
    },
    recovered: (key, workerId, records) => {
      this.#meter.recovered(key, workerId, records);
      this.#notify('sessionRecovered', { key, workerId, records });
    },
  };

  /**
   * The hibernation policy, when the module can be snapshotted and isolation is 'session' (by default,
   * an active cap of {@link DEFAULT_MAX_ACTIVE_SESSIONS} within maxInstances). Hibernation options given
   * to a pool that cannot snapshot are refused: ERR_NOT_SNAPSHOTTABLE, naming why.
   */
  #makeHibernation(options: ResolvedOptions): Hibernation | undefined {
    const given = options.hibernation;
    if (this.#snapshots.workerData === undefined) {
      if (given.asked) this.#snapshots.assertPossible('hibernation (idleTimeout, maxActiveSessions, maxActiveMemory, store)');
      return undefined;
    }
    const maxActiveSessions = given.maxActiveSessions ?? Math.min(DEFAULT_MAX_ACTIVE_SESSIONS, options.maxInstances);
    // Under durability a hibernation is a checkpoint: the snapshot goes to the durable store.
    const store = options.durability === undefined ? given.store : this.#durableStore;
    return new Hibernation(
      { idleTimeout: given.idleTimeout, maxActiveSessions, maxActiveMemory: given.maxActiveMemory, store },
      () => this.#slots.reduce((sum, slot) => sum + slot.memory, 0),
    );
  }

  /** Durability: hibernation's store, the durable one (reached once the store is open). */
  readonly #durableStore: SnapshotStore = {
    get: (key) => this.#durable?.store.get(key) ?? Promise.resolve(undefined),
    set: (key, bytes) => this.#durable?.store.set(key, bytes) ?? Promise.reject(new Error('the durable store is not open')),
    delete: (key) => this.#durable?.store.delete(key) ?? Promise.resolve(),
  };

  /**
   * @internal Terminates a worker thread as a crash would: its sessions are lost and it is replaced.
   * The mechanism runaway-call timeouts use; tests use it to exercise the loss rule.
   */
  terminateWorker(workerId: number): Promise<void> {
    const slot = this.#slots[workerId];
    if (slot === undefined) throw new RangeError(`no worker ${workerId}`);
    return slot.terminateThread();
  }

  /**
   * Replaces a worker's thread with a fresh one, to give back memory its instances grew (linear
   * memory never shrinks). Calls made before this one run to the end on the old thread; then every
   * session with an instance on it is lost (`ERR_SESSION_LOST`, cause `ERR_WORKER_RECYCLED`) until
   * `reset()`. Calls made meanwhile wait for the new thread (those of lost sessions then reject).
   * Resolves once the new thread runs. See `stats().memoryPerWorker` for what each worker holds.
   */
  async recycleWorker(workerId: number): Promise<void> {
    const slot = Number.isInteger(workerId) ? this.#slots[workerId] : undefined;
    if (slot === undefined) {
      throw new InvalidArgumentError(`Expected a worker id from 0 to ${this.#slots.length - 1}, got ${describeValue(workerId)}`);
    }
    this.#admission.assertAccepting();
    // Where sessions can hibernate they move out: each one's snapshot is queued now, after the calls
    // already made (so it runs on the old thread), and stored before the thread goes; they wake on the
    // new thread at their next call. None is lost.
    const moves = this.#hibernation === undefined
      ? []
      : [...this.#directory.all()].filter((session) => session.workerId === workerId).map((session) => session.hibernate());
    await slot.recycle(new WorkerRecycledError(`worker ${workerId} was recycled; its instances are gone`, { workerId }), () => Promise.all(moves));
  }

  /** A snapshot of sessions, losses and queued work. */
  stats(): PoolStats {
    return {
      workers: this.#slots.length,
      sessions: this.#directory.size,
      lostSessions: this.#instances.lost,
      pending: this.#slots.reduce((sum, slot) => sum + slot.pending, 0),
      sessionsPerWorker: this.#slots.map((slot) => this.#instances.boundTo(slot.id)),
      instances: this.#instances.live,
      memoryPerWorker: this.#slots.map((slot) => slot.memory),
      activeSessions: this.#hibernation?.active ?? 0,
      hibernatedSessions: this.#hibernation?.hibernated ?? 0,
      hibernatedBytes: this.#hibernation?.storedBytes ?? 0,
    };
  }

  /**
   * The pool's running totals: calls by outcome, call duration and queue wait histograms (with
   * cumulative counts at `bucketsMs`, ascending, if given), sessions by state, lifecycle counts, and
   * per-worker busy time. Costs one pass over the open sessions (and, for a durable pool, its stored keys).
   */
  metrics(bucketsMs: readonly number[] = []): PoolMetrics {
    const sessions = { live: 0, unstarted: 0, hibernated: 0, lost: 0, stored: 0 };
    for (const session of this.#directory.all()) sessions[stateOf(session)]++;
    if (this.#durable !== undefined) {
      for (const key of this.#durable.keys()) if (this.#directory.get(key) === undefined) sessions.stored++;
    }
    return this.#meter.snapshot(bucketsMs, {
      sessions,
      instances: this.#instances.live,
      instancesCreated: this.#instances.created,
      pending: this.#slots.reduce((sum, slot) => sum + slot.pending, 0),
      workers: this.#slots.map((slot) => ({
        id: slot.id, busySeconds: slot.busyMs / 1000, operations: slot.answered, sessions: this.#instances.boundTo(slot.id), memoryBytes: slot.memory,
      })),
    });
  }

  /**
   * Every session the pool knows, with its state and counters: the open ones (in the order they were
   * opened), then, for a durable pool, those its store holds that are not open (`'stored'`). An array
   * made now (one pass, no I/O): a consistent picture; for very many sessions, `metrics().sessions`
   * counts them without listing.
   */
  sessions(): SessionInfo[] {
    return listSessions(this.#directory.all(), this.#durable?.keys() ?? [], (key) => this.#hibernation?.bytesOf(key));
  }

  /** Stops accepting calls, waits for every call already accepted to settle, then stops the workers. */
  close(): Promise<void> {
    if (this.#stopped !== undefined) return this.#stopped;
    this.#stopAccepting();
    this.#stopped = (async () => {
      // A resize under way finishes first (its sessions are moving).
      await this.#resizing;
      // Operations held while sessions hibernate or wake (or wait for room) are accepted ones: they go
      // out before the drain, and sessions still hibernate to make room for them.
      this.#hibernation?.closing();
      while (this.#gates.size > 0) await Promise.all(this.#gates);
      await Promise.all(this.#slots.map((slot) => slot.drain()));
      // Stale snapshots (of sessions woken or closed meanwhile) leave the store before the pool is done.
      await this.#hibernation?.settled();
      await this.#stopSlots(new PoolClosedError('the pool was closed'));
    })();
    return this.#stopped;
  }

  /** Stops the workers now; calls not yet settled reject with `ERR_POOL_CLOSED`. */
  destroy(): Promise<void> {
    if (this.#state === 'closed' && this.#stopped !== undefined) return this.#stopped;
    this.#stopAccepting();
    this.#stopped = this.#stopSlots(new PoolClosedError('the pool was destroyed before this call completed'));
    return this.#stopped;
  }

  /**
   * What `await using pool = await ReactorPool.create(…)` calls when the scope ends: {@link close}
   * (drain, then stop). Node.js 20.4 and later define `Symbol.asyncDispose`.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #stopAccepting(failure?: ReactorPoolError): void {
    if (this.#state === 'open') this.#state = 'closing';
    this.#admission.stop(failure);
  }

  async #stopSlots(cause: ReactorPoolError): Promise<void> {
    this.#state = 'closed';
    this.#hibernation?.stop();
    this.#instances.releaseAll();
    await Promise.all(this.#slots.map((slot) => slot.stop(cause)));
    // Records already appended are flushed (their calls acknowledged) before the store is let go.
    await this.#durable?.close();
    this.#meter.poolClosed(cause);
  }

  /** The instance table lost `entry`'s instance: tell the listeners, and reset it if the pool is to. */
  #sessionLost(entry: InstanceEntry, cause: ReactorPoolError): void {
    const session = this.#directory.get(entry.key);
    if (session !== undefined) this.#hibernation?.deactivated(session);
    this.#meter.lost(entry.key, cause);
    this.#notify('sessionLost', { key: entry.key, cause });
    // Only a trap of an export call (or a host function's failure, which follows onTrap like one) is
    // reset by the pool: a start that failed once would fail again (a loop, each round a loss), so such
    // a session stays lost until the user calls reset().
    const exportTrapped = (cause.code === 'ERR_REACTOR_TRAP' || cause.code === 'ERR_HOST_FUNCTION_FAILED') && cause.exportName !== START_EXPORT;
    // A listener may have reset or closed it meanwhile.
    if (this.#options.onTrap === 'reset' && exportTrapped && this.#state === 'open' && entry.lostCause !== undefined && this.#instances.holds(entry)) {
      // Opted in: the state is disposable.
      this.#directory.get(entry.key)?.autoReset().catch(() => {});
    }
  }

  #threadLost(slot: WorkerSlot, cause: ReactorPoolError, end: ThreadEnd): void {
    if (this.#state === 'closed') return;
    this.#instances.threadLost(slot.id, cause);
    this.#meter.workerEnded(slot.id, end === 'recycle', cause);
    if (end !== 'recycle') this.#notify('workerFailed', { workerId: slot.id, cause });
    if (end === 'crash' && slot.crashesInARow > this.#options.maxRestarts) {
      this.#fail(new RestartLimitError(
        `worker ${slot.id} died ${slot.crashesInARow} times in a row without completing any work (maxRestarts: ${this.#options.maxRestarts}); the pool stopped instead of restarting it again. Last cause: ${cause.message}`,
        { workerId: slot.id, limit: this.#options.maxRestarts },
        cause,
      ));
    }
  }

  /** Stops the pool by itself: everything pending rejects with `cause`, later calls with ERR_POOL_CLOSED. */
  #fail(cause: ReactorPoolError): void {
    if (this.#state === 'closed') return;
    this.#stopAccepting(cause);
    this.#stopped = this.#stopSlots(cause);
    // Nobody may be waiting on this stop (it was not asked for); close() still sees any failure.
    this.#stopped.catch(() => {});
    this.#notify('failed', { cause });
  }

  /**
   * Emits an event without letting a throwing listener stop the pool: every listener runs, the
   * pool carries on settling calls, and a listener's error is re-thrown asynchronously.
   */
  #notify<K extends keyof ReactorPoolEvents>(name: K, ...args: ReactorPoolEvents[K]): void {
    notifyListeners(this, name, args);
  }
}
