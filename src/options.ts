// The pool's options: their documented types and defaults, and the up-front validation that turns
// what the user passed into a frozen, fully-resolved copy (the caller's object is never touched).

import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { HIBERNATION_OPTIONS, resolveHibernationOptions, type HibernationOptions } from './hibernation-options.js';
import type { StoreOption } from './snapshot-store.js';
import { resolveDurability, type DurabilityOptions, type ResolvedDurability } from './durability-options.js';
import type { CompiledModule } from './compiled-module.js';
import { InvalidOptionError, describeValue } from './errors.js';
import { RESULT_MODES, type ResultMode } from './protocol.js';
import { resolveHostFunctionsOption } from './host-functions.js';

/**
 * Where a module comes from: a file path, a `file:` URL (a `URL`, or a string starting with `file:`
 * such as `import.meta.resolve('reactor-pool/reactor.wasm')` gives), its bytes, or an already
 * compiled module.
 */
export type ModuleInput = ModuleBytesInput | CompiledModule;

/** A module given as a file path, a `file:` URL (a `URL` or a string starting with `file:`), or its bytes. */
export type ModuleBytesInput = string | URL | Uint8Array | ArrayBuffer;

/** Receives what reactors write to a stream, with the key of the session whose call wrote it. */
export type OutputCallback = (chunk: Uint8Array, sessionKey: string) => void;

/**
 * Where a reactor stream goes: `'inherit'` writes it to this process's stream, `'ignore'` drops it,
 * a function receives each chunk with its session key.
 */
export type OutputTarget = 'inherit' | 'ignore' | OutputCallback;

/** The accepted values of `isolation`, in the order messages list them. */
export const ISOLATIONS = ['session', 'worker'] as const;

/** How reactor instances map to sessions. */
export type Isolation = (typeof ISOLATIONS)[number];

/**
 * What a trap does to the instance that trapped. In every case the trapping call rejects with
 * `ERR_REACTOR_TRAP`.
 * - `'keep'`: the instance stays; writes made before the trap persist; later calls run on it.
 * - `'lose'`: the session is lost (the loss rule): its calls reject with `ERR_SESSION_LOST` until `reset()`.
 * - `'reset'`: as `'lose'`, then the pool calls `reset()` itself: calls already queued reject with
 *   `ERR_SESSION_LOST`, calls made after the trap's rejection run on a fresh instance. For reactors
 *   whose state is disposable.
 */
export type TrapPolicy = (typeof TRAP_POLICIES)[number];

/** The accepted values of `onTrap`, in the order messages list them. */
export const TRAP_POLICIES = ['keep', 'lose', 'reset'] as const;

/** Engine limits of one worker thread, in MB (see Node's `Worker` `resourceLimits`). */
export interface WorkerResourceLimits {
  readonly maxOldGenerationSizeMb?: number;
  readonly maxYoungGenerationSizeMb?: number;
  readonly codeRangeSizeMb?: number;
  readonly stackSizeMb?: number;
}

/** What each reactor's WASI environment gets. Nothing unless given. */
export interface WasiOptions {
  /** Command-line arguments the reactor sees (`args_get`). @default [] */
  readonly args?: readonly string[];
  /** Environment variables the reactor sees (`environ_get`). @default {} */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Guest path → host directory. Grants file access: `node:wasi` is not a sandbox. Each host path
   * must be an existing, readable directory when the pool is created. @default {}
   */
  readonly preopens?: Readonly<Record<string, string>>;
  /**
   * What every instance reads on fd 0 (a string is UTF-8): the bytes, then end-of-file. Each
   * instance reads its own copy from the start; the host's stdin is never reachable.
   * @default empty (end-of-file at once)
   */
  readonly stdin?: string | Uint8Array;
}

