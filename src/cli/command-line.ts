// What every command line shares: strict option parsing, the module positional, bounded integers,
// and how a finished or failed command sets the exit code (2 for a usage mistake, 1 for anything else).

import { parseArgs } from 'node:util';
import { InvalidOptionError, ReactorPoolError, describeValue } from '../errors.js';
import { UsageMistake } from './arguments.js';

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;

/** Parses `args` strictly (an unknown option is `ERR_INVALID_OPTION`), with `-h`/`--help` added. */
export function parse(args: readonly string[], options: OptionSpec): { values: Record<string, unknown>; positionals: string[] } {
  try {
    return parseArgs({ args: [...args], options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new InvalidOptionError((error as Error).message);
  }
}

export function onePositional(positionals: readonly string[], command: string, required: boolean): string | undefined {
  if (positionals.length > 1) throw new InvalidOptionError(`${command} takes one module, got ${positionals.length}: ${positionals.join(' ')}`);
  if (required && positionals.length === 0) throw new InvalidOptionError(`${command} needs a module path (see reactor-pool ${command} --help)`);
  return positionals[0];
}

export function integerOption(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new InvalidOptionError(`Expected --${name} to be an integer from ${min} to ${max}, got ${describeValue(value)}`);
  }
  return n;
}

/**
 * Sets the exit code from a command's result; prints a failure as `error [CODE]: message` on stderr,
 * or with `json` as `{ "error": { "code", "message" } }` on stdout.
 */
export function exitWith(command: Promise<number>, json = false): void {
  const fail = (code: string, message: string, exitCode: number): void => {
    if (json) process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
    else process.stderr.write(`error [${code}]: ${message}\n`);
    process.exitCode = exitCode;
  };
  command.then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof UsageMistake) fail(error.error.code, error.error.message, 2);
      else if (error instanceof ReactorPoolError) fail(error.code, error.message, error.code === 'ERR_INVALID_OPTION' ? 2 : 1);
      else fail('ERR_INTERNAL', error instanceof Error ? (json ? error.message : error.stack ?? error.message) : String(error), 1);
    },
  );
}
