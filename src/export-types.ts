// The types that make a session's calls checked against a module's exports: a description of the
// exports (written by `reactor-pool types`), and what a call of each takes and resolves with.

import type { CallArg, TypedArgs } from './call-options.js';
import type { ReactorPoolOptions } from './options.js';
import type { BufferArg, ResultMode, WasmValue } from './protocol.js';

declare const wasmType: unique symbol;

/**
 * An i32 parameter or result in an exports description: any number is accepted (the pool checks the
 * range), and a call resolves with a plain number. Only the type differs from {@link F32} and
 * {@link F64}: a `Uint8Array` or string argument fills two consecutive i32 parameters, and
 * `callMany` with a typed array resolves with an `Int32Array`.
 */
export type I32 = number & { readonly [wasmType]?: 'i32' };
/** An f32 parameter or result in an exports description (see {@link I32}); a typed `callMany` resolves with a `Float32Array`. */
export type F32 = number & { readonly [wasmType]?: 'f32' };
/** An f64 parameter or result in an exports description (see {@link I32}); a typed `callMany` resolves with a `Float64Array`. */
export type F64 = number & { readonly [wasmType]?: 'f64' };
/** An i64 parameter or result: a bigint. */
export type I64 = bigint;

/** What a call resolves with when nothing is known of the export: one value, none, or several. */
export type WasmResult = WasmValue | undefined | WasmValue[];

/**
 * The exports of a module the pool knows nothing about at compile time: any name, any arguments, and
 * every result a call can resolve with. What a pool created without an exports type uses.
 */
export interface UntypedExports {
  readonly [name: string]: (...args: CallArg[]) => WasmResult;
}

/**
 * The default result modes of a pool created without a `results` option: none (every export's
 * result is read as its value).
 */
export interface NoResultModes {
  readonly [name: string]: never;
}

type AnyFunction = (...args: never) => unknown;

/** The names of the callable exports in an exports description (its function members). */
export type ExportName<E> = { [K in keyof E]-?: E[K] extends AnyFunction ? K : never }[keyof E] & string;

/** The parameter types of export `K`. */
export type ParamsOf<E, K extends keyof E> = E[K] extends (...args: infer P) => unknown ? P : never;
/** The result type of export `K`, as described. */
export type ReturnOf<E, K extends keyof E> = E[K] extends (...args: never) => infer R ? R : never;

/** Exports whose result can be read as bytes or a string: one i64 result (`pointer << 32 | length`). */
export type BufferResultName<E> = { [K in ExportName<E>]: bigint extends ReturnOf<E, K> ? K : never }[ExportName<E>];

/** What a pool's `results` option may say of an exports description: a mode for an export returning one i64. */
export type ResultModes<E> = { readonly [K in BufferResultName<E>]?: ResultMode };

/** An i32 parameter (a plain `number` counts as one): two in a row can take a buffer. */
type IsI32<T> = [T] extends [I32] ? true : false;

/** Parameter counts for which every place a buffer could go is spelled out (beyond them, a looser list). */
type SpelledOut = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | 11 | 12;

/**
 * The arguments a call takes for parameters `P`: each as its type, or a `Uint8Array`/string in place
 * of any two consecutive i32 parameters (pointer, length).
 */
export type CallArgsFor<P extends readonly unknown[]> =
  number extends P['length'] ? P : P['length'] extends SpelledOut ? WithBuffers<P> : (P[number] | BufferArg)[];
type WithBuffers<P extends readonly unknown[]> =
  P extends readonly [infer A, infer B, ...infer Rest]
    ? IsI32<A> extends true
      ? IsI32<B> extends true
        ? [A, ...WithBuffers<[B, ...Rest]>] | [BufferArg, ...WithBuffers<Rest>]
        : [A, ...WithBuffers<[B, ...Rest]>]
      : [A, ...WithBuffers<[B, ...Rest]>]
    : P extends readonly [infer A] ? [A] : [];

/** The arguments of export `K`. */
export type ExportArgs<E, K extends keyof E> = CallArgsFor<ParamsOf<E, K>>;

/** A described result as a call resolves with it: numbers plain, i64 as bigints, several in an array, none `undefined`. */
export type ValueOf<R> =
  R extends undefined | void ? undefined
    : R extends number ? number
      : R extends bigint ? bigint
        : R extends readonly unknown[] ? { -readonly [I in keyof R]: ValueOf<R[I]> }
          : R;

/** A result read in `mode`. */
export type ResultIn<R, Mode> = Mode extends 'string' ? string : Mode extends 'bytes' ? Uint8Array : ValueOf<R>;

/** How export `K` is read by default: as the pool's `results` option says, else `'value'`. */
export type DefaultMode<M, K> =
  K extends keyof M
    ? [Exclude<M[K], undefined>] extends [never] ? 'value'
      : (Exclude<M[K], undefined> & ResultMode) | (undefined extends M[K] ? 'value' : never)
    : 'value';

