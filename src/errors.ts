// Every error reactor-pool raises: one base class, one subclass per stable `code`.
// Errors cross threads as plain `{ code, message, ... }` records and are rebuilt here.

import { types } from 'node:util';

/** Every error code reactor-pool can raise, listed once. Stable: users match on `err.code`. */
export const ERROR_CODES = [
  'ERR_INVALID_OPTION',
  'ERR_MODULE_NOT_FOUND',
  'ERR_INVALID_MODULE',
  'ERR_NOT_A_REACTOR',
  'ERR_UNSUPPORTED_IMPORT',
  'ERR_UNKNOWN_EXPORT',
  'ERR_INVALID_ARGUMENT',
  'ERR_REACTOR_TRAP',
  'ERR_REACTOR_EXIT',
  'ERR_REACTOR_SIGNAL',
  'ERR_WORKER_FAILED',
  'ERR_SESSION_LOST',
  'ERR_SESSION_CLOSED',
  'ERR_POOL_CLOSED',
  'ERR_CALL_TIMEOUT',
  'ERR_MEMORY_LIMIT',
  'ERR_QUEUE_FULL',
  'ERR_ABORTED',
  'ERR_WORKER_RECYCLED',
  'ERR_RESTART_LIMIT',
  'ERR_NO_ALLOCATOR',
  'ERR_OUT_OF_BOUNDS',
  'ERR_INSTANCE_LIMIT',
  'ERR_NOT_SNAPSHOTTABLE',
  'ERR_INVALID_SNAPSHOT',
  'ERR_SNAPSHOT_MISMATCH',
  'ERR_SNAPSHOT_STORE',
  'ERR_JOURNAL_WRITE',
  'ERR_REPLAY_DIVERGED',
  'ERR_DURABLE_STORE',
  'ERR_INVALID_HOST_FUNCTIONS',
  'ERR_HOST_FUNCTION_MISMATCH',
  'ERR_HOST_FUNCTION_FAILED',
  'ERR_CLUSTER_UNAVAILABLE',
  'ERR_FENCED',
  'ERR_CLUSTER_MISMATCH',
] as const;

/** One of {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Codes whose call may succeed if made again, unchanged, a little later (nothing ran, nothing was lost). */
const RETRYABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['ERR_QUEUE_FULL', 'ERR_INSTANCE_LIMIT', 'ERR_JOURNAL_WRITE', 'ERR_CLUSTER_UNAVAILABLE']);

/** Extra, serialisable facts an error may carry. */
export interface ErrorDetails {
  /** The session key the failing call belonged to. */
  sessionKey?: string;
  /** The export that was called. */
  exportName?: string;
  /** The exit code passed to `proc_exit`. */
  exitCode?: number;
  /** The signal number passed to `proc_raise`. */
  signal?: number;
  /** For a `callMany` that failed part-way: how many calls had completed before the failure. */
  completed?: number;
  /**
   * The limit that was crossed: milliseconds (`ERR_CALL_TIMEOUT`), bytes (`ERR_MEMORY_LIMIT`), operations
   * (`ERR_QUEUE_FULL`), live instances (`ERR_INSTANCE_LIMIT`).
   */
  limit?: number;
  /** The worker (0-based) the failure happened on. */
  workerId?: number;
}

/** The plain-object form an error takes when it crosses a thread boundary. */
export interface SerializedError extends ErrorDetails {
  code: ErrorCode;
  message: string;
  cause?: SerializedError;
}

/** Base class of every error reactor-pool raises. Match on {@link ReactorPoolError.code}. */
export class ReactorPoolError extends Error implements ErrorDetails {
  readonly code: ErrorCode;
  // `declare`: set only when known, so a logged error shows no `undefined` fields.
  declare sessionKey?: string;
  declare exportName?: string;
  declare exitCode?: number;
  declare signal?: number;
  declare completed?: number;
  declare limit?: number;
  declare workerId?: number;
  /** The error that led to this one, when there was one (always one of the pool's own errors). */
  declare cause?: ReactorPoolError;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, cause?: ReactorPoolError) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.name = new.target.name;
    if (details.sessionKey !== undefined) this.sessionKey = details.sessionKey;
    if (details.exportName !== undefined) this.exportName = details.exportName;
    if (details.exitCode !== undefined) this.exitCode = details.exitCode;
    if (details.signal !== undefined) this.signal = details.signal;
    if (details.completed !== undefined) this.completed = details.completed;
    if (details.limit !== undefined) this.limit = details.limit;
    if (details.workerId !== undefined) this.workerId = details.workerId;
  }

  /**
   * True when making the same call again later may succeed with nothing else done first
   * (`ERR_QUEUE_FULL`, `ERR_INSTANCE_LIMIT`: nothing ran; `ERR_JOURNAL_WRITE`: nothing was acknowledged). False otherwise: a lost session needs `reset()` first, a bad
   * argument stays bad, a closed pool stays closed.
   */
  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }

  /** The plain-object form, safe to `postMessage`. */
  toJSON(): SerializedError {
    const out: SerializedError = { code: this.code, message: this.message };
    if (this.sessionKey !== undefined) out.sessionKey = this.sessionKey;
    if (this.exportName !== undefined) out.exportName = this.exportName;
    if (this.exitCode !== undefined) out.exitCode = this.exitCode;
    if (this.signal !== undefined) out.signal = this.signal;
    if (this.completed !== undefined) out.completed = this.completed;
    if (this.limit !== undefined) out.limit = this.limit;
    if (this.workerId !== undefined) out.workerId = this.workerId;
    if (this.cause instanceof ReactorPoolError) out.cause = this.cause.toJSON();
    return out;
  }
}

