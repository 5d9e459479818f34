// `npm run bench`: the comparison benchmark of the repository (not shipped in the package), printing
// progress while it runs, then a table; writes JSON, markdown and an SVG chart; exits 1 on any wrong result.
// After `npm run build:bench`: node dist/bench/src/main.js [module] [--quick] [--workers N] [--out DIR]

import { availableParallelism } from 'node:os';
import { isAbsolute, relative, resolve } from 'node:path';
import { InvalidOptionError } from '../../src/errors.js';
import { exitWith, integerOption, onePositional, parse } from '../../src/cli/command-line.js';
import { MAX_WORKERS } from '../../src/options.js';
import { consoleReport } from './report.js';
import { runBench } from './runner.js';
import { prepareOutDir, writeResults } from './write-results.js';
import { BUNDLED_REACTOR } from '../../src/cli/demo-command.js';

/** Where results go unless `--out` says otherwise (relative to the working directory). */
export const DEFAULT_OUT = 'bench/results';

/** `npm run bench -- --help`. */
export const BENCH_HELP = `Usage: npm run bench -- [module] [--quick] [--workers N] [--out DIR]

Runs the load benchmark: the same reactor called in-thread (the machine limit),
through naive piscina (one task per call) and comlink (one message per call),
through a bare SharedArrayBuffer ring (a promise per call, calls of a tick
batched) and reactor-pool's per-call and bulk APIs over 1…cores workers, one call in
flight against a raw postMessage round trip, session activations against raw
instantiation, a Go + wazero host (bench/wazero, when go is on PATH), and
durable sessions (durability in a temporary directory): per-call load and one
call in flight, and recovery after kill -9 (a child builds 10,000 durable
sessions, --quick: 300, and is killed; a new pool serves every first call),
and a cluster (when nats-server is on PATH or REACTOR_POOL_NATS_SERVER names
it: a server on 127.0.0.1, two member processes, this process a client):
calls per second with 1000 in flight and one session's call latency, next to
the local pool's. Every result is checked against its session's running total;
a wrong result fails the run. Prints progress on stderr, then a table and the benchmark's
targets (its own goals, as ratios between scenarios of the run).

Arguments:
  module           a reactor exporting inc(i32) -> i32 that adds to a running
                   total (default: the bundled Zig reactor)
Options:
  --quick          smoke test: tiny counts, a few seconds, checks correctness only
  --workers N      worker threads of the headline scenarios (default: available parallelism)
  --out DIR        where to write <timestamp>.json, latest.json, latest.md and
                   latest.svg (default: ${DEFAULT_OUT})
  -h, --help       show this help

A full run takes about 1–3 minutes.`;

/** The parsed command line of the benchmark. */
export interface BenchArgs {
  readonly module: string;
  readonly quick: boolean;
  readonly workers: number | undefined;
  readonly out: string | undefined;
}

/** The module path as the reports show it: relative to the working directory when inside it. */
function shownPath(path: string): string {
  const absolute = resolve(path);
  const inside = relative(process.cwd(), absolute);
  return inside === '' || inside.startsWith('..') || isAbsolute(inside) ? absolute : inside;
}

function where(workers: number): string {
  return workers === 0 ? 'main thread' : `${workers} worker${workers === 1 ? '' : 's'}`;
}

/** The command line that reproduces a run. */
function commandLine(args: BenchArgs): string {
  const parts: string[] = [];
  if (resolve(args.module) !== BUNDLED_REACTOR) parts.push(shownPath(args.module));
  if (args.quick) parts.push('--quick');
  if (args.workers !== undefined) parts.push(`--workers ${args.workers}`);
  if (args.out !== undefined) parts.push(`--out ${args.out}`);
  return parts.length === 0 ? 'npm run bench' : `npm run bench -- ${parts.join(' ')}`;
}

/**
 * Runs the benchmark, prints the report through `write` (progress goes to stderr) and writes the
 * result files. Resolves with the exit code: 0, or 1 when a scenario failed or returned a wrong value.
 */
export async function benchCommand(args: BenchArgs, write: (line: string) => void): Promise<number> {
  if (args.out === '') throw new InvalidOptionError('Expected --out to be a directory path, got an empty string');
  const outDir = resolve(args.out ?? DEFAULT_OUT);
  try {
    await prepareOutDir(outDir);
  } catch (error) {
    throw new InvalidOptionError(`cannot create the --out directory ${JSON.stringify(outDir)} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const run = await runBench(
    { module: shownPath(args.module), quick: args.quick, workers: args.workers ?? availableParallelism(), command: commandLine(args) },
    (line) => process.stderr.write(`${line}\n`),
  );
  write('');
  write(consoleReport(run));
  const files = await writeResults(run, outDir);
  write('');
  write(`results: ${files.json}`);
  write(`         ${files.latestJson}, ${files.markdown}, ${files.svg}`);
  if (run.correct) return 0;
  const bad = run.scenarios.filter((s) => s.status === 'failed' || s.correct === false);
  const code = bad.some((s) => s.status === 'failed') ? 'ERR_BENCH_FAILED' : 'ERR_BENCH_WRONG_RESULT';
  process.stderr.write(`error [${code}]: ${bad.map((s) => `${s.title} (${where(s.workers)}): ${s.note}`).join('; ')}\n`);
  return 1;
}

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    quick: { type: 'boolean' },
    workers: { type: 'string' },
    out: { type: 'string' },
  });
  const write = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  if (values['help'] === true) {
    write(BENCH_HELP);
    return 0;
  }
  return benchCommand({
    module: onePositional(positionals, 'bench', false) ?? BUNDLED_REACTOR,
    quick: values['quick'] === true,
    workers: integerOption(values['workers'], 'workers', 1, MAX_WORKERS),
    out: values['out'] as string | undefined,
  }, write);
}

exitWith(main(process.argv.slice(2)));
