// Every error reactor-pool raises: one base class, one subclass per stable `code`.
// Errors cross threads as plain `{ code, message, ... }` records and are rebuilt here.

/** Every error code reactor-pool can raise. Stable: users match on `err.code`. */
export type ErrorCode =
  | 'ERR_INVALID_OPTION'
  | 'ERR_MODULE_NOT_FOUND'
  | 'ERR_INVALID_MODULE'
  | 'ERR_NOT_A_REACTOR'
  | 'ERR_UNSUPPORTED_IMPORT'
  | 'ERR_UNKNOWN_EXPORT'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_REACTOR_TRAP'
  | 'ERR_REACTOR_EXIT'
  | 'ERR_WORKER_FAILED'
  | 'ERR_SESSION_LOST'
  | 'ERR_SESSION_CLOSED'
  | 'ERR_POOL_CLOSED';

/** Extra, serialisable facts an error may carry. */
export interface ErrorDetails {
  /** The session key the failing call belonged to. */
  sessionKey?: string;
  /** The export that was called. */
  exportName?: string;
  /** The exit code passed to `proc_exit`. */
  exitCode?: number;
  /** For a `callMany` that failed part-way: how many calls had completed before the failure. */
  completed?: number;
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
  sessionKey?: string;
  exportName?: string;
  exitCode?: number;
  completed?: number;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, cause?: ReactorPoolError) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.name = new.target.name;
    if (details.sessionKey !== undefined) this.sessionKey = details.sessionKey;
    if (details.exportName !== undefined) this.exportName = details.exportName;
    if (details.exitCode !== undefined) this.exitCode = details.exitCode;
    if (details.completed !== undefined) this.completed = details.completed;
  }

  /** The plain-object form, safe to `postMessage`. */
  toJSON(): SerializedError {
    const out: SerializedError = { code: this.code, message: this.message };
    if (this.sessionKey !== undefined) out.sessionKey = this.sessionKey;
    if (this.exportName !== undefined) out.exportName = this.exportName;
    if (this.exitCode !== undefined) out.exitCode = this.exitCode;
    if (this.completed !== undefined) out.completed = this.completed;
    if (this.cause instanceof ReactorPoolError) out.cause = this.cause.toJSON();
    return out;
  }
}

/** An option passed to the pool, a session or the CLI is out of range or of the wrong type. */
export class InvalidOptionError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails) { super('ERR_INVALID_OPTION', message, details); }
}
/** The module path or URL does not name a readable file. */
export class ModuleNotFoundError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails) { super('ERR_MODULE_NOT_FOUND', message, details); }
}
/** The bytes are not a valid WebAssembly module, or lack something every reactor needs (an exported memory). */
export class InvalidModuleError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails) { super('ERR_INVALID_MODULE', message, details); }
}
/** The module is a WASI command (exports `_start`), not a reactor. */
export class NotAReactorError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails) { super('ERR_NOT_A_REACTOR', message, details); }
}
/** The module imports something outside `wasi_snapshot_preview1` that the pool was not given. */
export class UnsupportedImportError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails) { super('ERR_UNSUPPORTED_IMPORT', message, details); }
}
/** The called name is not an exported function of the module (or is reserved, like `_initialize`). */
export class UnknownExportError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails) { super('ERR_UNKNOWN_EXPORT', message, details); }
}
/** A call's arguments do not match the export's signature, or a session key is malformed. */
export class InvalidArgumentError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails) { super('ERR_INVALID_ARGUMENT', message, details); }
}
/** The export trapped (unreachable, out-of-bounds access, stack overflow...). The instance is kept. */
export class ReactorTrapError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails) { super('ERR_REACTOR_TRAP', message, details); }
}
/** The reactor called `proc_exit`. Its instance is gone and its session is lost. */
export class ReactorExitError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails) { super('ERR_REACTOR_EXIT', message, details); }
}
/** A worker thread died (crash, fatal error) with this call on it. Its sessions are lost. */
export class WorkerFailedError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails) { super('ERR_WORKER_FAILED', message, details); }
}
/** The session's instance was lost earlier; call `session.reset()` to start a fresh one. `cause` says why. */
export class SessionLostError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails, cause?: ReactorPoolError) {
    super('ERR_SESSION_LOST', message, details, cause);
  }
}
/** The session was closed with `session.close()`; `pool.session(key)` gives a new one. */
export class SessionClosedError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails) { super('ERR_SESSION_CLOSED', message, details); }
}
/** The pool is closing or closed and accepts no new calls (or was destroyed with calls pending). */
export class PoolClosedError extends ReactorPoolError {
  constructor(message: string, details?: ErrorDetails) { super('ERR_POOL_CLOSED', message, details); }
}

type ErrorClass = new (message: string, details?: ErrorDetails) => ReactorPoolError;

const classByCode: Record<Exclude<ErrorCode, 'ERR_SESSION_LOST'>, ErrorClass> = {
  ERR_INVALID_OPTION: InvalidOptionError,
  ERR_MODULE_NOT_FOUND: ModuleNotFoundError,
  ERR_INVALID_MODULE: InvalidModuleError,
  ERR_NOT_A_REACTOR: NotAReactorError,
  ERR_UNSUPPORTED_IMPORT: UnsupportedImportError,
  ERR_UNKNOWN_EXPORT: UnknownExportError,
  ERR_INVALID_ARGUMENT: InvalidArgumentError,
  ERR_REACTOR_TRAP: ReactorTrapError,
  ERR_REACTOR_EXIT: ReactorExitError,
  ERR_WORKER_FAILED: WorkerFailedError,
  ERR_SESSION_CLOSED: SessionClosedError,
  ERR_POOL_CLOSED: PoolClosedError,
};

/** Rebuilds the error class from its serialised form (as sent by a worker). */
export function deserializeError(record: SerializedError): ReactorPoolError {
  const { code, message, cause, ...details } = record;
  if (code === 'ERR_SESSION_LOST') {
    return new SessionLostError(message, details, cause === undefined ? undefined : deserializeError(cause));
  }
  // A code this version does not know (a newer worker?) still arrives as a ReactorPoolError.
  const ErrorType: ErrorClass | undefined = classByCode[code];
  return ErrorType === undefined ? new ReactorPoolError(code, message, details) : new ErrorType(message, details);
}

/** How a value appears in messages: ``got `0` (number)`` style, bounded in length. */
export function describeValue(value: unknown): string {
  let shown: string;
  if (typeof value === 'bigint') shown = `${value}n`;
  else if (typeof value === 'string') shown = JSON.stringify(value);
  else if (typeof value === 'function') shown = `[function ${value.name || 'anonymous'}]`;
  else if (typeof value === 'symbol') shown = value.toString();
  else if (value instanceof Uint8Array || value instanceof ArrayBuffer) shown = `${value.constructor.name}(${value.byteLength})`;
  else {
    try {
      shown = JSON.stringify(value) ?? String(value);
    } catch {
      shown = String(value);
    }
  }
  if (shown.length > 80) shown = `${shown.slice(0, 77)}...`;
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return `\`${shown}\` (${type})`;
}
