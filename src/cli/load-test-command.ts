// `reactor-pool bench <module> --call NAME[:ARGS]`: a load test of the user's own exports through the
// pool: many sessions, a fixed number of calls in flight, bounded by time or by a call count; prints
// progress each second, then throughput, latency percentiles and failed calls by error code.

import { stat, writeFile } from 'node:fs/promises';
import { arch, availableParallelism, cpus, platform, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { InvalidOptionError, ReactorPoolError } from '../errors.js';
import { DEFAULT_MAX_INSTANCES } from '../options.js';
import { ReactorPool } from '../pool.js';
import type { Session } from '../session.js';
import { NUMBER_SYNTAX, asUsage, parseCallSpec, type CallSpec } from './arguments.js';
import { LatencyHistogram } from './latency-histogram.js';

export const DEFAULT_SESSIONS = 16;
export const DEFAULT_CONCURRENCY = 64;
export const DEFAULT_DURATION_S = 10;
export const MAX_SESSIONS = DEFAULT_MAX_INSTANCES;
/** Below the pool's default per-session queue bound, so one session alone never gets ERR_QUEUE_FULL. */
export const MAX_CONCURRENCY = 10_000;
export const MAX_DURATION_S = 86_400;
export const MAX_CALLS = 1_000_000_000;

/** Codes after which the pool takes no more calls: the run stops making them instead of counting rejections. */
const POOL_STOPPED: ReadonlySet<string> = new Set(['ERR_POOL_CLOSED', 'ERR_RESTART_LIMIT']);

export const LOAD_TEST_HELP = `Usage: reactor-pool bench <module> --call NAME[:ARG,ARG...] [--call ...]
                          [--sessions N] [--concurrency N] [--duration S | --calls N]
                          [--workers N] [--json FILE]

Load-tests your module through the pool: --sessions sessions (each its own
instance), --concurrency calls in flight at once, until --duration seconds have
passed or --calls calls were made. Each session cycles through the --call list
in order. Prints progress on stderr once a second, then calls per second and the
latency of a call at the 50th, 90th and 99th percentile: from the moment it is
made until it resolves, queueing included (a session's first call also starts
its instance). The module's own stdout and stderr are discarded (see
\`reactor-pool run\` to watch them).

A failed call does not stop the run (unless the pool itself stops); failures are
counted by error code. Exits 1 if any call failed, 2 on a usage mistake (a bad
option, an unknown export, a bad argument).

Options:
  --call NAME[:ARGS]   an export to call, with comma-separated arguments (repeatable),
                       checked against its signature before the load starts;
                       ${NUMBER_SYNTAX}
  --sessions N         sessions (default: ${DEFAULT_SESSIONS}; at most ${MAX_SESSIONS})
  --concurrency N      calls in flight at once, over all sessions (default: ${DEFAULT_CONCURRENCY})
  --duration S         seconds to keep making calls (default: ${DEFAULT_DURATION_S}); calls in flight
                       then finish
  --calls N            make exactly N calls instead (not with --duration)
  --workers N          worker threads (default: available parallelism)
  --json FILE          also write the report as JSON: machine, Node version, options,
                       calls/s, p50/p90/p99 latency, errors by code
  -h, --help           show this help

Example:
  reactor-pool bench reactor/reactor.wasm --call inc:1 --sessions 100 --duration 5`;

/** The parsed command line of the load test. Exactly one of `durationSeconds` and `totalCalls` is set. */
export interface LoadTestArgs {
  readonly module: string;
  readonly calls: readonly string[];
  readonly sessions: number;
  readonly concurrency: number;
  readonly durationSeconds: number | undefined;
  readonly totalCalls: number | undefined;
  readonly workers: number | undefined;
  readonly json: string | undefined;
}

/** Failed calls of one error code, with the first message seen as an example. */
export interface ErrorTally {
  count: number;
  readonly example: string;
}

/** The `--json` report. */
export interface LoadTestReport {
  readonly command: 'reactor-pool bench';
  readonly date: string;
  readonly machine: { readonly platform: string; readonly arch: string; readonly cpu: string; readonly cores: number; readonly memoryBytes: number };
  readonly node: string;
  readonly module: string;
  readonly options: {
    readonly calls: readonly string[];
    readonly sessions: number;
    readonly concurrency: number;
    readonly durationSeconds: number | null;
    readonly totalCalls: number | null;
    readonly workers: number;
  };
  readonly seconds: number;
  readonly calls: number;
  readonly failed: number;
  /** The code that stopped the pool (no more calls were made after it), or null. */
  readonly stoppedBy: string | null;
  readonly callsPerSecond: number;
  /** Of the calls that succeeded; null when none did. */
  readonly latencyMs: { readonly p50: number | null; readonly p90: number | null; readonly p99: number | null; readonly max: number | null };
  readonly errors: Readonly<Record<string, ErrorTally>>;
}

/** Hands out the next call: sessions in turn, each session's calls cycling through the `--call` list. */
class CallPlan {
  #made = 0;
  #stopped = false;
  readonly #turn: number[];

  constructor(
    private readonly sessions: readonly Session[],
    private readonly calls: readonly CallSpec[],
    private readonly more: (made: number) => boolean,
  ) {
    this.#turn = new Array<number>(sessions.length).fill(0);
  }

  get made(): number {
    return this.#made;
  }

  /** Makes no more calls. */
  stop(): void {
    this.#stopped = true;
  }

  next(): { session: Session; call: CallSpec } | undefined {
    if (this.#stopped || !this.more(this.#made)) return undefined;
    const s = this.#made++ % this.sessions.length;
    const turn = this.#turn[s] as number;
    this.#turn[s] = turn + 1;
    return { session: this.sessions[s] as Session, call: this.calls[turn % this.calls.length] as CallSpec };
  }
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
 * Runs the load test, prints the report through `write` (progress goes to stderr) and writes `--json`.
 * Resolves with the exit code: 0, or 1 when any call failed.
 */
export async function loadTestCommand(args: LoadTestArgs, write: (line: string) => void): Promise<number> {
  await checkJsonPath(args.json);
  const pool = await ReactorPool.create({
    module: args.module, workers: args.workers ?? availableParallelism(), stdout: 'ignore', stderr: 'ignore',
  });
  try {
    const calls = asUsage(() => args.calls.map((text) => parseCallSpec(text, pool.spec)));
    const sessions = Array.from({ length: args.sessions }, (_, i) => pool.session(`load-${i}`));
    const latency = new LatencyHistogram();
    const errors = new Map<string, ErrorTally>();
    const started = performance.now();
    const deadline = args.durationSeconds === undefined ? Number.POSITIVE_INFINITY : started + args.durationSeconds * 1000;
    const limit = args.totalCalls ?? Number.POSITIVE_INFINITY;
    const plan = new CallPlan(sessions, calls, (made) => made < limit && performance.now() < deadline);
    let stoppedBy: string | null = null;

    const lane = async (): Promise<void> => {
      for (let job = plan.next(); job !== undefined; job = plan.next()) {
        const sent = performance.now();
        try {
          await job.session.call<unknown>(job.call.name, ...job.call.args);
          latency.record(performance.now() - sent);
        } catch (error) {
          const code = tally(errors, error);
          if (POOL_STOPPED.has(code)) {
            stoppedBy ??= code;
            plan.stop();
          }
        }
      }
    };
    const progress = setInterval(() => {
      const seconds = (performance.now() - started) / 1000;
      process.stderr.write(`[${seconds.toFixed(0)} s] ${plan.made.toLocaleString('en-US')} calls, ${rate(plan.made, seconds)} calls/s, ${failures(errors)} failed\n`);
    }, 1000);
    try {
      await Promise.all(Array.from({ length: args.concurrency }, lane));
    } finally {
      clearInterval(progress);
    }
    const seconds = (performance.now() - started) / 1000;

    const report = buildReport(args, pool.workers, seconds, plan.made, latency, errors, stoppedBy);
    for (const line of formatReport(report)) write(line);
    if (args.json !== undefined) await writeFile(args.json, `${JSON.stringify(report, null, 2)}\n`);
    if (report.failed === 0) return 0;
    const summary = Object.entries(report.errors).map(([code, t]) => `${code} ×${t.count} (first: ${t.example})`).join('; ');
    process.stderr.write(`error: ${report.failed} of ${report.calls} calls failed: ${summary}\n`);
    return 1;
  } finally {
    await pool.destroy();
  }
}

/** Counts a failed call under its code; returns the code. */
function tally(errors: Map<string, ErrorTally>, error: unknown): string {
  const code = error instanceof ReactorPoolError ? error.code : 'ERR_INTERNAL';
  const seen = errors.get(code);
  if (seen === undefined) errors.set(code, { count: 1, example: error instanceof Error ? error.message : String(error) });
  else seen.count++;
  return code;
}

function failures(errors: ReadonlyMap<string, ErrorTally>): number {
  let count = 0;
  for (const { count: n } of errors.values()) count += n;
  return count;
}

function rate(calls: number, seconds: number): string {
  return seconds > 0 ? Math.round(calls / seconds).toLocaleString('en-US') : '–';
}

function buildReport(
  args: LoadTestArgs, workers: number, seconds: number, calls: number, latency: LatencyHistogram,
  errors: ReadonlyMap<string, ErrorTally>, stoppedBy: string | null,
): LoadTestReport {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown';
  return {
    command: 'reactor-pool bench',
    date: new Date().toISOString(),
    machine: { platform: platform(), arch: arch(), cpu, cores: availableParallelism(), memoryBytes: totalmem() },
    node: process.version,
    module: args.module,
    options: {
      calls: args.calls, sessions: args.sessions, concurrency: args.concurrency,
      durationSeconds: args.durationSeconds ?? null, totalCalls: args.totalCalls ?? null, workers,
    },
    seconds,
    calls,
    failed: failures(errors),
    stoppedBy,
    callsPerSecond: seconds > 0 ? calls / seconds : 0,
    latencyMs: { p50: latency.percentile(0.5), p90: latency.percentile(0.9), p99: latency.percentile(0.99), max: latency.maxMs },
    errors: Object.fromEntries([...errors].sort(([a], [b]) => a.localeCompare(b))),
  };
}

function ms(value: number | null): string {
  return value === null ? '–' : value.toPrecision(3);
}

function formatReport(r: LoadTestReport): string[] {
  const o = r.options;
  const bound = o.totalCalls === null ? `${o.durationSeconds} s` : `${o.totalCalls.toLocaleString('en-US')} calls`;
  const errors = Object.entries(r.errors).map(([code, t]) => `${code} ×${t.count}`).join(', ');
  return [
    `load test: ${r.module}`,
    `  ${o.workers} worker${o.workers === 1 ? '' : 's'}, ${o.sessions} session${o.sessions === 1 ? '' : 's'}, ${o.concurrency.toLocaleString('en-US')} in flight, ${bound}; calls: ${o.calls.join(' ')}`,
    `  ${r.calls.toLocaleString('en-US')} calls in ${r.seconds.toFixed(2)} s: ${rate(r.calls, r.seconds)} calls/s`,
    `  latency (ms): p50 ${ms(r.latencyMs.p50)}  p90 ${ms(r.latencyMs.p90)}  p99 ${ms(r.latencyMs.p99)}  max ${ms(r.latencyMs.max)}`,
    `  failed: ${r.failed === 0 ? 'none' : `${r.failed.toLocaleString('en-US')} (${errors})`}`,
    ...(r.stoppedBy === null ? [] : [`  stopped early: the pool stopped (${r.stoppedBy}); no calls were made after it`]),
    `  machine: ${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.node}`,
  ];
}
