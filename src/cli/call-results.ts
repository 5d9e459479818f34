// How the CLI reads and shows a call's result: `--result number|bytes|string` (for every call or one
// export), `--bytes hex|base64`, and a finished call as a text line or as a JSON object.

import { InvalidOptionError, ReactorPoolError, describeValue } from '../errors.js';
import type { ResultMode } from '../protocol.js';
import type { CallSpec } from './arguments.js';

/** The `--result` modes and the library's result mode each stands for. */
const RESULT_FLAG_MODES: Readonly<Record<string, ResultMode>> = { number: 'value', bytes: 'bytes', string: 'string' };

export const BYTE_FORMATS = ['hex', 'base64'] as const;
export type ByteFormat = (typeof BYTE_FORMATS)[number];

/** The `--help` lines of `--result` and `--bytes`, aligned with the commands' other options. */
export const RESULT_FLAGS_HELP = `  --result MODE        how to read results: number (default), bytes or string (the
                       export returns one i64, pointer << 32 | length, naming bytes in
                       its memory that the pool copies out and frees: needs an
                       allocator export); EXPORT=MODE for one export only (repeatable)`;

/** The `--help` line of `--bytes`. */
export const BYTES_FLAG_HELP = `  --bytes FORMAT       how bytes print, results and arguments alike: hex (default;
                       hex:00ff in text) or base64 (b64:AP8=), as --call takes them`;

/** What `--result` asked for: a mode for each export, and the exports it named. */
export interface ResultChoice {
  readonly modeOf: (name: string) => ResultMode;
  /** The `EXPORT=MODE` flags: each is checked against the module even if no `--call` names it. */
  readonly named: ReadonlyMap<string, ResultMode>;
}

/** Reads the repeatable `--result MODE` / `--result EXPORT=MODE`. */
export function readResultFlags(value: unknown): ResultChoice {
  const given = (value as string[] | undefined) ?? [];
  let all: ResultMode | undefined;
  const byExport = new Map<string, ResultMode>();
  for (const text of given) {
    const equals = text.lastIndexOf('=');
    const name = equals === -1 ? undefined : text.slice(0, equals);
    const modeText = equals === -1 ? text : text.slice(equals + 1);
    const mode = Object.hasOwn(RESULT_FLAG_MODES, modeText) ? RESULT_FLAG_MODES[modeText] : undefined;
    if (mode === undefined || name === '') {
      throw new InvalidOptionError(
        `Expected --result to be number, bytes or string, or EXPORT=MODE for one export, got ${describeValue(text)}`,
      );
    }
    const previous = name === undefined ? all : byExport.get(name);
    if (previous !== undefined && previous !== mode) {
      throw new InvalidOptionError(`--result is given twice for ${name === undefined ? 'every export' : `\`${name}\``}, got ${describeValue(text)} after another mode`);
    }
    if (name === undefined) all = mode;
    else byExport.set(name, mode);
  }
  return { modeOf: (name) => byExport.get(name) ?? all ?? 'value', named: byExport };
}

/** The `--result` name of a library result mode: `'value'` is `number`. */
export function resultFlagName(mode: ResultMode): string {
  return mode === 'value' ? 'number' : mode;
}

/** Reads `--bytes hex|base64`. */
export function readByteFormat(value: unknown): ByteFormat {
  if (value === undefined) return 'hex';
  if (value === 'hex' || value === 'base64') return value;
  throw new InvalidOptionError(`Expected --bytes to be hex or base64, got ${describeValue(value)}`);
}

function showBytes(bytes: Uint8Array, format: ByteFormat): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(format);
}

/**
 * `inc(1) = 21`, `greet("alice") = hello alice`, `hash(hex:00ff) = hex:1234…`: a finished call as `run`
 * prints it; bytes are shown as `--call` takes them (`hex:…` or `b64:…`), so a result can be passed back.
 */
export function formatCall(call: CallSpec, result: unknown, bytes: ByteFormat): string {
  const shownArg = (arg: unknown): string => (typeof arg === 'string' ? JSON.stringify(arg) : showValue(arg, bytes));
  const shown = Array.isArray(result) ? result.map((v) => showValue(v, bytes)).join(', ') : result === undefined ? '' : showValue(result, bytes);
  const head = `${call.name}(${call.args.map(shownArg).join(', ')})`;
  return shown === '' && call.result === 'value' ? head : `${head} = ${shown}`;
}

/** A result as text: numbers and bigints as they are, a string as its text, bytes as `hex:…` or `b64:…`. */
function showValue(value: unknown, bytes: ByteFormat): string {
  if (value instanceof Uint8Array) return bytes === 'hex' ? `hex:${showBytes(value, 'hex')}` : `b64:${showBytes(value, 'base64')}`;
  return String(value);
}

/** A JSON-safe value: i64 (bigint) and non-finite floats as strings, bytes as `{ hex }` or `{ base64 }`. */
export function jsonValue(value: unknown, bytes: ByteFormat): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (value instanceof Uint8Array) return { [bytes]: showBytes(value, bytes) };
  if (Array.isArray(value)) return value.map((v) => jsonValue(v, bytes));
  return value ?? null;
}

/** What the reactor wrote while a call ran (its `_initialize` output goes with the first call). */
export interface CallOutput {
  readonly stdout: string;
  readonly stderr: string;
}

/** One line of `run --json`: the call, its result or its error, and the reactor's output. */
export function jsonCall(call: CallSpec, outcome: { result: unknown } | { error: unknown }, output: CallOutput, bytes: ByteFormat): string {
  const head = { export: call.name, args: call.args.map((a) => jsonValue(a, bytes)) };
  const body = 'result' in outcome ? { result: jsonValue(outcome.result, bytes) } : { error: jsonError(outcome.error) };
  return JSON.stringify({ ...head, ...body, ...output });
}

/** `{ code, message }` of any error; an uncoded one is `ERR_INTERNAL`. */
export function jsonError(error: unknown): { code: string; message: string } {
  if (error instanceof ReactorPoolError) return { code: error.code, message: error.message };
  return { code: 'ERR_INTERNAL', message: error instanceof Error ? error.message : String(error) };
}
