#!/usr/bin/env node
// The `reactor-pool` command: `run`, `inspect`, `demo`, `bench`. Errors print as `error [CODE]: message`
// and exit non-zero (2 for a usage mistake, 1 for anything else).

import { parseArgs } from 'node:util';
import { InvalidOptionError, ReactorPoolError, describeValue } from './errors.js';
import { MAX_TIMEOUT, MAX_WORKERS } from './options.js';
import { BENCH_HELP, benchCommand } from './cli/bench-command.js';
import { BUNDLED_REACTOR, DEMO_HELP, demoCommand } from './cli/demo-command.js';
import { INSPECT_HELP, inspectCommand } from './cli/inspect-command.js';
import { RUN_HELP, runCommand } from './cli/run-command.js';
import { UsageMistake } from './cli/arguments.js';

const MAIN_HELP = `Usage: reactor-pool <command> [options]

Runs WASI reactor WebAssembly modules as stateful per-session instances
in a pool of worker threads.

Commands:
  run <module> --call NAME[:ARGS]...   call exports on one session, print the results
  inspect <module>                     show exports, signatures, imports, memory
  demo [module]                        the reference scenario and a pool demo (npm start)
  bench [module]                       the load benchmark against baselines (npm run bench)

Run \`reactor-pool <command> --help\` for a command's options.`;

const write = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run': {
      const { values, positionals } = parse(rest, {
        call: { type: 'string', multiple: true },
        session: { type: 'string' },
        workers: { type: 'string' },
        isolation: { type: 'string' },
        timeout: { type: 'string' },
        'memory-limit': { type: 'string' },
      });
      if (values['help'] === true) return help(RUN_HELP);
      const module = onePositional(positionals, 'run', true) as string;
      const calls = (values['call'] as string[] | undefined) ?? [];
      if (calls.length === 0) throw new InvalidOptionError('run needs at least one --call NAME[:ARGS]');
      const isolation = (values['isolation'] as string | undefined) ?? 'session';
      if (isolation !== 'session' && isolation !== 'worker') {
        throw new InvalidOptionError(`Expected --isolation to be session or worker, got ${describeValue(isolation)}`);
      }
      return runCommand({
        module,
        session: (values['session'] as string | undefined) ?? 'cli',
        calls,
        workers: integerOption(values['workers'], 'workers', 1, MAX_WORKERS) ?? 1,
        isolation,
        callTimeout: integerOption(values['timeout'], 'timeout', 1, MAX_TIMEOUT) ?? Number.POSITIVE_INFINITY,
        memoryLimit: integerOption(values['memory-limit'], 'memory-limit', 1, Number.MAX_SAFE_INTEGER) ?? Number.POSITIVE_INFINITY,
      }, write);
    }
    case 'inspect': {
      const { values, positionals } = parse(rest, { json: { type: 'boolean' } });
      if (values['help'] === true) return help(INSPECT_HELP);
      return inspectCommand(onePositional(positionals, 'inspect', true) as string, values['json'] === true, write);
    }
    case 'demo': {
      const { values, positionals } = parse(rest, {
        workers: { type: 'string' },
        sessions: { type: 'string' },
        calls: { type: 'string' },
      });
      if (values['help'] === true) return help(DEMO_HELP);
      return demoCommand({
        module: onePositional(positionals, 'demo', false) ?? BUNDLED_REACTOR,
        workers: integerOption(values['workers'], 'workers', 1, MAX_WORKERS),
        sessions: integerOption(values['sessions'], 'sessions', 1, 1_000_000) ?? 1000,
        calls: integerOption(values['calls'], 'calls', 1, 1_000_000) ?? 20,
      }, write);
    }
    case 'bench': {
      const { values, positionals } = parse(rest, {
        quick: { type: 'boolean' },
        workers: { type: 'string' },
        out: { type: 'string' },
      });
      if (values['help'] === true) return help(BENCH_HELP);
      return benchCommand({
        module: onePositional(positionals, 'bench', false) ?? BUNDLED_REACTOR,
        quick: values['quick'] === true,
        workers: integerOption(values['workers'], 'workers', 1, MAX_WORKERS),
        out: values['out'] as string | undefined,
      }, write);
    }
    case undefined:
    case 'help':
    case '-h':
    case '--help':
      return help(MAIN_HELP);
    default:
      throw new InvalidOptionError(`unknown command ${JSON.stringify(command)} (commands: run, inspect, demo, bench; see --help)`);
  }
}

type OptionSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;

function parse(args: readonly string[], options: OptionSpec): { values: Record<string, unknown>; positionals: string[] } {
  try {
    return parseArgs({ args: [...args], options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new InvalidOptionError((error as Error).message);
  }
}

function onePositional(positionals: readonly string[], command: string, required: boolean): string | undefined {
  if (positionals.length > 1) throw new InvalidOptionError(`${command} takes one module, got ${positionals.length}: ${positionals.join(' ')}`);
  if (required && positionals.length === 0) throw new InvalidOptionError(`${command} needs a module path (see reactor-pool ${command} --help)`);
  return positionals[0];
}

function integerOption(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new InvalidOptionError(`Expected --${name} to be an integer from ${min} to ${max}, got ${describeValue(value)}`);
  }
  return n;
}

function help(text: string): number {
  write(text);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageMistake) {
      process.stderr.write(`error [${error.error.code}]: ${error.error.message}\n`);
      process.exitCode = 2;
    } else if (error instanceof ReactorPoolError) {
      process.stderr.write(`error [${error.code}]: ${error.message}\n`);
      process.exitCode = error.code === 'ERR_INVALID_OPTION' ? 2 : 1;
    } else {
      process.stderr.write(`error [ERR_INTERNAL]: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
