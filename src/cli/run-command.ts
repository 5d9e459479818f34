// `reactor-pool run <module> --call inc:1 --call inc:21`: one session, its calls in order,
// the reactor's own output passed through, one `name(args) = result` line per call.

import { ReactorPool } from '../pool.js';
import type { Isolation } from '../options.js';
import { checkSessionKey } from '../session.js';
import { NUMBER_SYNTAX, asUsage, formatCall, parseCallSpec } from './arguments.js';
import { poolFlagsHelp } from './pool-flags.js';

export const RUN_HELP = `Usage: reactor-pool run <module> [--session KEY] --call NAME[:ARG,ARG...] [--call ...]

Starts a pool on <module> (a WASI reactor .wasm), runs the calls in order on one
session, and prints each as \`name(args) = result\`. The reactor's stdout and
stderr pass through (its _initialize output comes first).

Usage mistakes (an unknown export, a bad argument, a bad session key) exit 2.

Options:
  --call NAME[:ARGS]   an export to call, with comma-separated arguments (repeatable),
                       all checked against its signature before any call runs;
                       ${NUMBER_SYNTAX}
  --session KEY        session key (default: cli)
  --workers N          worker threads (default: 1)
${poolFlagsHelp(false)}
  -h, --help           show this help

Example:
  reactor-pool run reactor/reactor.wasm --call inc:1 --call inc:21`;

export interface RunArgs {
  readonly module: string;
  readonly session: string;
  readonly calls: readonly string[];
  readonly workers: number;
  readonly isolation: Isolation;
  readonly callTimeout: number;
  readonly memoryLimit: number;
}

export async function runCommand(args: RunArgs, write: (line: string) => void): Promise<number> {
  asUsage(() => checkSessionKey(args.session));
  const pool = await ReactorPool.create({
    module: args.module, workers: args.workers, isolation: args.isolation, callTimeout: args.callTimeout, memoryLimit: args.memoryLimit,
  });
  try {
    const calls = asUsage(() => args.calls.map((text) => parseCallSpec(text, pool.spec)));
    const session = pool.session(args.session);
    for (const call of calls) {
      const result = await session.call<unknown>(call.name, ...call.args);
      write(formatCall(call, result));
    }
    return 0;
  } finally {
    await pool.destroy();
  }
}
