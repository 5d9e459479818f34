// The pool's `node:diagnostics_channel` channels: their names (this is their one home) and the shapes
// of their messages. Nothing is built or timed for a channel nobody subscribes to.

import diagnosticsChannel from 'node:diagnostics_channel';
import { ReactorPoolError, type ErrorCode } from './errors.js';
import type { ReactorPool } from './pool.js';

/**
 * Every channel's name. `call` names a TracingChannel: subscribe with
 * `diagnostics_channel.tracingChannel(CHANNELS.call).subscribe({ start, end, asyncStart, asyncEnd, error })`
 * (its sub-channels are `tracing:reactor-pool:call:start` and so on); the others are plain channels.
 */
export const CHANNELS = {
  call: 'reactor-pool:call',
  poolCreated: 'reactor-pool:pool:created',
  poolClosed: 'reactor-pool:pool:closed',
  sessionCreated: 'reactor-pool:session:created',
  sessionHibernated: 'reactor-pool:session:hibernated',
  sessionRestored: 'reactor-pool:session:restored',
  sessionLost: 'reactor-pool:session:lost',
  sessionRecovered: 'reactor-pool:session:recovered',
  sessionClosed: 'reactor-pool:session:closed',
  workerStarted: 'reactor-pool:worker:started',
  workerFailed: 'reactor-pool:worker:failed',
  workerRecycled: 'reactor-pool:worker:recycled',
} as const;

/**
 * The context object of one call (or callMany) on the `reactor-pool:call` TracingChannel: the same
 * object is published on `start` (the call is queued for its worker), `end` (right after: the call
 * returned its promise), `error` (it rejected), then `asyncStart` and `asyncEnd` (it settled). Times are
 * `performance.now()` readings in milliseconds; fields are filled in as the call goes.
 */
export interface CallMessage {
  readonly pool: ReactorPool;
  /** The session key. */
  readonly key: string;
  /** The export called. */
  readonly exportName: string;
  readonly kind: 'call' | 'callMany';
  /** Calls in it: 1 for `call`, the list's length for `callMany`. */
  readonly count: number;
  /** The worker it was queued for (and sent to, unless its session moved meanwhile). */
  workerId: number;
  /** When it was queued for the worker (for a call held while its session woke: when it was made, to the tick). */
  readonly queuedAt: number;
  /** When it was sent to the worker's thread; undefined if it never was (rejected while queued). */
  dispatchedAt: number | undefined;
  /** When its promise settled. */
  settledAt: number | undefined;
  /** `'ok'`, or the code it rejected with; undefined until it settles. */
  outcome: CallOutcome | undefined;
  /** The value it resolved with. */
  result?: unknown;
  /** The error it rejected with. */
  error?: unknown;
}

/** `reactor-pool:pool:created`: a pool is ready (its workers run). */
export interface PoolCreatedMessage {
  readonly pool: ReactorPool;
  readonly workers: number;
  readonly isolation: 'session' | 'worker';
}

/** `reactor-pool:pool:closed`: a pool stopped: closed, destroyed, or failed (`cause` says which). */
export interface PoolClosedMessage {
  readonly pool: ReactorPool;
  readonly cause: ReactorPoolError;
}

/** `reactor-pool:session:created`: a new handle for `key`, placed on `workerId`. */
export interface SessionCreatedMessage {
  readonly pool: ReactorPool;
  readonly key: string;
  readonly workerId: number;
}

/** `reactor-pool:session:hibernated`: the session's snapshot (`bytes` long) is in the store, its instance gone. */
export interface SessionHibernatedMessage {
  readonly pool: ReactorPool;
  readonly key: string;
  readonly bytes: number;
}

/** `reactor-pool:session:restored`: a hibernated session was restored on `workerId`. */
export interface SessionRestoredMessage {
  readonly pool: ReactorPool;
  readonly key: string;
  readonly workerId: number;
}

