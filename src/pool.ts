// The public entry: owns the worker slots, the session directory (key → session → worker) and
// the options; applies the loss rule when an instance or a whole worker thread goes away.

import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { callableExports, lookupExport, type Callable } from './arguments.js';
import {
  CallTimeoutError, InvalidArgumentError, PoolClosedError, RestartLimitError, WorkerRecycledError, describeValue,
  type ReactorPoolError,
} from './errors.js';
import { loadModule } from './module-source.js';
import type { ModuleSpec } from './module-spec.js';
import { resolveOptions, type OutputTarget, type ReactorPoolOptions, type ResolvedOptions } from './options.js';
import { placeKey } from './placement.js';
import type { AllocatorKind, OutputChunk, WorkerData } from './protocol.js';
import { InstanceLedger, type InstanceHolder } from './instance-ledger.js';
import { checkResultOptions, detectAllocator } from './buffers.js';
import { Session, checkSessionKey, type SessionHost } from './session.js';
import { WorkerSlot, type ThreadEnd } from './worker-slot.js';

const WORKER_FILE = fileURLToPath(new URL('../workers/reactor-worker.js', import.meta.url));

/** The start function of a reactor; callers can never name it, so a failure in it is a failed start. */
const START_EXPORT = '_initialize';

/**
 * Surfaces an application's error (a throwing listener or output callback) the way Node surfaces a
 * throwing listener elsewhere, as an uncaught exception, but only after the pool has done its work.
 */
function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

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

/** The pool's events, by name. */
export interface ReactorPoolEvents {
  sessionLost: [event: SessionLostEvent];
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
}

/**
 * A pool of worker threads running one WASI reactor module as stateful per-session instances.
 * Create it with {@link ReactorPool.create}; get sessions with {@link ReactorPool.session}.
 */
export class ReactorPool extends EventEmitter<ReactorPoolEvents> {
  /** What the pool learned from the module: exports and signatures, imports, memory. */
  readonly spec: ModuleSpec;
  /**
   * The guest allocator bytes and strings go through: `'malloc'` (`malloc` + `free`), `'alloc'`
   * (`alloc` + `dealloc`), `'cabi_realloc'`, or `undefined` (buffers are refused with `ERR_NO_ALLOCATOR`).
   */
  readonly allocator: AllocatorKind | undefined;
  readonly #options: ResolvedOptions;
  readonly #exports: ReadonlyMap<string, Callable>;
  readonly #exportNames: readonly string[];
  readonly #slots: readonly WorkerSlot[];
  readonly #sessionsBySlot: Map<WorkerSlot, Set<Session>>;
  readonly #directory = new Map<string, Session>();
  readonly #sharedEpochs = new Map<WorkerSlot, number>();
  readonly #host: SessionHost;
  readonly #instances: InstanceLedger;
  #epochs = 0;
  #sessionIds = 1; // 0 names the shared instance of isolation 'worker'
  #state: 'open' | 'closing' | 'closed' = 'open';
  #stopped: Promise<void> | undefined;
  /** Why the pool stopped by itself, if it did. */
  #failure: ReactorPoolError | undefined;
  /** Operations queued or running, pool-wide (bounded by `maxQueue`); sessions count them in and out. */
  readonly #queue: { pending: number; readonly max: number };

