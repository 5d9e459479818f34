// The WASI grants a command line can make (`--env KEY=VALUE`, `--dir HOST[:GUEST]`), read from their
// text and checked before a pool starts, into the pool's `wasi` option.

import { statSync } from 'node:fs';
import { InvalidOptionError, describeValue } from '../errors.js';
import type { WasiOptions } from '../options.js';
import type { OptionSpec } from './command-line.js';

/** The flags for {@link parse}. */
export function wasiFlagSpecs(): OptionSpec {
  return { env: { type: 'string', multiple: true }, dir: { type: 'string', multiple: true } };
}

/** The `--help` lines of the flags, aligned with the commands' other options. */
export const WASI_FLAGS_HELP = `  --env KEY=VALUE      an environment variable the reactor sees (repeatable; nothing of
                       this process's environment is passed otherwise)
  --dir HOST[:GUEST]   preopen the host directory HOST as GUEST (default: HOST as typed)
                       for the reactor's file calls (repeatable; split at the last colon).
                       Grants real file access: node:wasi is not a sandbox`;

/** Reads `--env` and `--dir` parsed by {@link parse} with {@link wasiFlagSpecs}; a bad one is `ERR_INVALID_OPTION` showing it. */
export function readWasiFlags(values: Record<string, unknown>): WasiOptions {
  return { env: readEnv(values['env']), preopens: readDirs(values['dir']) };
}

const ENV_KEY = /^[^=\0]+$/;

function readEnv(value: unknown): Record<string, string> {
  const env: Record<string, string> = {};
  for (const text of (value as string[] | undefined) ?? []) {
    const equals = text.indexOf('=');
    const key = equals === -1 ? '' : text.slice(0, equals);
    const variable = text.slice(equals + 1);
    if (!ENV_KEY.test(key) || variable.includes('\0')) {
      throw new InvalidOptionError(`Expected --env to be KEY=VALUE (a non-empty KEY without \`=\`), got ${describeValue(text)}`);
    }
    if (Object.hasOwn(env, key)) throw new InvalidOptionError(`--env sets ${JSON.stringify(key)} twice, got ${describeValue(text)} after ${JSON.stringify(`${key}=${env[key]}`)}`);
    env[key] = variable;
  }
  return env;
}

function readDirs(value: unknown): Record<string, string> {
  const preopens: Record<string, string> = {};
  for (const text of (value as string[] | undefined) ?? []) {
    const colon = text.lastIndexOf(':');
    const host = colon === -1 ? text : text.slice(0, colon);
    const guest = colon === -1 ? text : text.slice(colon + 1);
    if (host === '' || guest === '') {
      throw new InvalidOptionError(`Expected --dir to be HOST or HOST:GUEST, both non-empty, got ${describeValue(text)}`);
    }
    const problem = directoryProblem(host);
    if (problem !== undefined) {
      throw new InvalidOptionError(`Expected --dir to name an existing host directory, got ${describeValue(text)}: ${JSON.stringify(host)} ${problem}`);
    }
    if (Object.hasOwn(preopens, guest)) throw new InvalidOptionError(`--dir preopens the guest path ${JSON.stringify(guest)} twice, got ${describeValue(text)}`);
    preopens[guest] = host;
  }
  return preopens;
}

function directoryProblem(path: string): string | undefined {
  try {
    return statSync(path).isDirectory() ? undefined : 'is not a directory';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'does not exist' : `cannot be opened (${code ?? String(error)})`;
  }
}
