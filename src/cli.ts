#!/usr/bin/env node
// The `reactor-pool` command: `run`, `inspect`, `types`, `demo`, `bench`, `member`, `status`, `help`,
// `--version`. Errors print as `error [CODE]: message` and exit non-zero (2 for a usage mistake, 1 for
// anything else).

import { InvalidOptionError } from './errors.js';
import { MAX_WORKERS } from './options.js';
import { BUNDLED_REACTOR, DEMO_HELP, MAX_DEMO_CALLS, demoCommand } from './cli/demo-command.js';
import { INSPECT_HELP, inspectCommand } from './cli/inspect-command.js';
import {
  DEFAULT_CONCURRENCY, DEFAULT_DURATION_S, DEFAULT_SESSIONS, LOAD_TEST_HELP, MAX_CALLS, MAX_CONCURRENCY, MAX_DURATION_S, MAX_SESSIONS,
  loadTestCommand,
} from './cli/load-test-command.js';
import { MAX_LEASE_TTL, MAX_PARTITIONS, MEMBER_HELP, MIN_LEASE_TTL, memberCommand } from './cli/member-command.js';
import { RUN_HELP, runCommand } from './cli/run-command.js';
import { STATUS_HELP, statusCommand } from './cli/status-command.js';
import { TYPES_HELP, TYPES_OPTIONS, typesCommand, type TypesArgs } from './cli/types-command.js';
import { clusterFlagSpecs, memberIdFlag, readClusterFlags } from './cli/cluster-flags.js';
import { metricsFlag } from './cli/metrics-endpoint.js';
import { exitWith, integerOption, onePositional, parse } from './cli/command-line.js';
import { readByteFormat, readResultFlags } from './cli/call-results.js';
import { hostFunctionsFlag, poolFlagSpecs, readPoolFlags } from './cli/pool-flags.js';
import { packageVersion } from './cli/version.js';
import { readWasiFlags, wasiFlagSpecs } from './cli/wasi-flags.js';

const MAIN_HELP = `Usage: reactor-pool <command> [options]

Runs WASI reactor WebAssembly modules as stateful per-session instances
in a pool of worker threads.

Commands:
  run <module> --call NAME[:ARGS]...   call exports on one session, print the results
  inspect <module>                     show exports, signatures, imports, memory,
                                       whether the pool can run and snapshot it
  types <module> [-o FILE]             write a TypeScript type of the exports
  demo [module]                        the reference scenario and a pool demo (npm start)
  bench <module> --call NAME[:ARGS]... load-test your exports: calls/s, latency percentiles
  member <module> --nats URL --cluster NAME
                                       run a cluster member: own partitions, serve
                                       their sessions (NATS JetStream)
  status --nats URL --cluster NAME     show a cluster's members and partition owners
  help [command]                       this help, or a command's

Options:
  -v, --version                        print reactor-pool's version
  -h, --help                           show this help

Run \`reactor-pool help <command>\` or \`reactor-pool <command> --help\` for a
command's options. Exit codes: 0 success, 1 a failure (printed as
\`error [CODE]: message\`), 2 a usage mistake; \`inspect\` exits 3 for a module
the pool would refuse.`;

/** Each command's help, for `reactor-pool help <command>`. */
const COMMAND_HELP: Readonly<Record<string, string>> = {
  run: RUN_HELP, inspect: INSPECT_HELP, types: TYPES_HELP, demo: DEMO_HELP, bench: LOAD_TEST_HELP, member: MEMBER_HELP, status: STATUS_HELP,
};
const COMMANDS = Object.keys(COMMAND_HELP);

const write = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

