// One session under durability, on the main thread: journals what its operations did before their
// promises resolve, and parks the operations a lost instance took down until the session is rebuilt.

import type { CallMessage } from './diagnostics.js';
import { JournalWriteError, deserializeError, type ReactorPoolError } from './errors.js';
import type { InstanceEntry, InstanceTable } from './instance-table.js';
import { createsInstance } from './protocol.js';
import type { CallEntry, Durability } from './durability.js';
import { CallFlags, ByteReader, outcomeError, readValue } from './journal-record.js';
import { Status, type Failure, type Op, type OkWithOutput } from './protocol.js';
import type { SessionHistory } from './session-history.js';

/** An operation taken down with its instance, to be sent again once the session is rebuilt. */
export interface ParkedOperation {
  readonly op: Op;
  readonly timeout: number;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** How many worker threads died while it was out: twice, and it is taken for the cause. */
  readonly crashes: number;
  /** When it was first queued (the metrics time it from then, across its resends). */
  readonly queuedAt: number;
  /** Its call trace, if one was started: the resend carries it on. */
  readonly trace: CallMessage | undefined;
}

/** What a job gives the durable session to settle it once its record is durable. */
export interface DurableJob {
  readonly op: Op;
  readonly timeout: number;
  readonly crashes: number;
  readonly queuedAt: number;
  readonly trace: CallMessage | undefined;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** Settles the job's promise (once), giving back its queue places. */
  acknowledge(value: unknown): void;
  refuse(error: unknown): void;
}

/** The entry every journaled call is described by, filled in per call (see DurableSession.#journalCall). */
const CALL: { -readonly [K in keyof CallEntry]: CallEntry[K] } = {
  flags: 0, exportIndex: 0, mode: undefined, typedResult: undefined, idempotencyKey: undefined, args: undefined, outcome: undefined, tape: undefined,
};

/** Thread ends that take instances down without the operation being at fault. */
export const THREAD_LOSSES: ReadonlySet<string> = new Set(['ERR_WORKER_FAILED', 'ERR_WORKER_RECYCLED']);

export class DurableSession {
  readonly durability: Durability;
  readonly #key: string;
  #history: SessionHistory;
  /** Set while the failure of a rebuild (its replay) is applied (by the job): that loss is not rebuilt again, it would fail again. */
  rebuildFailed = false;
  /** The instance was lost and is to be rebuilt where it is (a hibernated session moves to where placement puts it now). */
  recovering = false;
  /** Epochs whose instance was lost and is being rebuilt: operations still out for them come back here. */
  readonly retired = new Set<number>();
  /** Operations out for a retired epoch, in the order they were made. */
  parked: ParkedOperation[] = [];
  /** Operations handed to the worker slot and not settled (or parked) yet. */
  out = 0;
  /** Snapshot bytes → the last record they cover (read by a checkpoint). */
  readonly covered = new WeakMap<Uint8Array, number>();
  #drainWaiters: (() => void)[] = [];
  /** Called when the first operation parks: the session schedules its rebuild (set by the session). */
  onParked: () => void = () => {};

  constructor(durability: Durability, key: string) {
    this.durability = durability;
    this.#key = key;
    this.#history = durability.historyFor(key);
  }