/** An option passed to the pool, a session or the CLI is out of range or of the wrong type. */
export class InvalidOptionError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_INVALID_OPTION', message, details, cause); }
}
/** The module path or URL does not name a readable file. */
export class ModuleNotFoundError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_MODULE_NOT_FOUND', message, details, cause); }
}
/** The bytes are not a valid WebAssembly module, or lack something every reactor needs (an exported memory). */
export class InvalidModuleError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_INVALID_MODULE', message, details, cause); }
}
/** The module is a WASI command (exports `_start`), not a reactor. */
export class NotAReactorError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_NOT_A_REACTOR', message, details, cause); }
}
/** The module imports something outside `wasi_snapshot_preview1` and the pool has no `hostFunctions` option to supply it. */
export class UnsupportedImportError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_UNSUPPORTED_IMPORT', message, details, cause); }
}
/** The called name is not an exported function of the module (or is reserved, like `_initialize`). */
export class UnknownExportError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_UNKNOWN_EXPORT', message, details, cause); }
}
/** A call's arguments do not match the export's signature, or a session key is malformed. */
export class InvalidArgumentError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_INVALID_ARGUMENT', message, details, cause); }
}
/** The export trapped (unreachable, out-of-bounds access, stack overflow...). The instance is kept. */
export class ReactorTrapError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_REACTOR_TRAP', message, details, cause); }
}
/** The reactor called `proc_exit`. Its instance is gone and its session is lost. */
export class ReactorExitError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_REACTOR_EXIT', message, details, cause); }
}
/** The reactor called `proc_raise`; no signal reaches the process. Its instance is gone and its session is lost. */
export class ReactorSignalError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_REACTOR_SIGNAL', message, details, cause); }
}
/** A worker thread died (crash, fatal error) with this call on it. Its sessions are lost. */
export class WorkerFailedError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_WORKER_FAILED', message, details, cause); }
}
/** The session's instance was lost earlier; call `session.reset()` to start a fresh one. `cause` says why. */
export class SessionLostError extends ReactorPoolError {
  /** Why the instance was lost: the error of the call (or the worker's end) that lost it. */
  declare cause?: ReactorPoolError;

  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) {
    super('ERR_SESSION_LOST', message, details, cause);
  }
}
/** The session was closed with `session.close()`; `pool.session(key)` gives a new one. */
export class SessionClosedError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_SESSION_CLOSED', message, details, cause); }
}
/** The pool is closing or closed and accepts no new calls (or was destroyed with calls pending). */
export class PoolClosedError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_POOL_CLOSED', message, details, cause); }
}

/** A call ran longer than its `callTimeout`; its worker was terminated to stop it, losing every instance there. */
export class CallTimeoutError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_CALL_TIMEOUT', message, details, cause); }
}
/** After a call, the instance's linear memory was larger than `memoryLimit`. The instance is discarded. */
export class MemoryLimitError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_MEMORY_LIMIT', message, details, cause); }
}
/** The session's or the pool's queue is full (`maxQueuePerSession`, `maxQueue`). Nothing ran: retry later. */
export class QueueFullError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_QUEUE_FULL', message, details, cause); }
}
/** The call's `AbortSignal` fired before the call reached its worker. Nothing ran. */
export class AbortedError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_ABORTED', message, details, cause); }
}
/** The worker was recycled with `pool.recycleWorker()`; the instances it held are gone. */
export class WorkerRecycledError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_WORKER_RECYCLED', message, details, cause); }
}
/** A worker died `maxRestarts` times in a row without completing any work; the pool stopped instead of respawning it forever. */
export class RestartLimitError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_RESTART_LIMIT', message, details, cause); }
}

