// Checks a call's export name and arguments against the module's signatures on the calling thread,
// so that a bad call is refused at once with a precise message and never reaches a worker.

import { InvalidArgumentError, UnknownExportError, describeValue } from './errors.js';
import type { FunctionSignature, ModuleSpec, ValueType } from './module-spec.js';
import type { ResultMode, TypedResultKind, WasmValue } from './protocol.js';

/** Exports the pool calls itself; a session may not. */
const RESERVED = new Set(['_initialize', '_start']);

const I32_MIN = -(2 ** 31);
const U32_MAX = 2 ** 32 - 1;
const I64_MIN = -(2n ** 63n);
const U64_MAX = 2n ** 64n - 1n;

/** A callable export: its signature, or `undefined` when the module came compiled and carries none. */
export interface Callable {
  readonly name: string;
  /** Position in the export table the workers receive. */
  readonly index: number;
  readonly signature: FunctionSignature | undefined;
  /** How its result is read when a call does not say (the pool's `results` option). */
  readonly result: ResultMode;
}

/** Indexes the exported functions a session may call, each with its default result mode from `results`. */
export function callableExports(
  spec: ModuleSpec, signaturesKnown: boolean, results: ReadonlyMap<string, ResultMode> = new Map(),
): ReadonlyMap<string, Callable> {
  const map = new Map<string, Callable>();
  for (const e of spec.exports) {
    if (e.kind !== 'function' || RESERVED.has(e.name)) continue;
    map.set(e.name, {
      name: e.name, index: map.size, signature: signaturesKnown ? e.signature : undefined, result: results.get(e.name) ?? 'value',
    });
  }
  return map;
}

export function lookupExport(exports: ReadonlyMap<string, Callable>, spec: ModuleSpec, name: unknown): Callable {
  if (typeof name !== 'string') {
    throw new InvalidArgumentError(`Expected the export name to be a string, got ${describeValue(name)}`);
  }
  const found = exports.get(name);
  if (found !== undefined) return found;
  const other = spec.exports.find((e) => e.name === name);
  const why = other === undefined ? 'no such export'
    : RESERVED.has(name) ? 'it is run by the pool itself, once per instance'
    : `it is a ${other.kind}, not a function`;
  const known = [...exports.keys()].slice(0, 20).join(', ');
  throw new UnknownExportError(`cannot call \`${name}\`: ${why} (callable exports: ${known || 'none'})`, { exportName: name });
}

/** Throws unless `args` match the signature exactly: count, number vs bigint, integer ranges. */
export function checkArgs(callable: Callable, args: readonly unknown[]): asserts args is readonly WasmValue[] {
  const signature = callable.signature;
  if (signature === undefined) {
    args.forEach((arg, i) => {
      if (typeof arg !== 'number' && typeof arg !== 'bigint') fail(callable, i, 'a number or bigint', arg);
    });
    return;
  }
  if (args.length !== signature.params.length) {
    throw new InvalidArgumentError(
      `\`${callable.name}\` takes ${signature.params.length} argument(s) (${signature.params.join(', ') || 'none'}), got ${args.length}`,
      { exportName: callable.name },
    );
  }
  for (let i = 0; i < args.length; i++) checkValue(callable, i, signature.params[i] as ValueType, args[i]);
}

/** Throws unless `value` fits parameter type `type` (argument `index` of `callable`, for the message). */
export function checkValue(callable: Callable, index: number, type: ValueType, value: unknown): void {
  switch (type) {
    case 'i32':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < I32_MIN || value > U32_MAX) {
        fail(callable, index, `an integer from ${I32_MIN} to ${U32_MAX} (i32)`, value);
      }
      return;
    case 'i64':
      if (typeof value !== 'bigint' || value < I64_MIN || value > U64_MAX) {
        fail(callable, index, `a bigint from ${I64_MIN} to ${U64_MAX} (i64)`, value);
      }
      return;
    case 'f32':
    case 'f64':
      if (typeof value !== 'number') fail(callable, index, `a number (${type})`, value);
      return;
    default:
      throw new InvalidArgumentError(
        `\`${callable.name}\` takes a ${type} as argument ${index}, which JavaScript cannot pass`,
        { exportName: callable.name },
      );
  }
}

function fail(callable: Callable, index: number, expected: string, value: unknown): never {
  throw new InvalidArgumentError(
    `Expected argument ${index} of \`${callable.name}\` to be ${expected}, got ${describeValue(value)}`,
    { exportName: callable.name },
  );
}

const TYPED_RESULT: Partial<Record<ValueType, TypedResultKind>> = {
  i32: 'Int32Array', i64: 'BigInt64Array', f32: 'Float32Array', f64: 'Float64Array',
};

/**
 * Checks a `callMany` typed array (the call's private copy): the export must take one parameter and
 * return one result; the results come back in a typed array of the result type, whose kind this returns.
 */
export function checkTypedList(callable: Callable, list: ArrayLike<unknown>): TypedResultKind | undefined {
  const signature = callable.signature;
  if (signature === undefined || signature.params.length !== 1 || signature.results.length !== 1) {
    throw new InvalidArgumentError(
      `callMany with a typed array needs an export with one parameter and one result; \`${callable.name}\` has ${describeSignature(signature)}`,
      { exportName: callable.name },
    );
  }
  const type = signature.params[0] as ValueType;
  // All elements of a typed array share one type and integer arrays cannot leave their range, so the
  // first element settles number vs bigint; only floats bound for an i32 need each element checked.
  const each = type === 'i32' && (list instanceof Float32Array || list instanceof Float64Array) ? list.length : Math.min(list.length, 1);
  for (let i = 0; i < each; i++) {
    try {
      checkValue(callable, 0, type, list[i]);
    } catch (error) {
      (error as Error).message = `callMany item ${i}: ${(error as Error).message}`;
      throw error;
    }
  }
  return TYPED_RESULT[signature.results[0] as ValueType];
}

/** `(i32, i32) -> (i64)`, or why it is unknown. */
export function describeSignature(signature: FunctionSignature | undefined): string {
  if (signature === undefined) return 'an unknown signature (the module was passed compiled)';
  return `(${signature.params.join(', ')}) -> (${signature.results.join(', ')})`;
}
