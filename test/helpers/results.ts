// Narrowing a loosely typed call result (a pool without an exports type) to what the export returns,
// checked at run time: a test whose export returns something else fails here rather than computing on it.

import type { WasmResult } from '../../dist/src/index.js';

/** The result of an export returning one i32, f32 or f64. */
export function asNumber(value: WasmResult): number {
  if (typeof value !== 'number') throw new TypeError(`expected a number result, got ${typeof value}`);
  return value;
}

/** The result of an export returning one i64. */
export function asBigInt(value: WasmResult): bigint {
  if (typeof value !== 'bigint') throw new TypeError(`expected a bigint result, got ${typeof value}`);
  return value;
}

/** A checker for a `callMany` typed-array result of the given kind: `.then(typedArray(Int32Array))`. */
export function typedArray<T>(type: abstract new (...args: never) => T): (value: unknown) => T {
  return (value) => {
    if (!(value instanceof type)) throw new TypeError(`expected a ${type.name} result`);
    return value;
  };
}
