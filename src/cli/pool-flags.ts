// The pool options a command line can set (`--isolation`, `--timeout`, `--memory-limit`, `--on-trap`),
// read from their text and checked before a pool starts, with the accepted values of src/options.ts.

import { InvalidOptionError, describeValue } from '../errors.js';
import { ISOLATIONS, MAX_TIMEOUT, TRAP_POLICIES, oneOf, type Isolation, type TrapPolicy } from '../options.js';
import { integerOption, type OptionSpec } from './command-line.js';

/** The pool options set by flags; a limit left unset is `Infinity` (none), as the pool takes it. */
export interface PoolFlags {
  readonly isolation: Isolation;
  readonly callTimeout: number;
  readonly memoryLimit: number;
  readonly onTrap: TrapPolicy;
  /** `--host-functions PATH`: the pool's `hostFunctions` option (a path, from the working directory). */
  readonly hostFunctions?: string | undefined;
}

/** The flags for {@link parse}; `--on-trap` only where the command takes it. */
export function poolFlagSpecs(withOnTrap: boolean): OptionSpec {
  return {
    isolation: { type: 'string' },
    timeout: { type: 'string' },
    'memory-limit': { type: 'string' },
    'host-functions': { type: 'string' },
    ...(withOnTrap ? { 'on-trap': { type: 'string' } } : {}),
  };
}

/** The `--help` lines of the flags, aligned with the commands' other options. */
export function poolFlagsHelp(withOnTrap: boolean): string {
  const lines = [
    `  --isolation MODE     ${ISOLATIONS.join(' | ')}: an instance per session, or one per worker
                       shared by its sessions (default: session)`,
    `  --timeout MS         stop a call that runs longer (ERR_CALL_TIMEOUT; its worker is
                       replaced and that worker's sessions are lost; default: none)`,
    `  --memory-limit SIZE  bytes of linear memory one instance may hold, e.g. 67108864 or
                       64MiB (KiB, MiB, GiB); a call that grows past it fails with
                       ERR_MEMORY_LIMIT and loses its session (default: none)`,
    `  --host-functions PATH
                       an ES module declaring the host functions the module imports
                       (the pool's hostFunctions option; default: none)`,
  ];
  if (withOnTrap) {
    lines.push(`  --on-trap POLICY     ${TRAP_POLICIES.join(' | ')}: after a trap, keep the instance, lose the
                       session (its later calls fail ERR_SESSION_LOST), or lose it and
                       start a fresh instance (default: keep)`);
  }
  return lines.join('\n');
}

/** Reads the flags parsed by {@link parse} with {@link poolFlagSpecs}; a bad value is `ERR_INVALID_OPTION` showing it. */
export function readPoolFlags(values: Record<string, unknown>): PoolFlags {
  return {
    isolation: oneOf('--isolation', values['isolation'], ISOLATIONS, 'session'),
    callTimeout: integerOption(values['timeout'], 'timeout', 1, MAX_TIMEOUT) ?? Number.POSITIVE_INFINITY,
    memoryLimit: byteSize(values['memory-limit'], 'memory-limit') ?? Number.POSITIVE_INFINITY,
    onTrap: oneOf('--on-trap', values['on-trap'], TRAP_POLICIES, 'keep'),
    hostFunctions: hostFunctionsFlag(values['host-functions']),
  };
}

/** `--host-functions PATH`: a non-empty path (the pool imports and checks the module itself). */
export function hostFunctionsFlag(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new InvalidOptionError(`Expected --host-functions to be the path of an ES module, got ${describeValue(value)}`);
  return value;
}

const SIZE = /^(\d+)(KiB|MiB|GiB)?$/;
const UNITS: Readonly<Record<string, number>> = { KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30 };

/** A whole number of bytes, plain or with a binary suffix (`64MiB`); from 1 to 2^53 − 1. */
export function byteSize(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  const match = typeof value === 'string' ? SIZE.exec(value) : null;
  const bytes = match === null ? Number.NaN : Number(match[1]) * (UNITS[match[2] ?? ''] ?? 1);
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new InvalidOptionError(
      `Expected --${name} to be a whole number of bytes from 1 up, optionally with a KiB, MiB or GiB suffix (64MiB), got ${describeValue(value)}`,
    );
  }
  return bytes;
}