/** Bytes or strings were passed to or asked from a module that exports no allocator the pool knows. */
export class NoAllocatorError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_NO_ALLOCATOR', message, details, cause); }
}
/** A buffer the guest allocated or returned lies outside its linear memory (or its allocator failed). */
export class OutOfBoundsError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_OUT_OF_BOUNDS', message, details, cause); }
}

/**
 * Starting one more instance would pass `maxInstances`, or the engine could not reserve memory for it.
 * Nothing ran and the session is not lost: retry once other sessions have closed.
 */
export class InstanceLimitError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_INSTANCE_LIMIT', message, details, cause); }
}

/**
 * The pool cannot snapshot this module's instances (`pool.spec.snapshot` lists why), or not in this
 * configuration (preopened directories, isolation `'worker'`); the message names every reason.
 */
export class NotSnapshottableError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_NOT_SNAPSHOTTABLE', message, details, cause); }
}

/** The bytes given to `restore()` are not a whole, readable snapshot (truncated, corrupted, not a snapshot at all). */
export class InvalidSnapshotError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_INVALID_SNAPSHOT', message, details, cause); }
}

/** The snapshot is sound but was taken of another module (or of the same module configured differently). */
export class SnapshotMismatchError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_SNAPSHOT_MISMATCH', message, details, cause); }
}

/** The snapshot store failed (a `get` or `set` threw or rejected) or no longer holds a hibernated session's snapshot. */
export class SnapshotStoreError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_SNAPSHOT_STORE', message, details, cause); }
}

/**
 * Durability: the journal could not be written or flushed (a full disk, an I/O error). The call was
 * not acknowledged and its effect was rolled back: the session continues from its last acknowledged
 * call. Retryable (with an idempotency key, a retry applies it at most once).
 */
export class JournalWriteError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_JOURNAL_WRITE', message, details, cause); }
}

/**
 * Durability: rebuilding a session from its journal did not reproduce what the journal recorded (the
 * module read something the pool does not record, or the journal was altered): the session is lost.
 */
export class ReplayDivergedError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_REPLAY_DIVERGED', message, details, cause); }
}

/**
 * Durability: the durable store cannot be used (held by another live process, written for another
 * module, unreadable), or a session's durable state in it is missing or corrupt (that session is lost).
 */
export class DurableStoreError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_DURABLE_STORE', message, details, cause); }
}

/**
 * The `hostFunctions` module could not be imported, or what it exports is not a table of host
 * functions (see `defineHostFunctions`); the message shows what was found.
 */
export class InvalidHostFunctionsError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_INVALID_HOST_FUNCTIONS', message, details, cause); }
}

/**
 * The module's imports and the `hostFunctions` module disagree: an import no host function supplies,
 * or one supplied with another signature. The message names every such import, with both signatures.
 */
export class HostFunctionMismatchError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_HOST_FUNCTION_MISMATCH', message, details, cause); }
}

/**
 * A host function threw (or returned a value its declared results cannot hold) during the call; the
 * message carries the host error's. The instance then follows `onTrap`, as after a trap.
 */
export class HostFunctionFailedError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_HOST_FUNCTION_FAILED', message, details, cause); }
}

/**
 * Cluster: no member served the call's partition before the call's deadline (no member owned it, the
 * owner did not answer, or NATS could not be reached). The call was applied at most once: a retry with
 * the same idempotency key is safe.
 */
export class ClusterUnavailableError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_CLUSTER_UNAVAILABLE', message, details, cause); }
}

/**
 * Cluster: a partition's journal refused this member's write because another member took the
 * partition over (its fence record came first). Nothing this member did after that is acknowledged.
 */
export class FencedError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_FENCED', message, details, cause); }
}

/**
 * Cluster: a member's module or partition count differs from the cluster's (set by its first member),
 * or the cluster's records in NATS are not ones this version can read.
 */
export class ClusterMismatchError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) { super('ERR_CLUSTER_MISMATCH', message, details, cause); }
}

type ErrorClass = new (message: string, details?: ErrorDetails, cause?: ReactorPoolError) => ReactorPoolError;

