// The one place that knows each session's instance: its identity (instance id + epoch) on its worker,
// how far its start got, why it was lost; applies the loss rule and counts live instances (`maxInstances`).

import {
  InstanceLimitError, InvalidArgumentError, ReactorPoolError, SessionLostError, errorForSession,
} from './errors.js';
import { createsInstance, type Op } from './protocol.js';

/** How sessions get instances: one each (`'session'`), or one shared per worker (`'worker'`). */
export type InstanceIsolation = 'session' | 'worker';

/**
 * A session's binding to an instance, as the table keeps it: read-only outside the table, which
 * alone changes it. Under isolation `'worker'` every session of a worker has its own entry, bound to
 * the worker's shared instance (id 0) at the worker's shared epoch.
 */
export interface InstanceEntry {
  /** The session key. */
  readonly key: string;
  /** The worker whose table holds the instance. */
  readonly workerId: number;
  /** The worker's number for the instance: the session's own number, or 0 for the worker's shared instance. */
  readonly instanceId: number;
  /** Which instance of `instanceId` the session's operations target; a newer epoch is a fresh instance. */
  readonly epoch: number;
  /** Whether the operation that creates the instance at `epoch` (its start) has been queued... */
  readonly startQueued: boolean;
  /** ...and whether it has been sent to the worker's thread. */
  readonly startSent: boolean;
  /** A start went out in a batch its thread never took (the thread died first): the next operation sent carries it again. */
  readonly startReturned: boolean;
  /** Why the instance at `epoch` was lost, until a reset. */
  readonly lostCause: ReactorPoolError | undefined;
  /** The engine refused a start of this session's instance (no address space): the worker keeps a record of that. */
  readonly startRefused: boolean;
  /** The session's state is in the snapshot store, not in an instance: its next operation restores it. */
  readonly hibernated: boolean;
}

/**
 * An entry taken out of its worker's table ({@link InstanceTable.detach}), to be attached to a worker's
 * table again, e.g. once the instance it names has moved there.
 */
export interface InstanceRecord extends Omit<InstanceEntry, 'workerId'> {
  /** Whether the instance counted as live (against `maxInstances`) when it was detached. */
  readonly live: boolean;
}

export interface InstanceTableOptions {
  readonly isolation: InstanceIsolation;
  /** Live instances at most (`maxInstances`); `Infinity` for no cap. */
  readonly maxInstances: number;
  /**
   * Called once per session per lost instance, right after the entry is marked lost (the pool emits
   * `sessionLost` here). It may reset, bind or forget entries: the table reads them afresh after it.
   */
  readonly onLost: (entry: InstanceEntry, cause: ReactorPoolError) => void;
  /**
   * Durability: called instead of the loss rule, with the entry still at the lost epoch. True when the
   * session is to be rebuilt from its journal: the entry is then hibernated at a fresh epoch, not lost.
   */
  readonly recover?: (entry: InstanceEntry, cause: ReactorPoolError) => boolean;
}

class Entry implements InstanceEntry {
  startQueued = false;
  startSent = false;
  startReturned = false;
  lostCause: ReactorPoolError | undefined;
  startRefused = false;
  hibernated = false;

  constructor(
    readonly key: string,
    public workerId: number,
    readonly instanceId: number,
    public epoch: number,
  ) {}
}

/** A restore or a replay: it replaces the instance, so a start of it that fails loses the session (no retry, never carried by a later operation). */
function replacesInstance(op: Op): boolean {
  return op.kind === 'restore' || op.kind === 'replay';
}

/** The error a session's operations reject with while its instance is lost. */
export function sessionLostError(key: string, cause: ReactorPoolError): SessionLostError {
  return new SessionLostError(
    `session ${JSON.stringify(key)} has lost its instance (${cause.code}: ${cause.message}); call session.reset() to start a fresh one`,
    { sessionKey: key },
    cause,
  );
}