/** Options of {@link ReactorPool.create}. */
export interface ReactorPoolOptions {
  /** The reactor module. Pass bytes or a path for full argument checking (a compiled module carries no signatures). */
  readonly module: ModuleInput;
  /**
   * How many worker threads run reactors.
   * @default os.availableParallelism()
   */
  readonly workers?: number;
  /**
   * `'session'`: every session gets its own instance, created on its first call.
   * `'worker'`: every worker has one instance shared by all sessions placed on it (cheapest; for
   * reactors whose state is not per-user).
   * @default 'session'
   */
  readonly isolation?: Isolation;
  /** Where reactors' stdout goes. @default 'inherit' */
  readonly stdout?: OutputTarget;
  /** Where reactors' stderr goes. @default 'inherit' */
  readonly stderr?: OutputTarget;
  /** WASI arguments, environment and preopened directories. @default none */
  readonly wasi?: WasiOptions;
  /**
   * Milliseconds one call (or one whole `callMany`) may run in its worker; time spent queued does
   * not count. A call past it is stopped by terminating its worker thread: the call rejects with
   * `ERR_CALL_TIMEOUT`, every session with an instance on that worker is lost, the thread is
   * replaced. Per call: `session.with({ timeout })`. `Infinity` turns it off.
   * @default Infinity
   */
  readonly callTimeout?: number;
  /**
   * Bytes of linear memory one instance may hold, checked after each call and each `callMany`.
   * Crossing it rejects that call with `ERR_MEMORY_LIMIT` and loses the session (the instance is
   * discarded: linear memory never shrinks). `Infinity` turns it off.
   * @default Infinity
   */
  readonly memoryLimit?: number;
  /**
   * Operations one session may have queued or running; one more rejects at once with
   * `ERR_QUEUE_FULL` (`retryable: true`). A `callMany` counts as one.
   * @default 10_000
   */
  readonly maxQueuePerSession?: number;
  /**
   * Operations the whole pool may have queued or running; one more rejects at once with `ERR_QUEUE_FULL`.
   * @default 1_000_000
   */
  readonly maxQueue?: number;
  /** What a trap does to the instance. @default 'keep' */
  readonly onTrap?: TrapPolicy;
  /**
   * Limits of each worker thread's JavaScript engine (Node's `Worker` `resourceLimits`), in MB. A
   * worker that runs out (say, a reactor printing without end in one call) dies with
   * `ERR_WORKER_OUT_OF_MEMORY`: a crash like any other (the loss rule, a replacement). Wasm linear
   * memory is not counted here: bound it with `memoryLimit`.
   * @default Node's defaults
   */
  readonly resourceLimits?: WorkerResourceLimits;
  /**
   * How many times in a row a worker thread may die unexpectedly (a crash, an out-of-memory; not a
   * timeout or a recycle) without completing any work in between. One more and the pool stops
   * with `ERR_RESTART_LIMIT` instead of respawning forever.
   * @default 5
   */
  readonly maxRestarts?: number;
  /**
   * Live instances the pool may hold (with isolation `'worker'`, one per worker). A call that would
   * start one more rejects at once with `ERR_INSTANCE_LIMIT` (`retryable: true`): nothing runs and
   * the session is not lost, so it may succeed once other sessions close. `Infinity` lifts the cap
   * (the engine's own ceiling then still answers `ERR_INSTANCE_LIMIT`, after a slow failed start).
   * @default 10_000 ({@link DEFAULT_MAX_INSTANCES})
   */
  readonly maxInstances?: number;
  /**
   * How each export's result is read when a call does not say (`session.with({ result })` still
   * overrides it per call): `'value'` as it is; `'bytes'` (a `Uint8Array`) or `'string'` (UTF-8) for
   * an export returning one i64, `pointer << 32 | length`, naming a buffer in guest memory that the
   * pool copies out and frees. Checked at create (`ERR_INVALID_OPTION`): each name is a callable
   * export, and a `'bytes'`/`'string'` one returns one i64 and the module has an allocator (a
   * compiled module carries no signatures: only the names are checked).
   * @default {} (every export `'value'`)
   * @example { results: { greet: 'string', reverse: 'bytes' } }
   */
  readonly results?: Readonly<Record<string, ResultMode>>;
  /**
   * Milliseconds without an operation after which a session hibernates: its state goes to `store` as a
   * snapshot and its instance is dropped; its next operation restores it (callers see only latency).
   * Needs a module that can be snapshotted (`ERR_NOT_SNAPSHOTTABLE` at create otherwise).
   * @default Infinity (sessions do not hibernate for being idle)
   */
  readonly idleTimeout?: number;
  /**
   * Active sessions (awake, with an instance) at most: past it the least recently used idle ones
   * hibernate. A start that would pass `maxInstances` waits for such a hibernation instead of failing.
   * Setting it needs a module that can be snapshotted; `Infinity` turns it off.
   * @default 5_000 (within `maxInstances`) when the module can be snapshotted and isolation is 'session'; otherwise off
   */
  readonly maxActiveSessions?: number;
  /**
   * Bytes of linear memory across active instances at most (as the workers last counted them): past
   * it the least recently used idle sessions hibernate. `Infinity` turns it off.
   * @default Infinity
   */
  readonly maxActiveMemory?: number;
  /**
   * Where hibernated sessions' snapshots go: in memory (default), a directory path (an embedded
   * on-disk store, one file per session), or an object with async `get`, `set` and `delete` (see
   * {@link SnapshotStore}).
   * @default in memory
   */
  readonly store?: StoreOption;
  /**
   * Durable sessions: every call resolves only once its record (export, arguments, outcome, and the
   * results of the clocks, randomness and polls it used) is on stable storage; a session whose
   * instance is lost (a crash, a timeout, a memory limit, a trap that discards it, an exit) is rebuilt
   * from its last snapshot and its journal instead (the faulting call alone rejects), and a process
   * restarted on the same store recovers every session to its last acknowledged call. Needs a module
   * that can be snapshotted, isolation 'session' and no `store` (snapshots go to the durable store).
   * See {@link DurabilityOptions}.
   * @default undefined (no durability: the loss rule applies)
   * @example { durability: { dir: './sessions' } }
   */
  readonly durability?: DurabilityOptions;
  /**
   * Host functions the module may import: a file path or `file:` URL of an ES module whose default
   * export is `defineHostFunctions`'s result (import module → name → `{ params, results, call }`).
   * The main thread imports it at create and checks it against the module's imports
   * (`ERR_INVALID_HOST_FUNCTIONS`, `ERR_HOST_FUNCTION_MISMATCH`); every worker thread imports it at
   * start. Host functions are synchronous, run in the worker thread with full Node access (trusted
   * code), and get a `HostContext` (session key, guest memory, the module's allocator).
   * @default undefined (only `wasi_snapshot_preview1` can be imported)
   * @example { hostFunctions: new URL('./host.js', import.meta.url) }
   */
  readonly hostFunctions?: string | URL;
}