const classByCode: Record<ErrorCode, ErrorClass> = {
  ERR_INVALID_OPTION: InvalidOptionError,
  ERR_MODULE_NOT_FOUND: ModuleNotFoundError,
  ERR_INVALID_MODULE: InvalidModuleError,
  ERR_NOT_A_REACTOR: NotAReactorError,
  ERR_UNSUPPORTED_IMPORT: UnsupportedImportError,
  ERR_UNKNOWN_EXPORT: UnknownExportError,
  ERR_INVALID_ARGUMENT: InvalidArgumentError,
  ERR_REACTOR_TRAP: ReactorTrapError,
  ERR_REACTOR_EXIT: ReactorExitError,
  ERR_REACTOR_SIGNAL: ReactorSignalError,
  ERR_WORKER_FAILED: WorkerFailedError,
  ERR_SESSION_LOST: SessionLostError,
  ERR_SESSION_CLOSED: SessionClosedError,
  ERR_POOL_CLOSED: PoolClosedError,
  ERR_CALL_TIMEOUT: CallTimeoutError,
  ERR_MEMORY_LIMIT: MemoryLimitError,
  ERR_QUEUE_FULL: QueueFullError,
  ERR_ABORTED: AbortedError,
  ERR_WORKER_RECYCLED: WorkerRecycledError,
  ERR_RESTART_LIMIT: RestartLimitError,
  ERR_NO_ALLOCATOR: NoAllocatorError,
  ERR_OUT_OF_BOUNDS: OutOfBoundsError,
  ERR_INSTANCE_LIMIT: InstanceLimitError,
  ERR_NOT_SNAPSHOTTABLE: NotSnapshottableError,
  ERR_INVALID_SNAPSHOT: InvalidSnapshotError,
  ERR_SNAPSHOT_MISMATCH: SnapshotMismatchError,
  ERR_SNAPSHOT_STORE: SnapshotStoreError,
  ERR_JOURNAL_WRITE: JournalWriteError,
  ERR_REPLAY_DIVERGED: ReplayDivergedError,
  ERR_DURABLE_STORE: DurableStoreError,
  ERR_INVALID_HOST_FUNCTIONS: InvalidHostFunctionsError,
  ERR_HOST_FUNCTION_MISMATCH: HostFunctionMismatchError,
  ERR_HOST_FUNCTION_FAILED: HostFunctionFailedError,
  ERR_CLUSTER_UNAVAILABLE: ClusterUnavailableError,
  ERR_FENCED: FencedError,
  ERR_CLUSTER_MISMATCH: ClusterMismatchError,
};

/** A copy of `error` for one session: errors shared by many calls (a dead worker, a closed pool) are never mutated. */
export function errorForSession(error: ReactorPoolError, sessionKey: string): ReactorPoolError {
  if (error.sessionKey === sessionKey) return error;
  return deserializeError({ ...error.toJSON(), sessionKey });
}

/** Rebuilds the error class from its serialised form (as sent by a worker). */
export function deserializeError(record: SerializedError): ReactorPoolError {
  const { code, message, cause, ...details } = record;
  const rebuiltCause = cause === undefined ? undefined : deserializeError(cause);
  // A code this version does not know (a newer worker?) still arrives as a ReactorPoolError.
  // Own properties only: a code like `constructor` must not find Object's.
  const ErrorType: ErrorClass | undefined = Object.hasOwn(classByCode, code) ? classByCode[code] : undefined;
  return ErrorType === undefined
    ? new ReactorPoolError(code, message, details, rebuiltCause)
    : new ErrorType(message, details, rebuiltCause);
}

/** JSON if it can be, else String(), else a plain tag: describing a bad value must never throw. */
function printable(value: unknown): string {
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json;
  } catch {
    // a bigint inside, a cycle, a throwing toJSON: fall through
  }
  try {
    return String(value);
  } catch {
    // A Proxy whose every trap throws cannot even be tagged.
    try {
      return Object.prototype.toString.call(value);
    } catch {
      return '[unprintable object]';
    }
  }
}

/** How a value appears in messages: ``got `0` (number)`` style, bounded in length. */
export function describeValue(value: unknown): string {
  let shown: string;
  if (typeof value === 'number') shown = Object.is(value, -0) ? '-0' : String(value);
  else if (typeof value === 'bigint') shown = `${value}n`;
  else if (typeof value === 'string') shown = JSON.stringify(value);
  else if (typeof value === 'function') shown = `[function ${value.name || 'anonymous'}]`;
  else if (typeof value === 'symbol') shown = value.toString();
  // Brand checks: an object merely posing as a Uint8Array has no byteLength to read.
  else if (types.isUint8Array(value) || types.isArrayBuffer(value)) shown = `${value.constructor.name}(${value.byteLength})`;
  else {
    shown = printable(value);
  }
  if (shown.length > 80) shown = `${shown.slice(0, 77)}...`;
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return `\`${shown}\` (${type})`;
}