  /**
   * Loads and checks the module, compiles it once, and starts the workers.
   * Rejects with a coded {@link ReactorPoolError} if an option or the module is unusable.
   */
  static async create(options: ReactorPoolOptions): Promise<ReactorPool> {
    const resolved = resolveOptions(options);
    const loaded = await loadModule(resolved.module);
    const pool = new ReactorPool(resolved, loaded.module, loaded.spec, loaded.signaturesKnown);
    let timer: NodeJS.Timeout | undefined;
    try {
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
    } catch (error) {
      await pool.destroy();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return pool;
  }

  private constructor(options: ResolvedOptions, module: WebAssembly.Module, spec: ModuleSpec, signaturesKnown: boolean) {
    super();
    this.#options = options;
    this.#queue = { pending: 0, max: options.maxQueue };
    this.#instances = new InstanceLedger(options.maxInstances);
    this.spec = spec;
    this.#exports = callableExports(spec, signaturesKnown, options.results);
    this.#exportNames = [...this.#exports.keys()];
    this.allocator = signaturesKnown ? detectAllocator(spec) : undefined;
    // Before any worker starts: a refusal here leaves nothing to stop.
    checkResultOptions(options.results, this.#exports, spec, this.allocator);
    const workerData: Omit<WorkerData, 'progress' | 'memory'> = {
      module,
      exportNames: this.#exportNames,
      wasi: options.wasi,
      capture: { stdout: options.stdout !== 'ignore', stderr: options.stderr !== 'ignore' },
      memoryLimit: options.memoryLimit,
      onTrap: options.onTrap,
      allocator: this.allocator,
      stackPointer: spec.stackPointer?.found === true ? spec.stackPointer.exportName : undefined,
    };
    const events = {
      onThreadLost: (slot: WorkerSlot, cause: ReactorPoolError, end: ThreadEnd) => this.#threadLost(slot, cause, end),
    };
    this.#slots = Array.from({ length: options.workers }, (_, id) => new WorkerSlot(id, WORKER_FILE, workerData, options.resourceLimits, events));
    this.#sessionsBySlot = new Map(this.#slots.map((slot) => [slot, new Set<Session>()]));
    this.#host = this.#makeHost();
  }

  /** Number of worker threads. */
  get workers(): number {
    return this.#slots.length;
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
  session(key: string): Session {
    checkSessionKey(key);
    let session = this.#directory.get(key);
    if (session === undefined) {
      this.#host.assertAccepting();
      const loads = this.#slots.map((slot) => this.#sessionsOn(slot).size);
      const slot = this.#slots[placeKey(key, loads)] as WorkerSlot;
      session = new Session(key, slot, this.#host);
      this.#directory.set(key, session);
      this.#sessionsOn(slot).add(session);
    }
    return session;
  }

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
    this.#host.assertAccepting();
    await slot.recycle(new WorkerRecycledError(`worker ${workerId} was recycled; its instances are gone`, { workerId }));
  }

  /** A snapshot of sessions, losses and queued work. */
  stats(): PoolStats {
    let lost = 0;
    for (const session of this.#directory.values()) if (session.lost) lost++;
    return {
      workers: this.#slots.length,
      sessions: this.#directory.size,
      lostSessions: lost,
      pending: this.#slots.reduce((sum, slot) => sum + slot.pending, 0),
      sessionsPerWorker: this.#slots.map((slot) => this.#sessionsOn(slot).size),
      instances: this.#instances.live,
      memoryPerWorker: this.#slots.map((slot) => slot.memory),
    };
  }

  /** Stops accepting calls, waits for every call already accepted to settle, then stops the workers. */
  close(): Promise<void> {
    if (this.#stopped !== undefined) return this.#stopped;
    this.#state = 'closing';
    this.#stopped = (async () => {
      await Promise.all(this.#slots.map((slot) => slot.drain()));
      await this.#stopSlots(new PoolClosedError('the pool was closed'));
    })();
    return this.#stopped;
  }

  /** Stops the workers now; calls not yet settled reject with `ERR_POOL_CLOSED`. */
  destroy(): Promise<void> {
    if (this.#state === 'closed' && this.#stopped !== undefined) return this.#stopped;
    this.#state = 'closing';
    this.#stopped = this.#stopSlots(new PoolClosedError('the pool was destroyed before this call completed'));
    return this.#stopped;
  }

  async #stopSlots(cause: ReactorPoolError): Promise<void> {
    this.#state = 'closed';
    this.#instances.clear();
    await Promise.all(this.#slots.map((slot) => slot.stop(cause)));
  }

  #sessionsOn(slot: WorkerSlot): Set<Session> {
    return this.#sessionsBySlot.get(slot) as Set<Session>;
  }

  #sharedEpoch(slot: WorkerSlot): number {
    let epoch = this.#sharedEpochs.get(slot);
    if (epoch === undefined) {
      epoch = this.#epochs++;
      this.#sharedEpochs.set(slot, epoch);
    }
    return epoch;
  }

  /** Who holds `session`'s instance: the session itself, or its worker's shared instance. */
  #holderOf(session: Session): InstanceHolder {
    return this.#options.isolation === 'session' ? session : session.slot;
  }

  /**
   * With isolation 'worker', the shared instance of `slot` was lost: it stops counting unless a
   * session there has a start queued (which makes the next one).
   */
  #releaseShared(slot: WorkerSlot): void {
    for (const session of this.#sessionsOn(slot)) if (!session.lost && session.openQueuedEpoch === session.epoch) return;
    this.#instances.release(slot);
  }

  /** Applies the loss rule to one session, once per lost instance. */
  #lose(session: Session, cause: ReactorPoolError): void {
    if (session.lostCause !== undefined) return;
    session.lostCause = cause;
    if (this.#options.isolation === 'session') this.#instances.release(session);
    this.#notify('sessionLost', { key: session.key, cause });
    // Only a trap of an export call is reset by the pool: a start that failed once would fail again
    // (a loop, each round a loss), so such a session stays lost until the user calls reset().
    const exportTrapped = cause.code === 'ERR_REACTOR_TRAP' && cause.exportName !== START_EXPORT;
    if (this.#options.onTrap === 'reset' && exportTrapped && this.#state === 'open' && session.lost) {
      // Opted in: the state is disposable.
      session.autoReset().catch(() => {});
    }
  }

  #instanceLost(session: Session, epoch: number, cause: ReactorPoolError): void {
    if (this.#options.isolation === 'session') {
      if (session.epoch === epoch) this.#lose(session, cause);
      return;
    }
    // The worker's shared instance is gone: every session bound to it is lost with it.
    if (this.#sharedEpochs.get(session.slot) === epoch) this.#sharedEpochs.set(session.slot, this.#epochs++);
    for (const other of this.#sessionsOn(session.slot)) if (other.epoch === epoch) this.#lose(other, cause);
    this.#releaseShared(session.slot);
  }

  #threadLost(slot: WorkerSlot, cause: ReactorPoolError, end: ThreadEnd): void {
    if (this.#state === 'closed') return;
    if (this.#options.isolation === 'worker') this.#sharedEpochs.set(slot, this.#epochs++);
    for (const session of this.#sessionsOn(slot)) {
      // A session whose first call never reached the dead thread had no instance there to lose.
      if (session.openSentEpoch === session.epoch) this.#lose(session, cause);
    }
    if (this.#options.isolation === 'worker') this.#releaseShared(slot);
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
    this.#failure = cause;
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
    for (const listener of this.rawListeners(name) as ((...values: ReactorPoolEvents[K]) => void)[]) {
      try {
        listener.apply(this, args);
      } catch (error) {
        rethrowLater(error);
      }
    }
  }

  #deliverOutput(key: string, chunks: readonly OutputChunk[]): void {
    for (const [fd, bytes] of chunks) {
      const target: OutputTarget = fd === 1 ? this.#options.stdout : this.#options.stderr;
      if (target === 'inherit') (fd === 1 ? process.stdout : process.stderr).write(bytes);
      else if (typeof target === 'function') {
        try {
          target(bytes, key);
        } catch (error) {
          rethrowLater(error);
        }
      }
    }
  }

  #makeHost(): SessionHost {
    return {
      isolation: this.#options.isolation,
      callTimeout: this.#options.callTimeout,
      allocator: this.allocator,
      maxQueuePerSession: this.#options.maxQueuePerSession,
      queue: this.#queue,
      exportFor: (name) => lookupExport(this.#exports, this.spec, name),
      exportNameAt: (index) => this.#exportNames[index] ?? `#${index}`,
      assertAccepting: () => {
        if (this.#state === 'open') return;
        if (this.#failure !== undefined) {
          throw new PoolClosedError(`the pool stopped and accepts no new calls: ${this.#failure.message}`, {}, this.#failure);
        }
        throw new PoolClosedError('the pool is closed and accepts no new calls');
      },
      nextEpoch: () => this.#epochs++,
      nextSessionId: () => this.#sessionIds++,
      sharedEpoch: (slot) => this.#sharedEpoch(slot),
      claimInstance: (session) => this.#instances.claim(this.#holderOf(session), session.key),
      startRefused: (session) => {
        // A shared instance stays counted (other sessions may be starting it): at worst one too many per worker.
        if (this.#options.isolation === 'session') this.#instances.release(session);
      },
      instanceLost: (session, epoch, cause) => this.#instanceLost(session, epoch, cause),
      deliverOutput: (key, chunks) => this.#deliverOutput(key, chunks),
      forget: (session) => {
        this.#directory.delete(session.key);
        this.#sessionsOn(session.slot).delete(session);
        if (this.#options.isolation === 'session') this.#instances.release(session);
      },
    };
  }
}
