// Parses `--call name:arg,arg` specs for the CLI, turning each argument text into the type the
// export's signature asks for (i64 → bigint, `str:`/`"…"` → string, `hex:`/`b64:`/`file:` → bytes),
// and checks them, and how the result is read, against the export before anything runs.

import { readFileSync } from 'node:fs';
import { callableExports, lookupExport } from '../arguments.js';
import { checkBufferArgs, checkResultMode } from '../buffers.js';
import type { CallArg } from '../call-options.js';
import { InvalidArgumentError, InvalidOptionError, ReactorPoolError } from '../errors.js';
import type { ModuleSpec, ValueType } from '../module-spec.js';
import type { AllocatorKind, ResultMode } from '../protocol.js';

export interface CallSpec {
  readonly name: string;
  readonly args: readonly CallArg[];
  /** How the result is read: `'value'` (a number), `'bytes'` or `'string'`. */
  readonly result: ResultMode;
}

/** What {@link parseCallSpec} checks a call against: a pool's module spec and allocator. */
export interface CallTarget {
  readonly spec: ModuleSpec;
  readonly allocator: AllocatorKind | undefined;
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

/** The string and bytes syntaxes `--call` takes, for `--help` and the README. */
export const BUFFER_SYNTAX = `strings and bytes (each fills two i32 parameters, pointer and length,
                       and needs an allocator export): str:TEXT (UTF-8, up to the next
                       comma), "TEXT" (a JSON string: commas, quotes, \\n, \\u00e9),
                       hex:00ff, b64:AP8= (base64), file:PATH (the file's bytes)`;

const INTEGER = /^([-+]?)(?:0[xX]([0-9a-fA-F]+)|(\d+))$/;
const FLOAT = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$|^[-+]?Infinity$|^NaN$/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BUFFER_PREFIX = /^(str|hex|b64|file):/;

/** Checks each `--result EXPORT=MODE` against the module: a callable export whose result can be read so. */
export function checkNamedResults(named: ReadonlyMap<string, ResultMode>, target: CallTarget): void {
  const callables = callableExports(target.spec, true);
  for (const [name, mode] of named) checkResultMode(lookupExport(callables, target.spec, name), mode, target.allocator);
}

/**
 * Parses one `--call` spec and checks it against the export's signature (`ERR_UNKNOWN_EXPORT`,
 * `ERR_INVALID_ARGUMENT`, `ERR_NO_ALLOCATOR`), its result read as `result`.
 */
export function parseCallSpec(text: string, target: CallTarget, result: (name: string) => ResultMode = () => 'value'): CallSpec {
  const colon = text.indexOf(':');
  const name = colon === -1 ? text : text.slice(0, colon);
  const argText = colon === -1 ? '' : text.slice(colon + 1);
  if (name.length === 0) {
    throw new InvalidOptionError(`Expected --call to look like \`name:arg,arg\`, got ${JSON.stringify(text)}`);
  }
  const callable = lookupExport(callableExports(target.spec, true), target.spec, name);
  const params = callable.signature?.params;
  const args: CallArg[] = [];
  // A buffer fills two parameters (pointer, length): the next number is read as the parameter after them.
  let param = 0;
  for (const [i, part] of splitArguments(argText, name).entries()) {
    const arg = parseArgument(part, params?.[param], name, i);
    args.push(arg);
    param += typeof arg === 'string' || arg instanceof Uint8Array ? 2 : 1;
  }
  checkBufferArgs(callable, args, target.allocator);
  const mode = result(name);
  checkResultMode(callable, mode, target.allocator);
  return { name, args, result: mode };
}

/** Splits at commas, except inside a JSON string that starts an argument. */
function splitArguments(text: string, name: string): string[] {
  if (text.length === 0) return [];
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"' && text.slice(start, i).trim() === '') {
      quoted = true;
    } else if (c === ',') {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (quoted) {
    throw new InvalidArgumentError(`argument ${parts.length} of \`${name}\` starts a JSON string that never ends, got ${JSON.stringify(text.slice(start))}`, { exportName: name });
  }
  parts.push(text.slice(start));
  return parts;
}

function parseArgument(part: string, type: ValueType | undefined, name: string, index: number): CallArg {
  const bad = (expected: string, shown = part): never => {
    throw new InvalidArgumentError(`argument ${index} of \`${name}\` must be ${expected}, got ${JSON.stringify(shown)}`, { exportName: name });
  };
  const text = part.trimStart();
  if (text.startsWith('"')) {
    let value: unknown;
    try {
      value = JSON.parse(text.trimEnd());
    } catch {
      return bad('a JSON string ("TEXT", nothing after the closing quote but a comma)');
    }
    return typeof value === 'string' ? value : bad('a JSON string');
  }
  const prefix = BUFFER_PREFIX.exec(text)?.[1];
  if (prefix !== undefined) {
    const body = text.slice(prefix.length + 1);
    switch (prefix) {
      case 'str':
        return body;
      case 'hex':
        return HEX.test(body) ? new Uint8Array(Buffer.from(body, 'hex')) : bad('hex:HEX with an even number of hexadecimal digits');
      case 'b64':
        return BASE64.test(body) ? new Uint8Array(Buffer.from(body, 'base64')) : bad('b64:BASE64 (A-Z a-z 0-9 + /, padded with = to a multiple of 4)');
      default:
        try {
          return new Uint8Array(readFileSync(body));
        } catch (error) {
          return bad(`file:PATH naming a readable file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
        }
    }
  }
  return parseNumber(text.trim(), type, bad);
}

function parseNumber(text: string, type: ValueType | undefined, bad: (expected: string, shown?: string) => never): CallArg {
  const integer = INTEGER.exec(text);
  if (type === 'i64' || type === 'i32') {
    if (integer === null) return bad(`an integer, decimal or 0x hexadecimal (${type}), or a string or bytes for an (i32, i32) pair`, text);
    const value = integerValue(integer);
    return type === 'i64' ? value : Number(value);
  }
  if (integer !== null) return Number(integerValue(integer));
  if (!FLOAT.test(text)) return bad(`a number: decimal, 0x hexadecimal, Infinity or NaN (${type ?? 'no such parameter'})`, text);
  return Number(text);
}

/** The value of an {@link INTEGER} match: BigInt reads `0x` digits but not a sign before them. */
function integerValue([, sign, hex, decimal]: RegExpExecArray): bigint {
  const magnitude = hex === undefined ? BigInt(decimal as string) : BigInt(`0x${hex}`);
  return sign === '-' ? -magnitude : magnitude;
}