/** The options after validation and defaults. */
export interface ResolvedOptions {
  readonly module: ModuleInput;
  readonly workers: number;
  readonly isolation: Isolation;
  readonly stdout: OutputTarget;
  readonly stderr: OutputTarget;
  readonly wasi: {
    readonly args: readonly string[];
    readonly env: Readonly<Record<string, string>>;
    readonly preopens: Readonly<Record<string, string>>;
    /** A private copy: the caller's array can change without reaching the instances. */
    readonly stdin: Uint8Array;
  };
  readonly callTimeout: number;
  readonly memoryLimit: number;
  readonly maxQueuePerSession: number;
  readonly maxQueue: number;
  readonly onTrap: TrapPolicy;
  readonly maxRestarts: number;
  readonly resourceLimits: WorkerResourceLimits;
  readonly maxInstances: number;
  /** Export name → default result mode; checked against the module when the pool is made. */
  readonly results: ReadonlyMap<string, ResultMode>;
  readonly hibernation: HibernationOptions;
  readonly durability: ResolvedDurability | undefined;
  /** The host-function module's `file:` URL, if given. */
  readonly hostFunctions: URL | undefined;
}

/** Timers cannot wait longer than this (about 24.8 days); larger timeouts must be `Infinity`. */
export const MAX_TIMEOUT = 2 ** 31 - 1;