  /** The session's history in the journal (a fresh one once a previous session of the key closed). */
  get history(): SessionHistory {
    if (this.#history.forgotten) this.#history = this.durability.historyFor(this.#key);
    return this.#history;
  }

  /** Whether `op` targets an instance being rebuilt (it goes out again afterwards). */
  isRetired(op: Op): boolean {
    return this.retired.size !== 0 && op.kind !== 'drop' && this.retired.has(op.epoch);
  }

  /** A job of the session left the worker slot (settled, failed or parked). */
  left(): void {
    this.out--;
    if (this.out === 0 && this.#drainWaiters.length > 0) {
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** Resolves once no operation of the session is out (every one took down with its instance is parked). */
  drained(): Promise<void> {
    if (this.out === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Parks an operation taken down with its instance. */
  park(job: DurableJob, crashed = false): void {
    this.parked.push({ op: job.op, timeout: job.timeout, resolve: job.resolve, reject: job.reject, crashes: job.crashes + (crashed ? 1 : 0), queuedAt: job.queuedAt, trace: job.trace });
    this.left();
    if (this.parked.length === 1) this.onParked();
  }

  /** Takes the parked operations, oldest first. */
  takeParked(): ParkedOperation[] {
    const parked = this.parked;
    this.parked = [];
    return parked;
  }

  /**
   * The worker answered `job`: true when durability settles it (journaled first, parked, or from its
   * record); false when the job settles as without durability (a loss: the faulting operation's own error).
   */
  settle(job: DurableJob, status: Status, payload: unknown, entry: InstanceEntry, instances: InstanceTable): boolean {
    const { op } = job;
    if (this.isRetired(op)) {
      this.park(job);
      return true;
    }
    if (status === Status.Failed) {
      const failure = payload as Failure;
      // The rebuild itself failed: the loss rule applies (read by DurabilityLink.recoverable, then cleared).
      if (op.kind === 'replay') {
        this.rebuildFailed = true;
        return false;
      }
      if (failure.lost) {
        // Another operation's loss the main thread has not heard of yet: this one is not at fault.
        if (failure.error.code === 'ERR_SESSION_LOST' && op.epoch === entry.epoch) {
          instances.instanceLost(entry, op.epoch, deserializeError(failure.error.cause ?? failure.error));
          if (this.isRetired(op)) {
            this.park(job);
            return true;
          }
        }
        return false;
      }
      // Nothing ran: as without durability.
      if (failure.error.code === 'ERR_INSTANCE_LIMIT' || failure.error.code === 'ERR_SESSION_LOST' || (op.kind !== 'call' && op.kind !== 'callMany')) return false;
      this.#journalCall(job, failure.error, failure.tape, true);
      return true;
    }
    const { value, tape } = status === Status.OkWithOutput ? payload as OkWithOutput : { value: payload, tape: undefined };
    switch (op.kind) {
      case 'call':
      case 'callMany':
        this.#journalCall(job, value, tape, false);
        return true;
      case 'open':
        this.durability.recordStart(this.history, tape, this.#acknowledge(job, value));
        return true;
      case 'snapshot':
        this.covered.set(value as Uint8Array, this.history.seq + (createsInstance(op) ? 1 : 0));
        if (createsInstance(op)) this.durability.recordStart(this.history, tape, this.#acknowledge(job, value));
        else job.acknowledge(value);
        return true;
      case 'restore':
        // The restored state is the session's base from now on: written before the restore resolves.
        void this.durability.checkpoint(this.history, op.snapshot, this.history.seq, true).then((written) => {
          if (written) {
            job.acknowledge(value);
            return;
          }
          const error = new JournalWriteError(`session ${JSON.stringify(this.history.key)}: the restored snapshot could not be made durable; the session continues from its last acknowledged state`, { sessionKey: this.history.key });
          if (entry.epoch === op.epoch) instances.instanceLost(entry, op.epoch, error);
          job.refuse(error);
        });
        return true;
      case 'replay':
      case 'drop':
        job.acknowledge(value);
        return true;
    }
  }

  /**
   * `job` was taken down without an answer. True when durability handles it: parked while its instance
   * is rebuilt (its thread died under it, not by its doing).
   */
  fail(job: DurableJob, error: ReactorPoolError, lost: boolean, entry: InstanceEntry, instances: InstanceTable): boolean {
    const { op } = job;
    if (this.isRetired(op)) {
      this.park(job);
      return true;
    }
    if (lost || !THREAD_LOSSES.has(error.code) || op.kind === 'drop' || job.crashes >= 1) return false;
    instances.instanceLost(entry, op.epoch, error);
    if (!this.isRetired(op)) return false;
    this.park(job, true);
    return true;
  }

  /** The outcome an idempotency key already has: a settled promise, or undefined if it has none. */
  recorded(idempotencyKey: string): Promise<never> | undefined {
    const pending = this.history.pending.get(idempotencyKey);
    if (pending !== undefined) return pending as Promise<never>;
    const outcome = this.history.idempotency.get(idempotencyKey);
    if (outcome === undefined) return undefined;
    const value = readValue(new ByteReader(outcome));
    const error = outcomeError(value);
    if (error === undefined) return Promise.resolve(value as never);
    const rebuilt = deserializeError(error);
    rebuilt.message = `${rebuilt.message} (the recorded outcome of idempotency key ${JSON.stringify(idempotencyKey)})`;
    return Promise.reject(rebuilt);
  }

  #journalCall(job: DurableJob, outcome: unknown, tape: Uint8Array | undefined, failed: boolean): void {
    const op = job.op;
    if (op.kind !== 'call' && op.kind !== 'callMany') throw new Error(`a ${op.kind} is not a call`);
    const flags = (createsInstance(op) ? CallFlags.Opened : 0) | (op.kind === 'callMany' ? CallFlags.Many : 0) | (failed ? CallFlags.Failed : 0);
    const idempotencyKey = op.idempotencyKey;
    const error = failed ? deserializeError(outcome as Failure['error']) : undefined;
    if (error !== undefined) {
      error.message = `session ${JSON.stringify(this.history.key)}: ${error.message}`;
      error.sessionKey = this.history.key;
    }
    // One entry object for every call: recordCall encodes it at once and keeps nothing of it.
    const entry = CALL;
    entry.flags = flags;
    entry.exportIndex = op.exportIndex;
    entry.mode = op.buffers;
    entry.typedResult = op.kind === 'callMany' ? op.typedResult : undefined;
    entry.idempotencyKey = idempotencyKey;
    entry.args = op.kind === 'call' ? op.args : op.argsList;
    entry.outcome = outcome;
    entry.tape = tape;
    this.durability.recordCall(this.history, entry, job, error);
    entry.args = undefined;
    entry.outcome = undefined;
    entry.tape = undefined;
  }

  #acknowledge(job: DurableJob, value: unknown): (error: JournalWriteError | undefined) => void {
    return (error) => {
      if (error !== undefined) job.refuse(error);
      else job.acknowledge(value);
    };
  }
}