/**
 * Every session's instance, grouped by worker. One table for the pool (not one per worker): the
 * epoch counter and the `maxInstances` count are pool-wide, and moving an instance between workers
 * is a detach from one worker's group and an attach to another's.
 */
export class InstanceTable {
  readonly isolation: InstanceIsolation;
  /** Live instances at most; `Infinity` for no cap. */
  readonly maxInstances: number;
  readonly #onLost: InstanceTableOptions['onLost'];
  readonly #recover: InstanceTableOptions['recover'];
  readonly #byKey = new Map<string, Entry>();
  readonly #byWorker = new Map<number, Set<Entry>>();
  /** Isolation 'worker': the epoch of each worker's shared instance (a new one after it is lost). */
  readonly #sharedEpochs = new Map<number, number>();
  /** What holds a live instance (or one whose start is on its way): an entry, or a worker id for its shared instance. */
  readonly #live = new Set<Entry | number>();
  #epochs = 0;
  /** Instance starts queued so far (see {@link created}). */
  #created = 0;
  #instanceIds = 1; // 0 names the shared instance of isolation 'worker'

  constructor(options: InstanceTableOptions) {
    this.isolation = options.isolation;
    this.maxInstances = options.maxInstances;
    this.#onLost = options.onLost;
    this.#recover = options.recover;
  }

  /** Live instances now (counted from the moment their start is queued). */
  get live(): number {
    return this.#live.size;
  }

  /** Instance starts queued so far: first operations, resets, restores and wakes (under isolation 'worker', starts of a shared instance). */
  get created(): number {
    return this.#created;
  }

  /** Sessions bound to instances on `workerId`. */
  boundTo(workerId: number): number {
    return this.#byWorker.get(workerId)?.size ?? 0;
  }

  /** Whether `entry` is still in the table (not forgotten or detached). */
  holds(entry: InstanceEntry): boolean {
    return this.#byKey.get(entry.key) === entry;
  }

