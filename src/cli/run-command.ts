// `reactor-pool run <module> --call inc:1 --call inc:21`: one session, its calls in order,
// the reactor's own output passed through, one `name(args) = result` line (or JSON object) per call;
// the session optionally restored from a snapshot file first and saved to one after.

import { ReactorPool } from '../pool.js';
import type { Isolation, WasiOptions } from '../options.js';
import { checkSessionKey } from '../session.js';
import { BUFFER_SYNTAX, NUMBER_SYNTAX, asUsage, checkNamedResults, parseCallSpec } from './arguments.js';
import {
  BYTES_FLAG_HELP, RESULT_FLAGS_HELP, formatCall, jsonCall, type ByteFormat, type CallOutput, type ResultChoice,
} from './call-results.js';
import { WASI_FLAGS_HELP } from './wasi-flags.js';
import { poolFlagsHelp } from './pool-flags.js';
import { checkSnapshotOut, readSnapshotIn, writeFileAtomically } from './snapshot-files.js';

export const RUN_HELP = `Usage: reactor-pool run <module> [--session KEY] --call NAME[:ARG,ARG...] [--call ...]
                         [--result MODE] [--env KEY=VALUE] [--dir HOST[:GUEST]] [--json]
                         [--snapshot-in FILE] [--snapshot-out FILE]

Starts a pool on <module> (a WASI reactor .wasm), runs the calls in order on one
session, and prints each as \`name(args) = result\`. The reactor's stdout and
stderr pass through (its _initialize output comes first).

Exit codes: 0 every call succeeded; 1 a call or the pool failed (the calls after
it do not run); 2 a usage mistake (a bad option, an unknown export, a bad
argument, a bad session key, a snapshot file that cannot be read or written),
found before any call runs.

Options:
  --call NAME[:ARGS]   an export to call, with comma-separated arguments (repeatable),
                       all checked against its signature before any call runs;
                       ${NUMBER_SYNTAX};
                       ${BUFFER_SYNTAX}
${RESULT_FLAGS_HELP}
${BYTES_FLAG_HELP}
  --json               print one JSON object per call instead of a line:
                       {"export","args","result","stdout","stderr"} (an i64 or a
                       non-finite float as a string, bytes as {"hex"} or {"base64"});
                       a failed call has "error": {"code","message"} instead of
                       "result"; the reactor's output goes into these objects, not
                       through; any other error prints {"error": {"code","message"}}
  --session KEY        session key (default: cli)
  --workers N          worker threads (default: 1)
${WASI_FLAGS_HELP}
  --snapshot-in FILE   restore the session from the snapshot in FILE before the calls:
                       they continue from its state and _initialize does not run
                       (ERR_INVALID_SNAPSHOT: not a whole snapshot;
                       ERR_SNAPSHOT_MISMATCH: a snapshot of another module)
  --snapshot-out FILE  after the last call, write the session's snapshot to FILE,
                       through a temporary file renamed over it (FILE is never left
                       half-written); if a call fails, nothing is written. With no
                       --call: a snapshot of the freshly started (or restored) session.
                       A module that cannot be snapshotted fails, before any call
                       runs, with ERR_NOT_SNAPSHOTTABLE naming why.
                       Both snapshot options need --isolation session (the default)
${poolFlagsHelp(false)}
  -h, --help           show this help

Examples:
  reactor-pool run reactor/reactor.wasm --call inc:1 --call inc:21
  reactor-pool run mod.wasm --call greet:str:alice --result greet=string
  reactor-pool run mod.wasm --call 'reverse:"a, b"' --call reverse:hex:00ff --result bytes
  reactor-pool run mod.wasm --env LANG=fr --dir ./data:/data --call load:str:/data/x --json
  reactor-pool run reactor/reactor.wasm --call inc:1 --snapshot-out s.bin
  reactor-pool run reactor/reactor.wasm --snapshot-in s.bin --call inc:21`;

export interface RunArgs {
  readonly module: string;
  readonly session: string;
  readonly calls: readonly string[];
  readonly workers: number;
  readonly isolation: Isolation;
  readonly callTimeout: number;
  /** The pool's `hostFunctions` option, when given. */
  readonly hostFunctions?: string | undefined;
  readonly memoryLimit: number;
  /** Environment and preopened directories (`--env`, `--dir`). */
  readonly wasi: WasiOptions;
  /** How each export's result is read (`--result`). */
  readonly result: ResultChoice;
  /** How bytes print (`--bytes`). */
  readonly bytes: ByteFormat;
  /** One JSON object per call on stdout, the reactor's output in it (`--json`). */
  readonly json: boolean;
  /** A snapshot file to restore the session from before the calls. */
  readonly snapshotIn: string | undefined;
  /** Where to write the session's snapshot after the calls. */
  readonly snapshotOut: string | undefined;
}

export async function runCommand(args: RunArgs, write: (line: string) => void): Promise<number> {
  asUsage(() => checkSessionKey(args.session));
  const snapshot = args.snapshotIn === undefined ? undefined : await readSnapshotIn(args.snapshotIn);
  if (args.snapshotOut !== undefined) await checkSnapshotOut(args.snapshotOut);
  // With --json the reactor's output goes into each call's object, so stdout holds nothing but JSON.
  const captured = { stdout: '', stderr: '' };
  const capture = (stream: 'stdout' | 'stderr') => (chunk: Uint8Array): void => {
    captured[stream] += Buffer.from(chunk).toString('utf8');
  };
  const pool = await ReactorPool.create({
    module: args.module, workers: args.workers, isolation: args.isolation, callTimeout: args.callTimeout, memoryLimit: args.memoryLimit,
    wasi: args.wasi, ...(args.hostFunctions === undefined ? {} : { hostFunctions: args.hostFunctions }),
    ...(args.json ? { stdout: capture('stdout'), stderr: capture('stderr') } : {}),
  });
  const takeOutput = (): CallOutput => {
    const output = { ...captured };
    captured.stdout = '';
    captured.stderr = '';
    return output;
  };
  try {
    const calls = asUsage(() => {
      checkNamedResults(args.result.named, pool);
      return args.calls.map((text) => parseCallSpec(text, pool, args.result.modeOf));
    });
    const session = pool.session(args.session);
    // A module that cannot be snapshotted is refused before any call runs: snapshot() then rejects with
    // ERR_NOT_SNAPSHOTTABLE, naming every reason, before it starts anything.
    if (args.snapshotOut !== undefined && !pool.spec.snapshot.possible) await session.snapshot();
    if (snapshot !== undefined) {
      await session.restore(snapshot).catch((error: unknown) => {
        if (error instanceof Error) error.message = `--snapshot-in ${JSON.stringify(args.snapshotIn)}: ${error.message}`;
        throw error;
      });
    }
    for (const call of calls) {
      const calling = call.result === 'value' ? session : session.with({ result: call.result });
      if (!args.json) {
        write(formatCall(call, await calling.call(call.name, ...call.args), args.bytes));
        continue;
      }
      try {
        const result = await calling.call(call.name, ...call.args);
        write(jsonCall(call, { result }, takeOutput(), args.bytes));
      } catch (error) {
        write(jsonCall(call, { error }, takeOutput(), args.bytes));
        return 1;
      }
    }
    if (args.snapshotOut !== undefined) await writeFileAtomically(args.snapshotOut, await session.snapshot());
    return 0;
  } finally {
    await pool.destroy();
  }
}