/**
 * V8 reserves about 10 GiB of address space per wasm memory (guard regions that let it skip bounds
 * checks), so one process holds about 13,000 live instances; past that every start stalls its worker
 * for about a second and fails. The default stays well below, leaving room for other pools and memories.
 */
export const DEFAULT_MAX_INSTANCES = 10_000;

/** Workers beyond this buy nothing but memory; the bound also catches unit mistakes (bytes for a count). */
export const MAX_WORKERS = 256;

const KNOWN = new Set([
  'module', 'workers', 'isolation', 'stdout', 'stderr', 'wasi',
  'callTimeout', 'memoryLimit', 'maxQueuePerSession', 'maxQueue', 'onTrap', 'maxRestarts', 'resourceLimits',
  'maxInstances', 'results', ...HIBERNATION_OPTIONS, 'durability', 'hostFunctions',
]);
const RESOURCE_LIMITS = ['maxOldGenerationSizeMb', 'maxYoungGenerationSizeMb', 'codeRangeSizeMb', 'stackSizeMb'] as const;

export function resolveOptions(options: unknown): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(`Expected options to be an object, got ${describeValue(options)}`);
  }
  const given = readOptionObject(options, 'options');
  for (const name of Object.keys(given)) {
    if (!KNOWN.has(name)) {
      throw new InvalidOptionError(`Unknown option \`${name}\` (known: ${[...KNOWN].join(', ')})`);
    }
  }
  if (given['module'] === undefined) throw new InvalidOptionError('Expected `module` to be given, got `undefined`');
  return Object.freeze({
    module: given['module'] as ModuleInput,
    workers: resolveWorkers(given['workers']),
    isolation: oneOf('isolation', given['isolation'], ISOLATIONS, 'session'),
    stdout: resolveOutput('stdout', given['stdout']),
    stderr: resolveOutput('stderr', given['stderr']),
    wasi: resolveWasi(given['wasi']),
    callTimeout: resolveTimeout('callTimeout', given['callTimeout']),
    memoryLimit: positiveLimit('memoryLimit', given['memoryLimit'], Number.POSITIVE_INFINITY),
    maxQueuePerSession: positiveLimit('maxQueuePerSession', given['maxQueuePerSession'], 10_000),
    maxQueue: positiveLimit('maxQueue', given['maxQueue'], 1_000_000),
    onTrap: oneOf('onTrap', given['onTrap'], TRAP_POLICIES, 'keep'),
    maxRestarts: count('maxRestarts', given['maxRestarts'], 5),
    resourceLimits: resolveResourceLimits(given['resourceLimits']),
    maxInstances: positiveLimit('maxInstances', given['maxInstances'], DEFAULT_MAX_INSTANCES),
    results: resolveResults(given['results']),
    hibernation: resolveHibernationOptions(given),
    durability: resolveDurabilityWithout(given),
    hostFunctions: resolveHostFunctionsOption(given['hostFunctions']),
  });
}

/** `durability`, which takes the place of `store`: both given is a mistake. */
function resolveDurabilityWithout(given: Readonly<Record<string, unknown>>): ResolvedDurability | undefined {
  if (given['durability'] !== undefined && given['store'] !== undefined) {
    throw new InvalidOptionError('Expected `store` or `durability`, got both: under durability, hibernated sessions\' snapshots go to the durable store');
  }
  return resolveDurability(given['durability']);
}