  /** Lost entries in the table. */
  get lost(): number {
    let count = 0;
    for (const entry of this.#byKey.values()) if (entry.lostCause !== undefined) count++;
    return count;
  }

  /**
   * Binds a new session to an instance on `workerId`: its own at a fresh epoch, or the worker's shared
   * one. Nothing is counted until its start is claimed ({@link claimStart}).
   */
  bind(key: string, workerId: number, replacing = false): InstanceEntry {
    // `replacing`: the key's previous session is closing (its entry leaves once its held operations ran).
    if (this.#byKey.has(key) && !replacing) throw new InvalidArgumentError(`session ${JSON.stringify(key)} is already bound to an instance`);
    const entry = this.isolation === 'session'
      ? new Entry(key, workerId, this.#instanceIds++, this.#epochs++)
      : new Entry(key, workerId, 0, this.#sharedEpoch(workerId));
    this.#add(entry);
    return entry;
  }

  /**
   * Called for each operation queued for `entry`: true for the first one of its epoch, which is to
   * create the instance (counted now; throws `ERR_INSTANCE_LIMIT` past the cap, nothing changed).
   */
  claimStart(view: InstanceEntry): boolean {
    const entry = this.#own(view);
    if (entry.startQueued) return false;
    this.#countCreated(this.#count(entry));
    entry.startQueued = true;
    return true;
  }

  /**
   * Binds `entry` to a fresh instance (a new epoch; under isolation 'worker', the worker's current
   * shared one), its start queued by the caller now, its loss forgotten. Throws `ERR_INSTANCE_LIMIT`
   * past the cap, nothing changed; replacing a counted instance (one out, one in) never needs room.
   */
  reset(view: InstanceEntry): void {
    const entry = this.#own(view);
    this.#countCreated(this.#count(entry));
    entry.epoch = this.isolation === 'worker' ? this.#sharedEpoch(entry.workerId) : this.#epochs++;
    entry.lostCause = undefined;
    entry.hibernated = false;
    entry.startQueued = true;
    entry.startSent = false;
    entry.startReturned = false;
  }

  /**
   * The session's instance was snapshotted into the store and dropped: it stops counting, and its next
   * start is a restore ({@link wake}) at a fresh epoch (operations of the old one find no instance).
   */
  hibernate(view: InstanceEntry): void {
    const entry = this.#own(view);
    this.#live.delete(entry);
    entry.epoch = this.#epochs++;
    entry.hibernated = true;
    entry.startQueued = false;
    entry.startSent = false;
    entry.startReturned = false;
  }

  /**
   * A hibernated session is to be restored: a fresh epoch whose start (the restore) the caller queues
   * now. Throws `ERR_INSTANCE_LIMIT` past the cap, nothing changed.
   */
  wake(view: InstanceEntry): void {
    this.reset(view);
  }

  /**
   * Durability: a hibernated session whose journal holds nothing acknowledged: it starts afresh, its
   * next operation creating the instance (at the epoch it has now).
   */
  unhibernate(view: InstanceEntry): void {
    const entry = this.#own(view);
    entry.hibernated = false;
    entry.startQueued = false;
    entry.startSent = false;
    entry.startReturned = false;
  }

  /**
   * `op` of `entry` is being sent to the worker's thread: a start that gets there makes an instance a
   * thread loss takes. True if `op` must carry the start itself (one sent before never got there).
   */
  sending(view: InstanceEntry, op: Op): boolean {
    const entry = this.#own(view);
    if (op.epoch !== entry.epoch) return false;
    if (createsInstance(op)) {
      entry.startSent = true;
      entry.startReturned = false;
      return false;
    }
    if (!entry.startReturned || op.kind === 'drop') return false;
    entry.startSent = true;
    entry.startReturned = false;
    return true;
  }

  /**
   * `op` of `entry` went out but its thread died before taking it: a start in it made no instance
   * anywhere, and the next operation of the session sent carries it again.
   */
  notTaken(view: InstanceEntry, op: Op): void {
    const entry = this.#own(view);
    // A restore is not carried by the next operation (that would start a fresh instance in its place):
    // it still counts as sent, so the thread's loss loses the session.
    if (!createsInstance(op) || op.epoch !== entry.epoch || replacesInstance(op)) return;
    entry.startSent = false;
    entry.startReturned = true;
  }

  /**
   * The error `op` rejects with instead of running, if its instance is already lost
   * (`ERR_SESSION_LOST` with the cause). A drop always runs: it clears the worker's record.
   */
  lostErrorFor(view: InstanceEntry, op: Op): SessionLostError | undefined {
    const entry = this.#own(view);
    if (op.kind === 'drop' || entry.lostCause === undefined || op.epoch !== entry.epoch) return undefined;
    return sessionLostError(entry.key, entry.lostCause);
  }

  /**
   * The worker answered `op` with `error`; `lost`: the worker discarded the instance. Applies the
   * loss rule (the cause being the error itself, or what a worker-side `ERR_SESSION_LOST` carries),
   * or notes a start the engine refused (`ERR_INSTANCE_LIMIT`: not lost, the next call retries).
   */
  operationFailed(view: InstanceEntry, op: Op, error: ReactorPoolError, lost: boolean): void {
    const entry = this.#own(view);
    if (error.code === 'ERR_INSTANCE_LIMIT') this.#startRefused(entry, op);
    if (!lost) return;
    const cause = error instanceof SessionLostError && error.cause instanceof ReactorPoolError ? error.cause : error;
    cause.sessionKey ??= entry.key;
    this.instanceLost(entry, op.epoch, cause);
  }

  /**
   * `op` was taken down without an answer: its thread died (`lost`: it was the runaway call, `error`
   * its timeout) or the pool stopped. Returns the error it rejects with: its own, or, when another
   * call already lost its instance, `ERR_SESSION_LOST` with that cause.
   */
  operationDropped(view: InstanceEntry, op: Op, error: ReactorPoolError, lost: boolean): ReactorPoolError {
    const entry = this.#own(view);
    if (!lost) {
      const carried = this.lostErrorFor(entry, op);
      if (carried !== undefined) return carried;
    }
    const own = lost ? error : errorForSession(error, entry.key);
    own.sessionKey ??= entry.key;
    if (lost) this.instanceLost(entry, op.epoch, own);
    return own;
  }

  /**
   * The instance `entry` used at `epoch` is gone. Its own: the session is lost (if it still targets
   * that epoch). A worker's shared one: every session bound to it is lost, and the worker's next
   * shared instance gets a new epoch.
   */
  instanceLost(view: InstanceEntry, epoch: number, cause: ReactorPoolError): void {
    const entry = this.#own(view);
    if (this.isolation === 'session') {
      if (entry.epoch === epoch) this.#lose(entry, cause);
      return;
    }
    const { workerId } = entry;
    if (this.#sharedEpochs.get(workerId) === epoch) this.#sharedEpochs.set(workerId, this.#epochs++);
    for (const other of this.#entriesOn(workerId)) if (other.epoch === epoch) this.#lose(other, cause);
    this.#releaseShared(workerId);
  }

  /**
   * The thread of `workerId` is gone with every instance on it: each session whose start reached it
   * is lost, idle or not; one whose start never got there had nothing there to lose.
   */
  threadLost(workerId: number, cause: ReactorPoolError): void {
    if (this.isolation === 'worker') this.#sharedEpochs.set(workerId, this.#epochs++);
    for (const entry of this.#entriesOn(workerId)) if (entry.startSent) this.#lose(entry, cause);
    if (this.isolation === 'worker') this.#releaseShared(workerId);
  }

  /**
   * The session is closed: its entry leaves the table and its own instance stops counting. True when
   * the worker holds something of it (an instance, a tombstone, a refusal) that a drop must clear.
   */
  forget(view: InstanceEntry): boolean {
    const entry = this.#own(view);
    this.#remove(entry);
    if (this.isolation === 'worker') return false;
    this.#live.delete(entry);
    return entry.startQueued || entry.startRefused;
  }

  /** Every instance is gone (the pool stopped its threads): none counts any more. */
  releaseAll(): void {
    this.#live.clear();
  }

  /**
   * @internal Takes `key`'s entry out of its worker's table, as a record to {@link attach} elsewhere;
   * its instance stops counting meanwhile. Isolation 'session' only: a shared instance stays with its worker.
   */
  detach(view: InstanceEntry): InstanceRecord {
    this.#assertMovable();
    const entry = this.#own(view);
    const key = entry.key;
    if (this.#byKey.get(key) !== entry) throw new InvalidArgumentError(`session ${JSON.stringify(key)} is not bound to this entry`);
    this.#remove(entry);
    const live = this.#live.delete(entry);
    const { instanceId, epoch, startQueued, startSent, startReturned, lostCause, startRefused, hibernated } = entry;
    return { key, instanceId, epoch, startQueued, startSent, startReturned, lostCause, startRefused, hibernated, live };
  }

  /**
   * @internal Puts a detached record into `workerId`'s table: the same instance (id and epoch), loss
   * and start state. A live one counts again: throws `ERR_INSTANCE_LIMIT` past the cap, nothing attached.
   */
  attach(record: InstanceRecord, workerId: number): InstanceEntry {
    this.#assertMovable();
    if (this.#byKey.has(record.key)) throw new InvalidArgumentError(`session ${JSON.stringify(record.key)} is already bound to an instance`);
    const entry = new Entry(record.key, workerId, record.instanceId, record.epoch);
    entry.startQueued = record.startQueued;
    entry.startSent = record.startSent;
    entry.startReturned = record.startReturned;
    entry.lostCause = record.lostCause;
    entry.startRefused = record.startRefused;
    entry.hibernated = record.hibernated;
    if (record.live) this.#count(entry);
    this.#add(entry);
    return entry;
  }

  /** Applies the loss rule to one session, once per lost instance. */
  #lose(entry: Entry, cause: ReactorPoolError): void {
    if (entry.lostCause !== undefined) return;
    if (!entry.hibernated && this.#recover?.(entry, cause) === true) {
      this.hibernate(entry);
      return;
    }
    entry.lostCause = cause;
    // A hibernated session lost (its snapshot could not be read back) holds its state nowhere.
    entry.hibernated = false;
    if (this.isolation === 'session') this.#live.delete(entry);
    this.#onLost(entry, cause);
  }

  /** The engine had no room to start the instance `op` was to create: not lost, the next call starts it afresh. */
  #startRefused(entry: Entry, op: Op): void {
    // A refused restore lost the instance it replaced: the loss rule applies, not a retry.
    if (!createsInstance(op) || replacesInstance(op) || op.epoch !== entry.epoch || !entry.startQueued || entry.lostCause !== undefined) return;
    entry.startQueued = false;
    entry.startSent = false;
    entry.startReturned = false;
    entry.startRefused = true;
    // A shared instance stays counted (other sessions may be starting it): at worst one too many per worker.
    if (this.isolation === 'session') this.#live.delete(entry);
  }

  /**
   * Isolation 'worker': the worker's shared instance was lost; it stops counting unless a session
   * there has a start queued (which makes the next one).
   */
  #releaseShared(workerId: number): void {
    for (const entry of this.#entriesOn(workerId)) if (entry.lostCause === undefined && entry.startQueued) return;
    this.#live.delete(workerId);
  }

  /** A start was queued: a new instance, unless it is a worker's shared one already counted (`counted` false). */
  #countCreated(counted: boolean): void {
    if (counted || this.isolation === 'session') this.#created++;
  }

  /** Counts the instance `entry` is to start (its own, or its worker's shared one); throws past the cap. False if it counted already. */
  #count(entry: Entry): boolean {
    const holder = this.isolation === 'session' ? entry : entry.workerId;
    if (this.#live.has(holder)) return false;
    if (this.#live.size >= this.maxInstances) {
      throw new InstanceLimitError(
        `session ${JSON.stringify(entry.key)}: starting its instance would pass maxInstances (${this.maxInstances} live instances); nothing ran and the session is not lost: retry once other sessions have closed`,
        { sessionKey: entry.key, limit: this.maxInstances },
      );
    }
    this.#live.add(holder);
    return true;
  }

  #sharedEpoch(workerId: number): number {
    let epoch = this.#sharedEpochs.get(workerId);
    if (epoch === undefined) {
      epoch = this.#epochs++;
      this.#sharedEpochs.set(workerId, epoch);
    }
    return epoch;
  }

  #entriesOn(workerId: number): Set<Entry> {
    let entries = this.#byWorker.get(workerId);
    if (entries === undefined) {
      entries = new Set();
      this.#byWorker.set(workerId, entries);
    }
    return entries;
  }

  #add(entry: Entry): void {
    this.#byKey.set(entry.key, entry);
    this.#entriesOn(entry.workerId).add(entry);
  }

  #remove(entry: Entry): void {
    // A closing session's entry may have been replaced under its key by the key's next session.
    if (this.#byKey.get(entry.key) === entry) this.#byKey.delete(entry.key);
    this.#entriesOn(entry.workerId).delete(entry);
  }

  /**
   * The table's own record behind a view it handed out. A forgotten entry is still accepted: calls of a
   * closed session may still settle, and the loss rule then applies to it as to any other.
   */
  #own(view: InstanceEntry): Entry {
    if (!(view instanceof Entry)) throw new InvalidArgumentError('not an entry of this instance table');
    return view;
  }

  #assertMovable(): void {
    if (this.isolation !== 'session') {
      throw new InvalidArgumentError("instances move between workers only with isolation 'session': a shared instance stays with its worker");
    }
  }
}
