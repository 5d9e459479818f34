// What a partition's owner does with one batch: every operation handed to the partition's pool in
// the batch's order (so each session's operations keep theirs), then one outcome per operation.

import { ReactorPoolError } from '../errors.js';
import type { CallArg, CallOptions } from '../call-options.js';
import type { Session } from '../session.js';
import type { WireCallOptions, WireOp, WireOutcome, WireValue } from './batch-wire.js';
import type { PartitionPool } from './partition-runtime.js';

/**
 * Codes after which the operation was not acknowledged here but may be elsewhere: the partition's
 * journal refused it (fenced, failed) or its pool was stopped under it. The client sends it again,
 * with its idempotency key, to whoever owns the partition then.
 */
const RESEND: ReadonlySet<string> = new Set(['ERR_JOURNAL_WRITE', 'ERR_FENCED', 'ERR_POOL_CLOSED', 'ERR_DURABLE_STORE']);

/** Starts every operation of the batch now, in order; resolves with their outcomes once all settled. */
export function serveBatch(pool: PartitionPool, ops: readonly WireOp[], stopped: () => string | undefined): Promise<WireOutcome[]> {
  const started = ops.map((op) => start(pool, op));
  return Promise.all(started.map((promise) => promise.then(
    (value): WireOutcome => ({ ok: true, value: value as WireValue }),
    (error: unknown): WireOutcome => outcomeOf(error, stopped()),
  )));
}

function start(pool: PartitionPool, op: WireOp): Promise<unknown> {
  try {
    // A key the pool refuses (a client of another version, or no client at all) fails its op alone.
    const session = pool.session(op.key) as unknown as Session;
    switch (op.op) {
      case 'call':
        return session.with(callOptions(op.id, op.options)).call(op.name, ...(op.args as readonly CallArg[]));
      case 'callMany':
        return session.with(callOptions(op.id, op.options)).callMany(op.name, op.list as never);
      case 'snapshot':
        return session.snapshot();
      case 'restore':
        return session.restore(op.snapshot);
      case 'reset':
        return session.reset();
      case 'close':
        return session.close();
    }
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

function callOptions(id: string, options: WireCallOptions): CallOptions {
  return {
    idempotencyKey: id,
    ...(options.result === undefined ? {} : { result: options.result }),
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
  };
}

/** An error becomes the op's outcome, or a request to send it again when the partition stopped under it. */
function outcomeOf(error: unknown, stoppedBecause: string | undefined): WireOutcome {
  if (error instanceof ReactorPoolError) {
    if (RESEND.has(error.code) || (stoppedBecause !== undefined && error.code === 'ERR_SESSION_LOST')) {
      return { retry: stoppedBecause ?? `${error.code}: ${error.message}` };
    }
    return { ok: false, error: error.toJSON() };
  }
  // Anything else is a bug here, not the caller's: say so rather than pretend it ran.
  return { ok: false, error: { code: 'ERR_WORKER_FAILED', message: `the owner failed serving the operation: ${error instanceof Error ? error.message : String(error)}` } };
}
