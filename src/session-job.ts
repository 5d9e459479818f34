// One operation of a session on its way to the worker: the Job the worker slot sends, times and
// settles. What its outcome means for the instance is the instance table's to decide.

import { AbortedError, deserializeError, type ReactorPoolError } from './errors.js';
import { createsInstance } from './protocol.js';
import { Status, type Failure, type OkWithOutput, type Op } from './protocol.js';
import { watchSignal } from './signal-watchers.js';
import type { Job } from './job.js';
import type { SessionDeps } from './session.js';
import type { DurableJob } from './durable-session.js';
import { callChannel, traceCallSettled, traceCallStart, type CallMessage } from './diagnostics.js';
import { tickNow } from './tick-clock.js';

/** The job has been handed to its worker. */
const SENT = 1;
/** The job's promise has settled and its queue places were given back. */
const SETTLED = 2;

export class SessionJob implements Job, DurableJob {
  op: Op;
  /** {@link SENT} and {@link SETTLED} bits: one small integer keeps the per-call object lean. */
  #flags = 0;
  #unwatch: (() => void) | undefined;
  /** When the operation was queued (or made, for one held behind its session's gate), to the tick. */
  readonly queuedAt: number;
  /** When it was sent to the thread, to the tick; -1 until then. */
  #sentAt = -1;
  /** Its trace message, when the call channel had subscribers as it was queued. */
  #trace: CallMessage | undefined;

  /** The call's trace, if one was started. */
  get trace(): CallMessage | undefined {
    return this.#trace;
  }