/** The mode a call reads export `K` in: the call's own (`Mode`), else the export's default. */
export type ModeOf<M, K, Mode> = [Mode] extends [undefined] ? DefaultMode<M, K> : Exclude<Mode, undefined>;

/** Exports a call in `Mode` may name: any, or with `'bytes'`/`'string'` only those returning one i64. */
export type NameIn<E, Mode> = ([Exclude<Mode, 'value' | undefined>] extends [never] ? ExportName<E> : BufferResultName<E>) & string;

/** What a call of export `K` resolves with. */
export type ExportResult<E, M, K extends keyof E, Mode> = ResultIn<ReturnOf<E, K>, ModeOf<M, K, Mode>>;

/** One item of a `callMany` list: an argument tuple, or for a one-argument call the argument alone. */
export type ManyItem<A extends readonly unknown[]> = A | (A extends readonly [infer Only] ? Only : never) | (number extends A['length'] ? A[number] : never);

/** The typed array `callMany` resolves with for a result type. */
export type TypedResultOf<R> =
  R extends bigint ? BigInt64Array
    : R extends number
      // A plain `number` fits all three (any of them can come back); I32, F32 and F64 only their own.
      ? [R] extends [F32] ? [R] extends [F64] ? Int32Array | Float32Array | Float64Array : Float32Array
        : [R] extends [F64] ? Float64Array : Int32Array
      : never;

/** The typed arrays a one-parameter export takes: bigint ones for an i64, the others for numbers. */
export type TypedArgsFor<P> =
  P extends bigint ? BigInt64Array | BigUint64Array
    : P extends number ? Exclude<TypedArgs, BigInt64Array | BigUint64Array>
      : TypedArgs;

/** Exports `callMany` may take a typed array for: one parameter, one result, read as a value. */
export type TypedListName<E, M, Mode> = {
  [K in ExportName<E>]: OneValue<ParamsOf<E, K>> extends true
    ? [TypedResultOf<ReturnOf<E, K>>] extends [never] ? never
      : ModeOf<M, K, Mode> extends 'value' ? K : never
    : never;
}[ExportName<E>];
/** One number or bigint parameter (or, undescribed, any). */
type OneValue<P extends readonly unknown[]> = number extends P['length'] ? true : P extends readonly [WasmValue] ? true : false;

/** The one parameter's type of a one-parameter export `K` (what a typed-array `callMany` carries). */
export type OnlyParam<E, K extends keyof E> = ParamsOf<E, K> extends readonly [infer Only] ? Only : ParamsOf<E, K>[number];

/**
 * A session's `call` and `callMany` for exports `E` (see {@link UntypedExports}), default result
 * modes `M` (the pool's `results` option) and the call options' `result` mode (`undefined`: each
 * export's default).
 */
export interface SessionCalls<E = UntypedExports, M = NoResultModes, Mode extends ResultMode | undefined = undefined> {
  /**
   * Calls export `name` with arguments matching its signature (i32/f32/f64 as numbers, i64 as bigints; a
   * `Uint8Array` or a string fills two i32 parameters, pointer and length, through guest memory).
   * Resolves with its result: a number, a bigint for i64, `undefined` for none, an array for several
   * (or bytes or a string, with `session.with({ result })` or the pool's `results` option).
   */
  call<K extends NameIn<E, Mode>>(name: K, ...args: ExportArgs<E, K>): Promise<ExportResult<E, M, K, Mode>>;
  /**
   * Calls an export once per item, in order, in one trip to the worker. `list` is a typed array (one
   * parameter and one result: the results come back in a typed array of the result type, e.g. i32 →
   * `Int32Array`), an array of argument tuples, or for a one-parameter export an array of single
   * arguments. Stops at the first failing call: the error's `completed` says how many calls ran before
   * it. A timeout applies to the whole list.
   */
  callMany<K extends TypedListName<E, M, Mode>>(name: K, list: TypedArgsFor<OnlyParam<E, K>>): Promise<TypedResultOf<ReturnOf<E, K>>>;
  callMany<K extends NameIn<E, Mode>>(name: K, list: readonly ManyItem<ExportArgs<E, K>>[]): Promise<ExportResult<E, M, K, Mode>[]>;
}

/** The `result` mode a {@link CallOptions} object sets (`undefined`: none). */
export type ResultModeOf<O> = O extends { readonly result: infer R extends ResultMode } ? R : O extends { readonly result?: infer R } ? Extract<R, ResultMode> | undefined : undefined;

/**
 * The options of {@link ReactorPool.create} for exports `E`: `results` may name only exports that
 * return one i64, and is part of the pool's type (so `call` knows what each export resolves with).
 */
export type TypedPoolOptions<E, M> = Omit<ReactorPoolOptions, 'results'> & {
  /** As {@link ReactorPoolOptions.results}. @default {} */
  readonly results?: M & ResultModes<E> & { readonly [K in Exclude<keyof M, BufferResultName<E>>]: never };
};
