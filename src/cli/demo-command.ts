// `reactor-pool demo` (what `npm start` runs): the reference scenario, then many sessions
// running interleaved `inc` sequences at once, every result checked against its running sum;
// any module with a running-sum `inc(i32) -> i32` will do, others are refused saying so.

import { fileURLToPath } from 'node:url';
import { DEFAULT_MAX_INSTANCES } from '../options.js';
import { ReactorPool } from '../pool.js';
import type { Session } from '../session.js';
import type { ModuleSpec } from '../module-spec.js';
import type { ReferenceReactor } from '../reference-reactor.js';
import { seeded } from '../seeded-random.js';
import { InvalidOptionError } from '../errors.js';
import { formatSignature } from '../inspect.js';
import { UsageMistake } from './arguments.js';

export const BUNDLED_REACTOR = fileURLToPath(new URL('../../../reactor/reactor.wasm', import.meta.url));

/** A session's calls are all queued at once: at most the pool's per-session queue bound. */
export const MAX_DEMO_CALLS = 10_000;
/** Operations the demo's pool may have queued, over all sessions (the pool's default `maxQueue`). */
const DEMO_MAX_QUEUE = 1_000_000;

export const DEMO_HELP = `Usage: reactor-pool demo [module] [--workers N] [--sessions N] [--calls N]

Runs the reference scenario (one session: _initialize prints "s = 20", then
inc(1) = 21 and inc(21) = 42), then a pool demo: many sessions each send a
sequence of inc calls, all fired at once and interleaved; every result is
checked against that session's running sum. Sessions run in waves, each wave's
sessions closed before the next starts: at most the pool's instance cap
(maxInstances, ${DEFAULT_MAX_INSTANCES}) at once, and few enough that their calls fit the
pool's queue (${DEMO_MAX_QUEUE.toLocaleString('en-US')} operations), so no call is ever refused as ERR_QUEUE_FULL.

Arguments:
  module           a reactor exporting inc(i32) -> i32 that adds its argument to a
                   running sum and returns it (default: the bundled Zig reactor);
                   the sum may start anywhere (the reference's starts at 20). A
                   module without one is refused before the demo (exit 2): see
                   \`reactor-pool bench\` to load-test your own exports
Options:
  --workers N      worker threads (default: available parallelism)
  --sessions N     sessions in the demo (default: 1000; at most 1,000,000)
  --calls N        calls per session (default: 20; at most ${MAX_DEMO_CALLS.toLocaleString('en-US')}, the pool's
                   per-session queue: each session's calls are queued at once)
  -h, --help       show this help

Exits 0 when every result is right, 1 when one is wrong or a call fails, 2 on a
usage mistake.`;

export interface DemoArgs {
  readonly module: string;
  readonly workers: number | undefined;
  readonly sessions: number;
  readonly calls: number;
}

const REFERENCE_KEY = 'reference';

export async function demoCommand(args: DemoArgs, write: (line: string) => void): Promise<number> {
  const pool = await ReactorPool.create<ReferenceReactor>({
    module: args.module,
    ...(args.workers === undefined ? {} : { workers: args.workers }),
    maxQueuePerSession: MAX_DEMO_CALLS,
    maxQueue: DEMO_MAX_QUEUE,
    // The reference session's output is the scenario; the demo's thousand sessions' output is not shown.
    stdout: (chunk, key) => {
      if (key === REFERENCE_KEY) process.stdout.write(chunk);
    },
    stderr: (chunk, key) => {
      if (key === REFERENCE_KEY) process.stderr.write(chunk);
    },
  });
  try {
    checkIncExport(pool.spec, args.module);
    const reference = pool.session(REFERENCE_KEY);
    const first = await reference.call('inc', 1);
    write(`inc(1) = ${first}`);
    const second = await reference.call('inc', 21);
    write(`inc(21) = ${second}`);
    await reference.close();
    if (second !== ((first + 21) | 0)) {
      throw new UsageMistake(new InvalidOptionError(
        `demo needs \`inc(n)\` to add n to a running sum and return it, but ${JSON.stringify(args.module)} answered inc(1) = ${first}, then inc(21) = ${second} (not ${(first + 21) | 0}); `
        + 'see `reactor-pool bench` to load-test your own exports',
      ));
    }
    // Every fresh session starts where the reference did: its first inc(1) returned start + 1.
    const start = (first - 1) | 0;

    const started = performance.now();
    const random = seeded(42);
    const wave = Math.min(DEFAULT_MAX_INSTANCES, Math.floor(DEMO_MAX_QUEUE / args.calls));
    let wrong = 0;
    for (let firstSession = 0; firstSession < args.sessions; firstSession += wave) {
      wrong += await runSessions(pool, firstSession, Math.min(wave, args.sessions - firstSession), args.calls, start, random);
    }
    const seconds = (performance.now() - started) / 1000;
    const total = args.sessions * args.calls;
    const rate = Math.round(total / seconds).toLocaleString('en-US');
    const waves = Math.ceil(args.sessions / wave);
    write('');
    write(`pool demo: ${pool.workers} workers, ${args.sessions} sessions × ${args.calls} interleaved inc calls`);
    if (waves > 1) write(`  in ${waves} waves of at most ${wave} live sessions (the pool's maxInstances and queue bound)`);
    write(`  ${total} calls in ${seconds.toFixed(2)} s (${rate} calls/s), ${args.sessions} instances initialized`);
    write(wrong === 0 ? '  all results correct' : `  ${wrong} WRONG RESULTS (each checked against its session's running sum)`);
    return wrong === 0 ? 0 : 1;
  } finally {
    await pool.close();
  }
}

/** Refuses, as a usage mistake, a module without the `inc(i32) -> i32` the demo calls. */
function checkIncExport(spec: ModuleSpec, module: string): void {
  const inc = spec.exports.find((e) => e.name === 'inc');
  const signature = inc?.kind === 'function' ? inc.signature : undefined;
  if (signature?.params.length === 1 && signature.params[0] === 'i32' && signature.results.length === 1 && signature.results[0] === 'i32') return;
  const has = inc === undefined ? 'has no export `inc`'
    : inc.kind !== 'function' ? `exports \`inc\` as a ${inc.kind}`
    : `exports \`inc\` as ${formatSignature(signature)}`;
  throw new UsageMistake(new InvalidOptionError(
    `demo needs a module exporting \`inc(i32) -> i32\` that adds its argument to a running sum and returns it, as the bundled reactor does; ${JSON.stringify(module)} ${has}; `
    + 'see `reactor-pool bench` to load-test your own exports',
  ));
}

/**
 * Fires the calls of sessions `first` to `first + count - 1` round by round without awaiting; checks
 * each against the running sum; then closes those sessions, giving their instances back.
 */
async function runSessions(
  pool: ReactorPool<ReferenceReactor>, first: number, count: number, calls: number, start: number, random: () => number,
): Promise<number> {
  const sessions = Array.from({ length: count }, (_, s) => pool.session(`user-${first + s}`));
  const checks: Promise<boolean>[] = [];
  const expected = new Array<number>(count).fill(start);
  for (let round = 0; round < calls; round++) {
    for (let s = 0; s < count; s++) {
      const n = 1 + Math.floor(random() * 100);
      const want = ((expected[s] as number) + n) | 0;
      expected[s] = want;
      checks.push((sessions[s] as Session<ReferenceReactor>).call('inc', n).then((got) => got === want));
    }
  }
  // A failed call rejects the demo with its own error; past this, every session started its own instance.
  const results = await Promise.all(checks);
  await Promise.all(sessions.map((session) => session.close()));
  return results.filter((ok) => !ok).length;
}
