// Host functions: what a plug-in may import from its host, declared in an ES module the pool imports
// (the `hostFunctions` option). The public shape, its types, and the up-front check of that shape.

import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidHostFunctionsError, InvalidOptionError, describeValue } from './errors.js';

/** The value types a host function's parameters and results may have. */
export type HostValueType = 'i32' | 'i64' | 'f32' | 'f64';

/** The accepted {@link HostValueType}s, in the order messages list them. */
export const HOST_VALUE_TYPES = ['i32', 'i64', 'f32', 'f64'] as const;

/** The JavaScript value of a wasm value type: `bigint` for i64, `number` otherwise. */
export type HostValue<T extends HostValueType> = T extends 'i64' ? bigint : number;

/** A host function's JavaScript parameters, from its declared wasm parameter types. */
export type HostArgs<P extends readonly HostValueType[]> = { -readonly [K in keyof P]: HostValue<P[K]> };

/** What a host function returns: nothing for no results, the value for one, an array for several. */
export type HostResult<R extends readonly HostValueType[]> =
  R extends readonly [] ? void : R extends readonly [infer A extends HostValueType] ? HostValue<A> : HostArgs<R>;

/**
 * What a host function is given besides its wasm arguments: the calling session, and bounds-checked
 * access to the calling instance's linear memory. Valid only during the call. Every method throws
 * `ERR_OUT_OF_BOUNDS` (an `OutOfBoundsError`) for a range outside the memory, and never touches it then.
 */
export interface HostContext {
  /**
   * The key of the session whose operation is running (with isolation `'worker'` too: the shared
   * instance runs many sessions' calls, each with its own key).
   */
  readonly sessionKey: string;
  /** Bytes of the instance's linear memory now (it may grow during the call). */
  readonly memorySize: number;
  /** A copy of `length` bytes of guest memory at `ptr`. */
  read(ptr: number, length: number): Uint8Array;
  /** `length` bytes at `ptr`, decoded as UTF-8 (malformed sequences become U+FFFD). */
  readString(ptr: number, length: number): string;
  /** Writes `data` (a string as UTF-8) into guest memory at `ptr`. */
  write(ptr: number, data: Uint8Array | string): void;
  /**
   * Allocates room for `data` (a string as UTF-8) with the module's own allocator (`malloc`, `alloc`
   * or `cabi_realloc`, see `pool.allocator`), copies it there, and returns the pointer: the guest owns
   * it from then on (and frees it). Throws `ERR_NO_ALLOCATOR` when the module exports none, and
   * `ERR_OUT_OF_BOUNDS` when the allocator returns no room.
   */
  alloc(data: Uint8Array | string): number;
}

/**
 * One host function: the wasm signature it is imported with, and its implementation. `call` runs
 * synchronously in the worker thread, inside the guest's call (wasm cannot await: a returned promise
 * is refused). Whatever it throws rejects the guest's call with `ERR_HOST_FUNCTION_FAILED`.
 */
export interface HostFunction<P extends readonly HostValueType[] = readonly HostValueType[], R extends readonly HostValueType[] = readonly HostValueType[]> {
  /** The wasm parameter types, in order. */
  readonly params: P;
  /** The wasm result types, in order (empty: no result). */
  readonly results: R;
  /** The implementation: the context, then one JavaScript value per parameter. */
  call(ctx: HostContext, ...args: HostArgs<P>): HostResult<R>;
}

/** Any host function, its parameter types erased (what the pool stores and calls). */
export interface AnyHostFunction {
  readonly params: readonly HostValueType[];
  readonly results: readonly HostValueType[];
  call(ctx: HostContext, ...args: never[]): unknown;
}

/** Host functions by import module (namespace) and name: `{ env: { lookup: {...} } }`. */
export type HostFunctions = Readonly<Record<string, Readonly<Record<string, AnyHostFunction>>>>;

/** Types each entry of a table from its own `params` and `results` (see {@link defineHostFunctions}). */
export type CheckedHostFunctions<T> = {
  readonly [M in keyof T]: {
    readonly [N in keyof T[M]]: T[M][N] extends { readonly params: infer P extends readonly HostValueType[]; readonly results: infer R extends readonly HostValueType[] }
      ? HostFunction<P, R>
      : HostFunction;
  };
};

/**
 * One host function, typed from its own signature: `call`'s parameters are `bigint` for i64 and
 * `number` otherwise, and it must return what `results` say (nothing, a value, or an array). Returns
 * its argument; use it for each entry of {@link defineHostFunctions} to get these checks in TypeScript.
 * @example hostFunction({ params: ['i32', 'i32'], results: ['i32'], call: (_ctx, a, b) => (a + b) | 0 })
 */
export function hostFunction<const P extends readonly HostValueType[], const R extends readonly HostValueType[]>(
  declaration: HostFunction<P, R>,
): HostFunction<P, R> {
  return declaration;
}