  constructor(
    /** The session's wiring, shared by all its jobs. */
    readonly session: SessionDeps,
    op: Op,
    /** Milliseconds the operation may run; 0 for no limit. */
    readonly timeout: number,
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: unknown) => void,
    /** Under durability: worker threads that died while this operation was out (see DurableSession.fail). */
    readonly crashes = 0,
    /** When the operation was made, if before now (held behind its session's gate, or parked and sent again). */
    queuedAt?: number,
    /** A parked operation's trace, carried on to its resend (not started again). */
    trace?: CallMessage,
  ) {
    this.op = op;
    this.queuedAt = queuedAt ?? tickNow();
    if (session.durable !== undefined) session.durable.out++;
    if (trace !== undefined) this.#trace = trace;
    else if (callChannel.hasSubscribers && (op.kind === 'call' || op.kind === 'callMany')) this.#startTrace(op.kind, op.exportIndex, op.kind === 'call' ? 1 : op.argsList.length, queuedAt);
  }

  #startTrace(kind: 'call' | 'callMany', exportIndex: number, count: number, queuedAt: number | undefined): void {
    const { session } = this;
    this.#trace = {
      pool: session.meter.pool, key: session.key, exportName: session.exports.nameAt(exportIndex), kind, count,
      workerId: session.worker.id, queuedAt: queuedAt ?? performance.now(), dispatchedAt: undefined, settledAt: undefined, outcome: undefined,
    };
    traceCallStart(this.#trace);
  }

  get sessionKey(): string {
    return this.session.key;
  }

  /** Rejects the job with ERR_ABORTED if `signal` fires while it is still queued. */
  watch(signal: AbortSignal): void {
    this.#unwatch = watchSignal(signal, () => {
      if ((this.#flags & SENT) !== 0) return;
      this.#rejectWith(abortedError(this.session.key, signal));
    });
  }

  beforeSend(): boolean {
    const { session, op } = this;
    if ((this.#flags & SETTLED) === 0 && session.durable?.isRetired(op) === true) {
      // Its instance is being rebuilt: it goes out again afterwards.
      session.durable.park(this);
      return false;
    }
    if ((this.#flags & SETTLED) !== 0) {
      // Aborted while queued. If it was to create the instance, the instance is still created (calls
      // behind it count on that), but the export is not called.
      if (op.kind === 'open' || !createsInstance(op)) return false;
      this.op = { kind: 'open', instanceId: op.instanceId, epoch: op.epoch };
    } else {
      const lost = session.instances.lostErrorFor(session.entry, op);
      if (lost !== undefined) {
        this.#rejectWith(lost);
        return false;
      }
    }
    if (session.instances.sending(session.entry, this.op)) {
      // The session's start went out before in a batch its dying thread never took: this carries it.
      const op = this.op;
      if (op.kind === 'call' || op.kind === 'callMany' || op.kind === 'snapshot') this.op = { ...op, open: true };
    }
    this.#flags |= SENT;
    this.#sentAt = tickNow();
    const trace = this.#trace;
    if (trace !== undefined) {
      trace.dispatchedAt = performance.now();
      trace.workerId = session.worker.id;
    }
    return true;
  }

  notTaken(): void {
    this.#flags &= ~SENT;
    this.session.instances.notTaken(this.session.entry, this.op);
  }

  settle(status: Status, payload: unknown): void {
    const { session } = this;
    if (session.durable !== undefined) {
      const output = status === Status.Ok ? undefined : (payload as OkWithOutput | Failure).output;
      if (output !== undefined && output.length > 0) session.output.deliver(session.key, output);
      if (session.durable.settle(this, status, payload, session.entry, session.instances)) return;
      if (status !== Status.Failed) throw new Error('durability settles every success');
      try {
        this.#failed(payload as Failure, false);
      } finally {
        session.durable.rebuildFailed = false;
      }
      return;
    }
    if (status === Status.Ok) {
      this.#resolveWith(payload);
      return;
    }
    if (status === Status.OkWithOutput) {
      const { value, output } = payload as OkWithOutput;
      session.output.deliver(session.key, output);
      this.#resolveWith(value);
      return;
    }
    this.#failed(payload as Failure, true);
  }

  /** The worker answered with a failure: the instance table applies what it means; the job rejects with it. */
  #failed(failure: Failure, deliver: boolean): void {
    const { session } = this;
    if (deliver && failure.output !== undefined) session.output.deliver(session.key, failure.output);
    const error = deserializeError(failure.error);
    error.message = `session ${JSON.stringify(session.key)}: ${error.message}`;
    error.sessionKey = session.key;
    session.instances.operationFailed(session.entry, this.op, error, failure.lost);
    this.#rejectWith(error);
  }

  fail(error: ReactorPoolError, lost: boolean): void {
    const { session } = this;
    if (session.durable?.fail(this, error, lost, session.entry, session.instances) === true) return;
    this.#rejectWith(session.instances.operationDropped(session.entry, this.op, error, lost));
  }

  describe(): string {
    const { op, session } = this;
    if (op.kind === 'snapshot' || op.kind === 'restore' || op.kind === 'replay') return `session ${JSON.stringify(session.key)}: ${op.kind}`;
    const name = op.kind === 'open' ? '_initialize' : op.kind === 'drop' ? 'close' : session.exports.nameAt(op.exportIndex);
    return `session ${JSON.stringify(session.key)}: ${op.kind === 'callMany' ? 'callMany of ' : ''}\`${name}\``;
  }

  /** Resolves the job (durability: once its record is durable). */
  acknowledge(value: unknown): void {
    this.#resolveWith(value);
  }

  /** Rejects the job (durability: its record could not be written, or the failure it recorded). */
  refuse(error: unknown): void {
    this.#rejectWith(error);
  }

  #resolveWith(value: unknown): void {
    if (!this.#finish()) return;
    this.#measure(false, value);
    this.resolve(value);
  }

  #rejectWith(error: unknown): void {
    if (!this.#finish()) return;
    this.#measure(true, error);
    this.reject(error);
  }

  /** Counts and times a settled call (other operations are not calls); tells the trace. */
  #measure(failed: boolean, value: unknown): void {
    const kind = this.op.kind;
    // An aborted call's instance start goes out as an 'open': it was counted when it rejected.
    if (kind !== 'call' && kind !== 'callMany') return;
    this.session.meter.callSettled(this.queuedAt, this.#sentAt, failed, value);
    if (this.#trace !== undefined) traceCallSettled(this.#trace, failed, value);
  }

  /** Marks the job settled once; false if it already was (an aborted job's late outcome). */
  #finish(): boolean {
    if ((this.#flags & SETTLED) !== 0) return false;
    this.#flags |= SETTLED;
    if (this.#unwatch !== undefined) {
      this.#unwatch();
      this.#unwatch = undefined;
    }
    const { queue, hibernation, durable } = this.session;
    queue.give();
    durable?.left();
    // The session may be idle now: a start waiting for room at maxInstances may hibernate it.
    if (queue.pending === 0) hibernation?.settledWork();
    return true;
  }
}

/** The error for an operation of `key` whose signal fired before it reached its worker. */
export function abortedError(key: string, signal: AbortSignal): AbortedError {
  const why = abortReason(signal);
  return new AbortedError(`session ${JSON.stringify(key)}: the call was aborted before it reached its worker${why}; nothing ran`, { sessionKey: key });
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