/** The shape of `results` (export names are checked against the module once it is loaded). */
function resolveResults(value: unknown): ReadonlyMap<string, ResultMode> {
  if (value === undefined) return new Map();
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(`Expected \`results\` to be an object of export name → 'value', 'bytes' or 'string', got ${describeValue(value)}`);
  }
  const results = new Map<string, ResultMode>();
  for (const [name, mode] of Object.entries(readOptionObject(value, 'results'))) {
    if (!(RESULT_MODES as readonly unknown[]).includes(mode)) {
      throw new InvalidOptionError(`Expected \`results.${name}\` to be 'value', 'bytes' or 'string', got ${describeValue(mode)}`);
    }
    results.set(name, mode as ResultMode);
  }
  return results;
}

function resolveResourceLimits(value: unknown): WorkerResourceLimits {
  if (value === undefined) return Object.freeze({});
  if (typeof value !== 'object' || value === null) {
    throw new InvalidOptionError(`Expected \`resourceLimits\` to be an object, got ${describeValue(value)}`);
  }
  const given = readOptionObject(value, 'resourceLimits');
  const limits: Record<string, number> = {};
  for (const [name, limit] of Object.entries(given)) {
    if (!(RESOURCE_LIMITS as readonly string[]).includes(name)) {
      throw new InvalidOptionError(`Unknown option \`resourceLimits.${name}\` (known: ${RESOURCE_LIMITS.join(', ')})`);
    }
    if (limit === undefined) continue;
    if (typeof limit !== 'number' || !Number.isFinite(limit) || limit <= 0) {
      throw new InvalidOptionError(`Expected \`resourceLimits.${name}\` to be a positive number of MB, got ${describeValue(limit)}`);
    }
    limits[name] = limit;
  }
  return Object.freeze(limits);
}

/** A timeout in milliseconds: a positive integer a timer can wait for, or `Infinity` (none). */
export function resolveTimeout(name: string, value: unknown, fallback = Number.POSITIVE_INFINITY): number {
  if (value === undefined) return fallback;
  if (value === Number.POSITIVE_INFINITY) return value;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_TIMEOUT) {
    throw new InvalidOptionError(`Expected \`${name}\` to be an integer from 1 to ${MAX_TIMEOUT} (milliseconds) or Infinity, got ${describeValue(value)}`);
  }
  return value;
}

/** A positive integer, or `Infinity` (no limit); `fallback` when not given. */
export function positiveLimit(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (value === Number.POSITIVE_INFINITY) return value;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidOptionError(`Expected \`${name}\` to be a positive integer or Infinity, got ${describeValue(value)}`);
  }
  return value;
}

function count(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidOptionError(`Expected \`${name}\` to be an integer from 0 up, got ${describeValue(value)}`);
  }
  return value;
}

function resolveWorkers(value: unknown): number {
  if (value === undefined) return Math.max(1, availableParallelism());
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_WORKERS) {
    throw new InvalidOptionError(`Expected \`workers\` to be an integer from 1 to ${MAX_WORKERS}, got ${describeValue(value)}`);
  }
  return value;
}

/** `value` if it is one of `allowed`, `fallback` if undefined; `name` is how messages call it (the CLI passes its flag). */
export function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    throw new InvalidOptionError(`Expected \`${name}\` to be ${allowed.map((a) => `'${a}'`).join(' or ')}, got ${describeValue(value)}`);
  }
  return value as T;
}

function resolveOutput(name: string, value: unknown): OutputTarget {
  if (value === undefined) return 'inherit';
  if (value === 'inherit' || value === 'ignore' || typeof value === 'function') return value as OutputTarget;
  throw new InvalidOptionError(`Expected \`${name}\` to be 'inherit', 'ignore' or a function, got ${describeValue(value)}`);
}