const warn = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run': {
      const { values, positionals } = parse(rest, {
        call: { type: 'string', multiple: true },
        session: { type: 'string' },
        workers: { type: 'string' },
        'snapshot-in': { type: 'string' },
        'snapshot-out': { type: 'string' },
        result: { type: 'string', multiple: true },
        bytes: { type: 'string' },
        json: { type: 'boolean' },
        ...wasiFlagSpecs(),
        ...poolFlagSpecs(false),
      });
      if (values['help'] === true) return help(RUN_HELP);
      const module = onePositional(positionals, 'run', true) as string;
      const calls = (values['call'] as string[] | undefined) ?? [];
      const snapshotIn = values['snapshot-in'] as string | undefined;
      const snapshotOut = values['snapshot-out'] as string | undefined;
      // With --snapshot-out and no call, the snapshot is of a freshly started (or restored) session.
      if (calls.length === 0 && snapshotOut === undefined) throw new InvalidOptionError('run needs at least one --call NAME[:ARGS] (or --snapshot-out FILE)');
      const { isolation, callTimeout, memoryLimit, hostFunctions } = readPoolFlags(values);
      if (isolation === 'worker' && (snapshotIn !== undefined || snapshotOut !== undefined)) {
        throw new InvalidOptionError("--snapshot-in and --snapshot-out need --isolation session: with 'worker' sessions share an instance");
      }
      return runCommand({
        module,
        session: (values['session'] as string | undefined) ?? 'cli',
        calls,
        workers: integerOption(values['workers'], 'workers', 1, MAX_WORKERS) ?? 1,
        isolation,
        callTimeout,
        memoryLimit,
        hostFunctions,
        wasi: readWasiFlags(values),
        result: readResultFlags(values['result']),
        bytes: readByteFormat(values['bytes']),
        json: values['json'] === true,
        snapshotIn,
        snapshotOut,
      }, write);
    }
    case 'inspect': {
      const { values, positionals } = parse(rest, {
        json: { type: 'boolean' }, dts: { type: 'boolean' }, 'host-functions': { type: 'string' }, ...TYPES_OPTIONS,
      });
      if (values['help'] === true) return help(INSPECT_HELP);
      const module = onePositional(positionals, 'inspect', true) as string;
      if (values['dts'] === true) return typesCommand(typesArgs(module, values), write);
      if (values['out'] !== undefined || values['name'] !== undefined || values['import-from'] !== undefined) {
        throw new InvalidOptionError('inspect takes -o, --name and --import-from only with --dts');
      }
      return inspectCommand(module, values['json'] === true, write, hostFunctionsFlag(values['host-functions']));
    }
    case 'types': {
      const { values, positionals } = parse(rest, TYPES_OPTIONS);
      if (values['help'] === true) return help(TYPES_HELP);
      return typesCommand(typesArgs(onePositional(positionals, 'types', true) as string, values), write);
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
        calls: integerOption(values['calls'], 'calls', 1, MAX_DEMO_CALLS) ?? 20,
      }, write);
    }
    case 'bench': {
      const { values, positionals } = parse(rest, {
        call: { type: 'string', multiple: true },
        sessions: { type: 'string' },
        concurrency: { type: 'string' },
        duration: { type: 'string' },
        calls: { type: 'string' },
        workers: { type: 'string' },
        result: { type: 'string', multiple: true },
        ...wasiFlagSpecs(),
        ...poolFlagSpecs(true),
        json: { type: 'string' },
      });
      if (values['help'] === true) return help(LOAD_TEST_HELP);
      const module = onePositional(positionals, 'bench', true) as string;
      const calls = (values['call'] as string[] | undefined) ?? [];
      if (calls.length === 0) throw new InvalidOptionError('bench needs at least one --call NAME[:ARGS]');
      const duration = integerOption(values['duration'], 'duration', 1, MAX_DURATION_S);
      const totalCalls = integerOption(values['calls'], 'calls', 1, MAX_CALLS);
      if (duration !== undefined && totalCalls !== undefined) throw new InvalidOptionError('bench takes --duration or --calls, not both');
      return loadTestCommand({
        module,
        calls,
        sessions: integerOption(values['sessions'], 'sessions', 1, MAX_SESSIONS) ?? DEFAULT_SESSIONS,
        concurrency: integerOption(values['concurrency'], 'concurrency', 1, MAX_CONCURRENCY) ?? DEFAULT_CONCURRENCY,
        durationSeconds: totalCalls === undefined ? duration ?? DEFAULT_DURATION_S : undefined,
        totalCalls,
        workers: integerOption(values['workers'], 'workers', 1, MAX_WORKERS),
        pool: readPoolFlags(values),
        wasi: readWasiFlags(values),
        result: readResultFlags(values['result']),
        json: values['json'] as string | undefined,
      }, { write, warn });
    }
    case 'member': {
      const { values, positionals } = parse(rest, {
        ...clusterFlagSpecs(),
        partitions: { type: 'string' },
        'lease-ttl': { type: 'string' },
        workers: { type: 'string' },
        'member-id': { type: 'string' },
        replicas: { type: 'string' },
        metrics: { type: 'string' },
        json: { type: 'boolean' },
      });
      if (values['help'] === true) return help(MEMBER_HELP);
      const module = onePositional(positionals, 'member', true) as string;
      return memberCommand({
        ...readClusterFlags(values, 'member'),
        module,
        partitions: integerOption(values['partitions'], 'partitions', 1, MAX_PARTITIONS),
        leaseTtl: integerOption(values['lease-ttl'], 'lease-ttl', MIN_LEASE_TTL, MAX_LEASE_TTL),
        workers: integerOption(values['workers'], 'workers', 1, MAX_WORKERS),
        memberId: memberIdFlag(values['member-id']),
        replicas: integerOption(values['replicas'], 'replicas', 1, 5),
        metrics: metricsFlag(values['metrics']),
        json: values['json'] === true,
      }, write);
    }
    case 'status': {
      const { values, positionals } = parse(rest, { ...clusterFlagSpecs(), json: { type: 'boolean' } });
      if (values['help'] === true) return help(STATUS_HELP);
      if (positionals.length > 0) throw new InvalidOptionError(`status takes no module, got ${positionals.join(' ')}`);
      return statusCommand({ ...readClusterFlags(values, 'status'), json: values['json'] === true }, write);
    }
    case '-v':
    case '--version':
      write(packageVersion());
      return 0;
    case 'help': {
      const [topic, ...more] = rest;
      if (topic === undefined || topic === '-h' || topic === '--help') return help(MAIN_HELP);
      if (more.length > 0) throw new InvalidOptionError(`help takes one command, got ${rest.length}: ${rest.join(' ')}`);
      const text = Object.hasOwn(COMMAND_HELP, topic) ? COMMAND_HELP[topic] : undefined;
      if (text === undefined) throw unknownCommand(topic);
      return help(text);
    }
    case undefined:
    case '-h':
    case '--help':
      return help(MAIN_HELP);
    default:
      throw unknownCommand(command);
  }
}

function unknownCommand(command: string): InvalidOptionError {
  return new InvalidOptionError(`unknown command ${JSON.stringify(command)}; the commands are ${COMMANDS.join(', ')} (see reactor-pool --help)`);
}

function typesArgs(module: string, values: Record<string, unknown>): TypesArgs {
  return {
    module,
    out: values['out'] as string | undefined,
    name: values['name'] as string | undefined,
    importFrom: values['import-from'] as string | undefined,
  };
}

function help(text: string): number {
  write(text);
  return 0;
}

// A reader that stops early (`reactor-pool inspect m.wasm | head`) ends the command quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit();
});

const argv = process.argv.slice(2);
// `--json` makes `run`, `inspect`, `member` and `status` print their errors as JSON too, usage mistakes included.
exitWith(main(argv), ['run', 'inspect', 'member', 'status'].includes(argv[0] ?? '') && argv.includes('--json'));
