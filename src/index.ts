// reactor-pool: run WASI reactor WebAssembly modules as stateful per-session instances
// in a pool of worker threads. This file is the package's whole public surface.

export { ReactorPool } from './pool.js';
export type {
  PoolFailedEvent, PoolStats, ReactorPoolEvents, SessionHibernatedEvent, SessionLostEvent, SessionRecoveredEvent, SessionRestoredEvent,
  WorkerFailedEvent,
} from './pool.js';
export { CHANNELS } from './diagnostics.js';
export type {
  CallMessage, CallOutcome, PoolClosedMessage, PoolCreatedMessage, SessionClosedMessage, SessionCreatedMessage, SessionHibernatedMessage,
  SessionLostMessage, SessionRecoveredMessage, SessionRestoredMessage, WorkerFailedMessage, WorkerRecycledMessage, WorkerStartedMessage,
} from './diagnostics.js';
export type { PoolMetrics, SessionCounts, WorkerMetrics } from './pool-metrics.js';
export type { LatencySnapshot } from './latency-histogram.js';
export type { SessionInfo, SessionState } from './session-listing.js';
export { DirectorySnapshotStore, MemorySnapshotStore } from './snapshot-store.js';
export type { SnapshotStore, StoreOption } from './snapshot-store.js';
export type { DurabilityOptions, SnapshotEvery } from './durability-options.js';
export { DirectoryDurableStore } from './durable-store.js';
export type { DurableStore } from './durable-store.js';
export { Session } from './session.js';
export type { CallArg, CallOptions, TypedArgs, TypedResults } from './call-options.js';
export type {
  BufferResultName, ExportArgs, ExportName, ExportResult, F32, F64, I32, I64, NoResultModes, ResultModes, SessionCalls, TypedPoolOptions,
  UntypedExports, WasmResult,
} from './export-types.js';
export type { ReferenceReactor } from './reference-reactor.js';
export { exportsDeclaration } from './exports-declaration.js';
export type { ExportsDeclarationOptions } from './exports-declaration.js';
export type {
  Isolation, ModuleBytesInput, ModuleInput, OutputCallback, OutputTarget, ReactorPoolOptions, TrapPolicy, WasiOptions, WorkerResourceLimits,
} from './options.js';
export type { AllocatorKind, BufferArg, ResultMode, WasmValue } from './protocol.js';
export type { CompiledModule } from './compiled-module.js';
export { inspectModule } from './inspect.js';
export type { InspectOptions, ModuleReport } from './inspect.js';
export { defineHostFunctions, hostFunction, HOST_VALUE_TYPES } from './host-functions.js';
export type {
  AnyHostFunction, CheckedHostFunctions, HostArgs, HostContext, HostFunction, HostFunctions, HostResult, HostValue, HostValueType,
} from './host-functions.js';
export type {
  ExecModel, ExportSpec, ExternKind, FunctionSignature, ImportSpec, MemorySpec, ModuleSpec, ValueType,
  MutableGlobalSpec, StackPointerSpec, SnapshotBlocker, SnapshotBlockerCode, SnapshotSpec,
} from './module-spec.js';
export {
  ReactorPoolError, InvalidOptionError, ModuleNotFoundError, InvalidModuleError, NotAReactorError,
  UnsupportedImportError, UnknownExportError, InvalidArgumentError, ReactorTrapError, ReactorExitError, ReactorSignalError,
  WorkerFailedError, SessionLostError, SessionClosedError, PoolClosedError, CallTimeoutError, MemoryLimitError,
  QueueFullError, AbortedError, WorkerRecycledError, RestartLimitError, NoAllocatorError, OutOfBoundsError,
  InstanceLimitError, NotSnapshottableError, InvalidSnapshotError, SnapshotMismatchError, SnapshotStoreError,
  JournalWriteError, ReplayDivergedError, DurableStoreError, InvalidHostFunctionsError, HostFunctionMismatchError,
  HostFunctionFailedError, ClusterUnavailableError, FencedError, ClusterMismatchError, ERROR_CODES,
} from './errors.js';
export type { ErrorCode, ErrorDetails, SerializedError } from './errors.js';