/** `reactor-pool:session:lost`: the session lost its instance (the loss rule); `cause` says why. */
export interface SessionLostMessage {
  readonly pool: ReactorPool;
  readonly key: string;
  readonly cause: ReactorPoolError;
}

/** `reactor-pool:session:recovered`: a durable session was rebuilt from its snapshot and `records` journal records. */
export interface SessionRecoveredMessage {
  readonly pool: ReactorPool;
  readonly key: string;
  readonly workerId: number;
  readonly records: number;
}

/** `reactor-pool:session:closed`: the session's close finished (its instance dropped, its key free); published as `close()` settles. */
export interface SessionClosedMessage {
  readonly pool: ReactorPool;
  readonly key: string;
}

/** `reactor-pool:worker:started`: a worker's thread is ready (at create, and each replacement). */
export interface WorkerStartedMessage {
  readonly pool: ReactorPool;
  readonly workerId: number;
  /** The thread's `threadId`. */
  readonly threadId: number;
}

/** `reactor-pool:worker:failed`: a worker's thread died or was terminated to stop a runaway call. */
export interface WorkerFailedMessage {
  readonly pool: ReactorPool;
  readonly workerId: number;
  readonly cause: ReactorPoolError;
}

/** `reactor-pool:worker:recycled`: a worker's thread was replaced by `recycleWorker()` (or removed by `resize()`). */
export interface WorkerRecycledMessage {
  readonly pool: ReactorPool;
  readonly workerId: number;
}

/** The channels, made once (a channel object is cheap to check: `hasSubscribers` is a field read). */
export const callChannel = diagnosticsChannel.tracingChannel<unknown, CallMessage>(CHANNELS.call);
export const poolCreatedChannel = diagnosticsChannel.channel(CHANNELS.poolCreated);
export const poolClosedChannel = diagnosticsChannel.channel(CHANNELS.poolClosed);
export const sessionCreatedChannel = diagnosticsChannel.channel(CHANNELS.sessionCreated);
export const sessionHibernatedChannel = diagnosticsChannel.channel(CHANNELS.sessionHibernated);
export const sessionRestoredChannel = diagnosticsChannel.channel(CHANNELS.sessionRestored);
export const sessionLostChannel = diagnosticsChannel.channel(CHANNELS.sessionLost);
export const sessionRecoveredChannel = diagnosticsChannel.channel(CHANNELS.sessionRecovered);
export const sessionClosedChannel = diagnosticsChannel.channel(CHANNELS.sessionClosed);
export const workerStartedChannel = diagnosticsChannel.channel(CHANNELS.workerStarted);
export const workerFailedChannel = diagnosticsChannel.channel(CHANNELS.workerFailed);
export const workerRecycledChannel = diagnosticsChannel.channel(CHANNELS.workerRecycled);

/** The `end` of a call's trace follows its `start` at once: the call has returned its promise by then. */
export function traceCallStart(message: CallMessage): void {
  callChannel.start.publish(message);
  callChannel.end.publish(message);
}

/** A traced call settled: `error` (if it rejected), then `asyncStart` and `asyncEnd`. */
export function traceCallSettled(message: CallMessage, failed: boolean, value: unknown): void {
  message.settledAt = performance.now();
  if (failed) {
    message.error = value;
    message.outcome = codeOf(value);
    callChannel.error.publish(message);
  } else {
    message.result = value;
    message.outcome = 'ok';
  }
  callChannel.asyncStart.publish(message);
  callChannel.asyncEnd.publish(message);
}

/** How a call ended: `'ok'`, the code it rejected with, or `'error'` for an uncoded error (none of the pool's own). */
export type CallOutcome = 'ok' | ErrorCode | 'error';

/** The outcome of a call that rejected with `error`. */
export function codeOf(error: unknown): Exclude<CallOutcome, 'ok'> {
  return error instanceof ReactorPoolError ? error.code : 'error';
}
