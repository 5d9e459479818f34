// `reactor-pool bench <module> --call NAME[:ARGS]`: a load test of the user's own exports through the
// pool: many sessions, a fixed number of calls in flight, bounded by time or by a call count; prints
// progress each second, then throughput, latency percentiles and failed calls by error code.

import { stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { InvalidOptionError } from '../errors.js';
import { DEFAULT_MAX_INSTANCES } from '../options.js';
import { ReactorPool } from '../pool.js';
import type { WasiOptions } from '../options.js';
import { BUFFER_SYNTAX, NUMBER_SYNTAX, asUsage, checkNamedResults, parseCallSpec } from './arguments.js';
import { RESULT_FLAGS_HELP, resultFlagName, type ResultChoice } from './call-results.js';
import { buildReport, formatReport, rate, type LoadTestReport } from './load-test-report.js';
import { runLoad, type LoadProgress } from './load-test-run.js';
import { poolFlagsHelp, type PoolFlags } from './pool-flags.js';
import { WASI_FLAGS_HELP } from './wasi-flags.js';

export const DEFAULT_SESSIONS = 16;
export const DEFAULT_CONCURRENCY = 64;
export const DEFAULT_DURATION_S = 10;
export const MAX_SESSIONS = DEFAULT_MAX_INSTANCES;
/** Below the pool's default per-session queue bound, so one session alone never gets ERR_QUEUE_FULL. */
export const MAX_CONCURRENCY = 10_000;
export const MAX_DURATION_S = 86_400;
export const MAX_CALLS = 1_000_000_000;

export const LOAD_TEST_HELP = `Usage: reactor-pool bench <module> --call NAME[:ARG,ARG...] [--call ...]
                          [--sessions N] [--concurrency N] [--duration S | --calls N]
                          [--workers N] [--isolation MODE] [--timeout MS]
                          [--memory-limit SIZE] [--on-trap POLICY] [--result MODE]
                          [--env KEY=VALUE] [--dir HOST[:GUEST]] [--json FILE]

Load-tests your module through the pool: --sessions sessions (each its own
instance), --concurrency calls in flight at once, until --duration seconds have
passed or --calls calls were made. Each session cycles through the --call list
in order. Prints progress on stderr once a second, then calls per second and the
latency of a call at the 50th, 90th and 99th percentile: from the moment it is
made until it resolves, queueing included (a session's first call also starts
its instance). The module's own stdout and stderr are discarded (see
\`reactor-pool run\` to watch them).

A failed call (a trap, a timeout, a lost session...) is counted by its error
code and the run goes on. If the pool itself stops (say, a worker thread kept
dying: ERR_RESTART_LIMIT), no more calls are made: the report shows what was
measured until then and why it stopped. Exits 1 if any call failed or the pool
stopped, 2 on a usage mistake (a bad option, an unknown export, a bad argument).

Options:
  --call NAME[:ARGS]   an export to call, with comma-separated arguments (repeatable),
                       checked against its signature before the load starts;
                       ${NUMBER_SYNTAX};
                       ${BUFFER_SYNTAX}
${RESULT_FLAGS_HELP}
                       (a bytes or string result read as a number is never freed)
  --sessions N         sessions (default: ${DEFAULT_SESSIONS}; at most ${MAX_SESSIONS})
  --concurrency N      calls in flight at once, over all sessions (default: ${DEFAULT_CONCURRENCY})
  --duration S         seconds to keep making calls (default: ${DEFAULT_DURATION_S}); calls in flight
                       then finish
  --calls N            make exactly N calls instead (not with --duration)
  --workers N          worker threads (default: available parallelism)
${poolFlagsHelp(true)}
${WASI_FLAGS_HELP}
  --json FILE          also write the report as JSON: machine, Node version, options
                       (--env names only, not values), calls/s, p50/p90/p99 latency, errors by code, why the pool stopped
  -h, --help           show this help

Examples:
  reactor-pool bench reactor/reactor.wasm --call inc:1 --sessions 100 --duration 5
  reactor-pool bench mod.wasm --call render:file:page.md --result string --calls 10000`;

/** The parsed command line of the load test. Exactly one of `durationSeconds` and `totalCalls` is set. */
export interface LoadTestArgs {
  readonly module: string;
  readonly calls: readonly string[];
  readonly sessions: number;
  readonly concurrency: number;
  readonly durationSeconds: number | undefined;
  readonly totalCalls: number | undefined;
  readonly workers: number | undefined;
  readonly pool: PoolFlags;
  /** Environment and preopened directories (`--env`, `--dir`). */
  readonly wasi: WasiOptions;
  /** How each export's result is read (`--result`). */
  readonly result: ResultChoice;
  readonly json: string | undefined;
}

/** Where the command writes: the report's lines (stdout) and progress and failures (stderr). */
export interface LoadTestOutput {
  readonly write: (line: string) => void;
  readonly warn: (line: string) => void;
}

/** Checks what can be checked before a pool starts: the `--json` file's directory must exist. */
async function checkJsonPath(path: string | undefined): Promise<void> {
  if (path === undefined) return;
  if (path === '') throw new InvalidOptionError('Expected --json to be a file path, got an empty string');
  const folder = dirname(resolve(path));
  const isFolder = await stat(folder).then((s) => s.isDirectory(), () => false);
  if (!isFolder) throw new InvalidOptionError(`Expected --json to be a file in an existing directory, got ${JSON.stringify(path)}`);
}

/**
 * Runs the load test on a pool made from `args`, prints the report and writes `--json`.
 * Resolves with the exit code: 0, or 1 when any call failed or the pool stopped.
 */
export async function loadTestCommand(args: LoadTestArgs, output: LoadTestOutput): Promise<number> {
  await checkJsonPath(args.json);
  const { isolation, callTimeout, memoryLimit, onTrap, hostFunctions } = args.pool;
  const pool = await ReactorPool.create({
    module: args.module, workers: args.workers ?? availableParallelism(), stdout: 'ignore', stderr: 'ignore',
    isolation, callTimeout, memoryLimit, onTrap, wasi: args.wasi, ...(hostFunctions === undefined ? {} : { hostFunctions }),
  });
  try {
    return await loadTestOn(pool, args, output);
  } finally {
    await pool.destroy();
  }
}

/**
 * The load test on a pool already made (with the options in `args.pool`; its owner destroys it):
 * checks the calls, runs, prints the report, writes `--json`; resolves with the exit code.
 */
export async function loadTestOn(pool: ReactorPool, args: LoadTestArgs, output: LoadTestOutput): Promise<number> {
  const calls = asUsage(() => {
    checkNamedResults(args.result.named, pool);
    return args.calls.map((text) => parseCallSpec(text, pool, args.result.modeOf));
  });
  const progress = ({ seconds, made, failed }: LoadProgress): void => {
    output.warn(`[${seconds.toFixed(0)} s] ${made.toLocaleString('en-US')} calls, ${rate(made, seconds)} calls/s, ${failed} failed`);
  };
  const outcome = await runLoad(pool, { ...args, calls }, progress);
  const { callTimeout, memoryLimit } = args.pool;
  const report: LoadTestReport = buildReport(args.module, {
    calls: args.calls, sessions: args.sessions, concurrency: args.concurrency,
    durationSeconds: args.durationSeconds ?? null, totalCalls: args.totalCalls ?? null, workers: pool.workers,
    isolation: args.pool.isolation,
    callTimeoutMs: Number.isFinite(callTimeout) ? callTimeout : null,
    memoryLimitBytes: Number.isFinite(memoryLimit) ? memoryLimit : null,
    onTrap: args.pool.onTrap,
    results: Object.fromEntries(calls.map((call) => [call.name, resultFlagName(call.result)])),
    env: Object.keys(args.wasi.env ?? {}),
    dirs: { ...args.wasi.preopens },
  }, outcome);
  for (const line of formatReport(report)) output.write(line);
  if (args.json !== undefined) await writeFile(args.json, `${JSON.stringify(report, null, 2)}\n`);
  if (report.failed > 0) {
    const summary = Object.entries(report.errors).map(([code, t]) => `${code} ×${t.count} (first: ${t.example})`).join('; ');
    output.warn(`error: ${report.failed} of ${report.calls} calls failed: ${summary}`);
  }
  if (report.stoppedBy !== null) {
    output.warn(`error [${report.stoppedBy.code}]: the pool stopped after ${report.calls} calls, ending the run early: ${report.stoppedBy.message}`);
  }
  return report.failed === 0 && report.stoppedBy === null ? 0 : 1;
}
