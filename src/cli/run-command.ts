// `reactor-pool run <module> --call inc:1 --call inc:21`: one session, its calls in order,
// the reactor's own output passed through, one `name(args) = result` line per call; the session
// optionally restored from a snapshot file first and saved to one after.

import { ReactorPool } from '../pool.js';
import type { Isolation } from '../options.js';
import { checkSessionKey } from '../session.js';
import { NUMBER_SYNTAX, asUsage, formatCall, parseCallSpec } from './arguments.js';
import { poolFlagsHelp } from './pool-flags.js';
import { checkSnapshotOut, readSnapshotIn, writeFileAtomically } from './snapshot-files.js';

export const RUN_HELP = `Usage: reactor-pool run <module> [--session KEY] --call NAME[:ARG,ARG...] [--call ...]
                         [--snapshot-in FILE] [--snapshot-out FILE]

Starts a pool on <module> (a WASI reactor .wasm), runs the calls in order on one
session, and prints each as \`name(args) = result\`. The reactor's stdout and
stderr pass through (its _initialize output comes first).

Usage mistakes (an unknown export, a bad argument, a bad session key, a snapshot
file that cannot be read or written) exit 2, before any call runs; other errors
exit 1.

Options:
  --call NAME[:ARGS]   an export to call, with comma-separated arguments (repeatable),
                       all checked against its signature before any call runs;
                       ${NUMBER_SYNTAX}
  --session KEY        session key (default: cli)
  --workers N          worker threads (default: 1)
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
  reactor-pool run reactor/reactor.wasm --call inc:1 --snapshot-out s.bin
  reactor-pool run reactor/reactor.wasm --snapshot-in s.bin --call inc:21`;

export interface RunArgs {
  readonly module: string;
  readonly session: string;
  readonly calls: readonly string[];
  readonly workers: number;
  readonly isolation: Isolation;
  readonly callTimeout: number;
  readonly memoryLimit: number;
  /** A snapshot file to restore the session from before the calls. */
  readonly snapshotIn: string | undefined;
  /** Where to write the session's snapshot after the calls. */
  readonly snapshotOut: string | undefined;
}

export async function runCommand(args: RunArgs, write: (line: string) => void): Promise<number> {
  asUsage(() => checkSessionKey(args.session));
  const snapshot = args.snapshotIn === undefined ? undefined : await readSnapshotIn(args.snapshotIn);
  if (args.snapshotOut !== undefined) await checkSnapshotOut(args.snapshotOut);
  const pool = await ReactorPool.create({
    module: args.module, workers: args.workers, isolation: args.isolation, callTimeout: args.callTimeout, memoryLimit: args.memoryLimit,
  });
  try {
    const calls = asUsage(() => args.calls.map((text) => parseCallSpec(text, pool.spec)));
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
      const result = await session.call(call.name, ...call.args);
      write(formatCall(call, result));
    }
    if (args.snapshotOut !== undefined) await writeFileAtomically(args.snapshotOut, await session.snapshot());
    return 0;
  } finally {
    await pool.destroy();
  }
}