/**
 * Declares the host functions a plug-in module may import, by import module and name, each with its
 * wasm signature; the module given as the pool's `hostFunctions` option default-exports the result.
 * Checks the shape at once (`ERR_INVALID_HOST_FUNCTIONS`, showing what was got). Wrap each entry in
 * {@link hostFunction} for parameter types checked against `params` (a bare entry's parameters are
 * `number | bigint`).
 * @example
 * export default defineHostFunctions({
 *   env: {
 *     host_add: hostFunction({ params: ['i32', 'i32'], results: ['i32'], call: (_ctx, a, b) => (a + b) | 0 }),
 *     log: hostFunction({ params: ['i32', 'i32'], results: [], call(ctx, ptr, len) { console.log(ctx.readString(ptr, len)); } }),
 *   },
 * });
 */
export function defineHostFunctions<const T extends CheckedHostFunctions<T>>(functions: T): T & HostFunctions {
  validateHostFunctions(functions, 'defineHostFunctions()');
  return functions;
}

/** A validated host function: a private copy of its declaration. */
export interface DeclaredHostFunction {
  readonly params: readonly HostValueType[];
  readonly results: readonly HostValueType[];
  readonly call: (ctx: HostContext, ...args: (number | bigint)[]) => unknown;
}

/** Validated host functions: import module → name → declaration. */
export type HostFunctionTable = ReadonlyMap<string, ReadonlyMap<string, DeclaredHostFunction>>;

/** Own enumerable properties, each read once; a getter or trap that throws is a bad table, not a crash. */
function entriesOf(value: object, where: string): [string, unknown][] {
  try {
    return Object.entries({ ...value });
  } catch (error) {
    throw new InvalidHostFunctionsError(`${where}: could not be read (${error instanceof Error ? error.message : describeValue(error)})`);
  }
}

function isPlainRecord(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function valueTypes(value: unknown, where: string): HostValueType[] {
  const list = Array.isArray(value) ? entriesOf(value, where).map(([, type]) => type) : undefined;
  if (list === undefined || !list.every((type) => (HOST_VALUE_TYPES as readonly unknown[]).includes(type))) {
    throw new InvalidHostFunctionsError(`Expected ${where} to be an array of ${HOST_VALUE_TYPES.map((t) => `'${t}'`).join(', ')}, got ${describeValue(value)}`);
  }
  return list as HostValueType[];
}

/**
 * Checks that `value` is a host-function table (import module → name → `{ params, results, call }`)
 * and returns a private copy; `source` names where it came from in messages.
 */
export function validateHostFunctions(value: unknown, source: string): HostFunctionTable {
  if (!isPlainRecord(value)) {
    throw new InvalidHostFunctionsError(`Expected ${source} to be an object of import module → name → host function, got ${describeValue(value)}`);
  }
  const table = new Map<string, Map<string, DeclaredHostFunction>>();
  for (const [module, names] of entriesOf(value, source)) {
    const at = `${source}[${JSON.stringify(module)}]`;
    if (!isPlainRecord(names)) throw new InvalidHostFunctionsError(`Expected ${at} to be an object of name → host function, got ${describeValue(names)}`);
    const functions = new Map<string, DeclaredHostFunction>();
    for (const [name, declared] of entriesOf(names, at)) {
      const where = `${at}[${JSON.stringify(name)}]`;
      if (!isPlainRecord(declared)) {
        throw new InvalidHostFunctionsError(`Expected ${where} to be a host function { params, results, call }, got ${describeValue(declared)}`);
      }
      const fields = Object.fromEntries(entriesOf(declared, where));
      const unknown = Object.keys(fields).filter((key) => key !== 'params' && key !== 'results' && key !== 'call');
      if (unknown.length > 0) throw new InvalidHostFunctionsError(`Unknown field \`${unknown[0] ?? ''}\` in ${where} (known: params, results, call)`);
      const call: unknown = fields['call'];
      if (typeof call !== 'function') throw new InvalidHostFunctionsError(`Expected ${where}.call to be a function, got ${describeValue(call)}`);
      functions.set(name, Object.freeze({
        params: Object.freeze(valueTypes(fields['params'], `${where}.params`)),
        results: Object.freeze(valueTypes(fields['results'], `${where}.results`)),
        call: call as DeclaredHostFunction['call'],
      }));
    }
    table.set(module, functions);
  }
  return table;
}

/** The `hostFunctions` option as a `file:` URL (a relative path is taken from the working directory). */
export function resolveHostFunctionsOption(value: unknown): URL | undefined {
  if (value === undefined) return undefined;
  if (value instanceof URL && value.protocol === 'file:') return new URL(value.href);
  if (typeof value === 'string' && value.length > 0) {
    if (value.startsWith('file:')) return new URL(value);
    return pathToFileURL(isAbsolute(value) ? value : resolve(value));
  }
  throw new InvalidOptionError(`Expected \`hostFunctions\` to be a file path or a file: URL of an ES module, got ${describeValue(value instanceof URL ? value.href : value)}`);
}

/** Imports the host-function module at `url` and checks what it default-exports. */
export async function loadHostFunctions(url: string): Promise<HostFunctionTable> {
  let loaded: { readonly default?: unknown };
  try {
    loaded = await import(url) as { readonly default?: unknown };
  } catch (error) {
    throw new InvalidHostFunctionsError(`cannot import the hostFunctions module ${url}: ${error instanceof Error ? error.message : describeValue(error)}`);
  }
  return validateHostFunctions(loaded.default, `the default export of ${url}`);
}
