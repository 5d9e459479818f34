// Bytes and strings across the wasm boundary, main-thread side: which allocator a module offers,
// and the checks that a call's buffer arguments and buffer result fit the export's signature.

import { types } from 'node:util';
import { checkArgs, checkValue, describeSignature, lookupExport, type Callable } from './arguments.js';
import { InvalidArgumentError, InvalidOptionError, NoAllocatorError, describeValue, type ReactorPoolError } from './errors.js';
import type { ModuleSpec, ValueType } from './module-spec.js';
import type { AllocatorKind, BufferArg, ResultMode } from './protocol.js';

/**
 * The allocator exports the pool looks for, in this order: `malloc(size) -> ptr` with `free(ptr)`
 * (C, wasi-libc, Go with its own pair); `alloc(size) -> ptr` with `dealloc(ptr, size)` (Rust style);
 * `cabi_realloc(old_ptr, old_size, align, new_size) -> ptr` (the component model's; it cannot free,
 * so inputs go to one scratch buffer per instance and results are not freed).
 */
export function detectAllocator(spec: ModuleSpec): AllocatorKind | undefined {
  const fn = (name: string, params: readonly ValueType[], results: readonly ValueType[]): boolean => {
    const found = spec.exports.find((e) => e.name === name && e.kind === 'function');
    const signature = found?.signature;
    return signature !== undefined && same(signature.params, params) && same(signature.results, results);
  };
  if (fn('malloc', ['i32'], ['i32']) && fn('free', ['i32'], [])) return 'malloc';
  if (fn('alloc', ['i32'], ['i32']) && fn('dealloc', ['i32', 'i32'], [])) return 'alloc';
  if (fn('cabi_realloc', ['i32', 'i32', 'i32', 'i32'], ['i32'])) return 'cabi_realloc';
  return undefined;
}

function same(a: readonly ValueType[], b: readonly ValueType[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

export function isBuffer(value: unknown): value is BufferArg {
  // A brand check: it runs none of the value's code (a Proxy's traps, an object posing as a Uint8Array).
  return typeof value === 'string' || (typeof value === 'object' && types.isUint8Array(value));
}

/** True if the arguments hold a buffer (a `Uint8Array` or a string). */
export function hasBuffer(args: readonly unknown[]): boolean {
  for (const arg of args) if (isBuffer(arg)) return true;
  return false;
}

/**
 * Checks arguments where each buffer stands for two consecutive i32 parameters (pointer, length),
 * and that the module can take buffers at all.
 */
export function checkBufferArgs(callable: Callable, args: readonly unknown[], allocator: AllocatorKind | undefined): void {
  if (!hasBuffer(args)) {
    checkArgs(callable, args);
    return;
  }
  const signature = callable.signature;
  if (signature === undefined) {
    args.forEach((arg, i) => {
      if (typeof arg !== 'number' && typeof arg !== 'bigint' && !isBuffer(arg)) {
        throw new InvalidArgumentError(`Expected argument ${i} of \`${callable.name}\` to be a number, bigint, Uint8Array or string, got ${describeValue(arg)}`, { exportName: callable.name });
      }
    });
    if (allocator === undefined) throw noAllocator(callable);
    return;
  }
  let param = 0;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (isBuffer(arg)) {
      if (signature.params[param] !== 'i32' || signature.params[param + 1] !== 'i32') {
        throw new InvalidArgumentError(
          `Expected argument ${i} of \`${callable.name}\` to fit ${describeSignature(signature)}, got ${describeValue(arg)}: a buffer fills two i32 parameters (pointer, length), and parameter ${param} starts no such pair`,
          { exportName: callable.name },
        );
      }
      param += 2;
    } else {
      if (param >= signature.params.length) break;
      checkValue(callable, i, signature.params[param] as ValueType, arg);
      param += 1;
    }
  }
  if (param !== signature.params.length || args.length > param) {
    throw new InvalidArgumentError(
      `\`${callable.name}\` takes ${describeSignature(signature)}; the ${args.length} argument(s) given (buffers count as two i32) do not fill it`,
      { exportName: callable.name },
    );
  }
  // Only once the arguments fit: a buffer where no (pointer, length) pair can go is the caller's mistake.
  if (allocator === undefined) throw noAllocator(callable);
}

/**
 * Checks the pool's `results` option against the module: each name a callable export, each
 * `'bytes'`/`'string'` export readable as a buffer. With no signatures (a compiled module) only the
 * names can be checked; its calls then say what is missing.
 */
export function checkResultOptions(
  results: ReadonlyMap<string, ResultMode>, exports: ReadonlyMap<string, Callable>, spec: ModuleSpec, allocator: AllocatorKind | undefined,
): void {
  for (const [name, mode] of results) {
    try {
      const callable = lookupExport(exports, spec, name);
      if (callable.signature !== undefined) checkResultMode(callable, mode, allocator);
    } catch (error) {
      const cause = error as ReactorPoolError;
      throw new InvalidOptionError(`\`results.${name}\` is '${mode}', but ${cause.message}`, { exportName: name }, cause);
    }
  }
}

/** Checks that a buffer result can be read: an allocator, and a single i64 result (pointer << 32 | length). */
export function checkResultMode(callable: Callable, mode: ResultMode, allocator: AllocatorKind | undefined): void {
  if (mode === 'value') return;
  const signature = callable.signature;
  if (signature !== undefined && (signature.results.length !== 1 || signature.results[0] !== 'i64')) {
    throw new InvalidArgumentError(
      `result '${mode}' needs an export returning one i64 (pointer << 32 | length); \`${callable.name}\` has ${describeSignature(signature)}`,
      { exportName: callable.name },
    );
  }
  if (allocator === undefined) throw noAllocator(callable);
}

function noAllocator(callable: Callable): NoAllocatorError {
  return new NoAllocatorError(
    `\`${callable.name}\`: bytes and strings travel through the guest's linear memory, which needs an allocator export: malloc + free, alloc + dealloc, or cabi_realloc; this module has none`,
    { exportName: callable.name },
  );
}
