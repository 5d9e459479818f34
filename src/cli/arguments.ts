// Parses `--call name:arg,arg` specs for the CLI, turning each argument text into the type the
// export's signature asks for (i64 → bigint), and checks them against the export before anything runs.

import { callableExports, checkArgs, lookupExport } from '../arguments.js';
import { InvalidArgumentError, InvalidOptionError, ReactorPoolError } from '../errors.js';
import type { ModuleSpec, ValueType } from '../module-spec.js';
import type { WasmValue } from '../protocol.js';

export interface CallSpec {
  readonly name: string;
  readonly args: readonly WasmValue[];
}

/**
 * A mistake in what was typed on the command line (a `--call` or `--session` the module or the pool
 * refuses): printed with its own code like any error, but the command exits 2, as for any usage mistake.
 */
export class UsageMistake extends Error {
  constructor(readonly error: ReactorPoolError) {
    super(error.message);
  }
}

/** Runs `parse`; a coded refusal from it is the user's usage mistake. */
export function asUsage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw error instanceof ReactorPoolError ? new UsageMistake(error) : error;
  }
}

/** The number syntaxes `--call` takes, for `--help` and the README. */
export const NUMBER_SYNTAX = `integers (i32, i64): decimal or 0x hexadecimal, with an optional sign
                       (i64 of any size: -0x8000000000000000, 18446744073709551615);
                       floats (f32, f64): those, decimal fractions and exponents
                       (1.5, -2e-3), Infinity, -Infinity, NaN`;

const INTEGER = /^([-+]?)(?:0[xX]([0-9a-fA-F]+)|(\d+))$/;
const FLOAT = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$|^[-+]?Infinity$|^NaN$/;

/** Parses one `--call` spec and checks it against the export's signature (`ERR_UNKNOWN_EXPORT`, `ERR_INVALID_ARGUMENT`). */
export function parseCallSpec(text: string, spec: ModuleSpec): CallSpec {
  const colon = text.indexOf(':');
  const name = colon === -1 ? text : text.slice(0, colon);
  const argText = colon === -1 ? '' : text.slice(colon + 1);
  if (name.length === 0) {
    throw new InvalidOptionError(`Expected --call to look like \`name:arg,arg\`, got ${JSON.stringify(text)}`);
  }
  const callable = lookupExport(callableExports(spec, true), spec, name);
  const params = callable.signature?.params;
  const parts = argText.length === 0 ? [] : argText.split(',');
  const args = parts.map((part, i) => parseValue(part.trim(), params?.[i], name, i));
  checkArgs(callable, args);
  return { name, args };
}

function parseValue(text: string, type: ValueType | undefined, name: string, index: number): WasmValue {
  const bad = (expected: string): never => {
    throw new InvalidArgumentError(`argument ${index} of \`${name}\` must be ${expected}, got ${JSON.stringify(text)}`, { exportName: name });
  };
  const integer = INTEGER.exec(text);
  if (type === 'i64' || type === 'i32') {
    if (integer === null) return bad(`an integer, decimal or 0x hexadecimal (${type})`);
    const value = integerValue(integer);
    return type === 'i64' ? value : Number(value);
  }
  if (integer !== null) return Number(integerValue(integer));
  if (!FLOAT.test(text)) return bad(`a number: decimal, 0x hexadecimal, Infinity or NaN (${type ?? 'no such parameter'})`);
  return Number(text);
}

/** The value of an {@link INTEGER} match: BigInt reads `0x` digits but not a sign before them. */
function integerValue([, sign, hex, decimal]: RegExpExecArray): bigint {
  const magnitude = hex === undefined ? BigInt(decimal as string) : BigInt(`0x${hex}`);
  return sign === '-' ? -magnitude : magnitude;
}

/** `inc(1) = 21`, as the CLI prints a finished call. */
export function formatCall(call: CallSpec, result: unknown): string {
  const shown = Array.isArray(result) ? result.map(String).join(', ') : result === undefined ? '' : showValue(result);
  const head = `${call.name}(${call.args.map(String).join(', ')})`;
  return shown === '' ? head : `${head} = ${shown}`;
}

/** A call's result as the CLI prints it: numbers, bigints and text as they are, bytes in hex. */
function showValue(value: unknown): string {
  if (value instanceof Uint8Array) return `<${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}>`;
  return String(value);
}
