// Parses `--call name:arg,arg` specs for the CLI, turning each argument text into the type the
// export's signature asks for (i64 → bigint), so the pool's own checks see real values.

import { InvalidArgumentError, InvalidOptionError } from '../errors.js';
import type { ModuleSpec } from '../module-spec.js';
import type { WasmValue } from '../protocol.js';

export interface CallSpec {
  readonly name: string;
  readonly args: readonly WasmValue[];
}

export function parseCallSpec(text: string, spec: ModuleSpec): CallSpec {
  const colon = text.indexOf(':');
  const name = colon === -1 ? text : text.slice(0, colon);
  const argText = colon === -1 ? '' : text.slice(colon + 1);
  if (name.length === 0) {
    throw new InvalidOptionError(`Expected --call to look like \`name:arg,arg\`, got ${JSON.stringify(text)}`);
  }
  const params = spec.exports.find((e) => e.name === name && e.kind === 'function')?.signature?.params;
  const parts = argText.length === 0 ? [] : argText.split(',');
  const args = parts.map((part, i) => parseValue(part.trim(), params?.[i], name, i));
  return { name, args };
}

function parseValue(text: string, type: string | undefined, name: string, index: number): WasmValue {
  const bad = (expected: string): never => {
    throw new InvalidArgumentError(`argument ${index} of \`${name}\` must be ${expected}, got ${JSON.stringify(text)}`, { exportName: name });
  };
  if (type === 'i64') {
    if (!/^[-+]?\d+$/.test(text)) bad('an integer (i64)');
    return BigInt(text);
  }
  if (text.length === 0) bad('a number');
  const value = Number(text);
  if (Number.isNaN(value) && text !== 'NaN') bad('a number');
  return value;
}

/** `inc(1) = 21`, as the CLI prints a finished call. */
export function formatCall(call: CallSpec, result: unknown): string {
  const shown = Array.isArray(result) ? result.map(String).join(', ') : result === undefined ? '' : String(result);
  const head = `${call.name}(${call.args.map(String).join(', ')})`;
  return shown === '' ? head : `${head} = ${shown}`;
}