function resolveWasi(value: unknown): ResolvedOptions['wasi'] {
  if (value === undefined) return Object.freeze({ args: [], env: {}, preopens: {}, stdin: new Uint8Array(0) });
  if (typeof value !== 'object' || value === null) {
    throw new InvalidOptionError(`Expected \`wasi\` to be an object, got ${describeValue(value)}`);
  }
  const wasi = readOptionObject(value, 'wasi');
  for (const name of Object.keys(wasi)) {
    if (name !== 'args' && name !== 'env' && name !== 'preopens' && name !== 'stdin') {
      throw new InvalidOptionError(`Unknown option \`wasi.${name}\` (known: args, env, preopens, stdin)`);
    }
  }
  const given = wasi['args'] ?? [];
  const args = Array.isArray(given) ? readOption(() => Array.from(given as unknown[]), 'wasi.args') : undefined;
  if (args === undefined || !args.every((a) => typeof a === 'string')) {
    throw new InvalidOptionError(`Expected \`wasi.args\` to be an array of strings, got ${describeValue(given)}`);
  }
  return Object.freeze({
    args: Object.freeze(args),
    env: stringRecord('wasi.env', wasi['env']),
    preopens: resolvePreopens(wasi['preopens']),
    stdin: resolveStdin(wasi['stdin']),
  });
}

function resolveStdin(value: unknown): Uint8Array {
  if (value === undefined) return new Uint8Array(0);
  if (typeof value === 'string') return new TextEncoder().encode(value);
  if (value instanceof Uint8Array) return readOption(() => value.slice(), 'wasi.stdin');
  throw new InvalidOptionError(`Expected \`wasi.stdin\` to be a string or a Uint8Array, got ${describeValue(value)}`);
}

/** Checked now: a bad directory would otherwise fail every session's start, reported as a trap. */
function resolvePreopens(value: unknown): Readonly<Record<string, string>> {
  const preopens = stringRecord('wasi.preopens', value);
  for (const [guestPath, hostPath] of Object.entries(preopens)) {
    const name = `wasi.preopens[${JSON.stringify(guestPath)}]`;
    if (guestPath === '') throw new InvalidOptionError(`Expected every \`wasi.preopens\` guest path to be non-empty, got \`""\``);
    let problem: string | undefined;
    try {
      if (!statSync(hostPath).isDirectory()) problem = 'is not a directory';
      else accessSync(hostPath, fsConstants.R_OK | fsConstants.X_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      problem = code === 'ENOENT' ? 'does not exist' : `cannot be opened (${code ?? String(error)})`;
    }
    if (problem !== undefined) {
      throw new InvalidOptionError(`Expected \`${name}\` to be an existing, readable directory, but ${describeValue(hostPath)} ${problem}`);
    }
  }
  return preopens;
}

function stringRecord(name: string, value: unknown): Readonly<Record<string, string>> {
  if (value === undefined) return Object.freeze({});
  const record = typeof value !== 'object' || value === null || Array.isArray(value) ? undefined : readOptionObject(value, name);
  if (record === undefined || !Object.values(record).every((v) => typeof v === 'string')) {
    throw new InvalidOptionError(`Expected \`${name}\` to be an object of strings, got ${describeValue(value)}`);
  }
  return Object.freeze(record as Record<string, string>);
}

/**
 * The own enumerable properties of an options object, each read exactly once (a getter cannot
 * answer one value to the check and another to the use); a getter or Proxy trap that throws is a
 * bad option, not a crash.
 */
export function readOptionObject(value: object, name: string): Record<string, unknown> {
  return readOption(() => ({ ...value }), name);
}

/** Runs `read` on a value the caller passed; whatever it throws becomes `ERR_INVALID_OPTION` about `name`. */
function readOption<T>(read: () => T, name: string): T {
  try {
    return read();
  } catch (error) {
    throw new InvalidOptionError(`Could not read \`${name}\`: ${error instanceof Error ? error.message : describeValue(error)}`);
  }
}
