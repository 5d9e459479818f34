// `reactor-pool demo` (what `npm start` runs): the reference scenario, then many sessions
// running interleaved `inc` sequences at once, every result checked against its running sum.

import { fileURLToPath } from 'node:url';
import { DEFAULT_MAX_INSTANCES } from '../options.js';
import { ReactorPool } from '../pool.js';
import type { Session } from '../session.js';
import type { ReferenceReactor } from '../reference-reactor.js';
import { seeded } from '../seeded-random.js';

export const BUNDLED_REACTOR = fileURLToPath(new URL('../../../reactor/reactor.wasm', import.meta.url));

export const DEMO_HELP = `Usage: reactor-pool demo [module] [--workers N] [--sessions N] [--calls N]

Runs the reference scenario (one session: _initialize prints "s = 20", then
inc(1) = 21 and inc(21) = 42), then a pool demo: many sessions each send a
sequence of inc calls, all fired at once and interleaved; every result is
checked against that session's running sum. More sessions than the pool's
instance cap (maxInstances, ${DEFAULT_MAX_INSTANCES}) run in waves of at most that many,
each wave's sessions closed before the next starts.

Arguments:
  module           a reactor exporting inc(i32) -> i32 (default: the bundled Zig reactor)
Options:
  --workers N      worker threads (default: available parallelism)
  --sessions N     sessions in the demo (default: 1000)
  --calls N        calls per session (default: 20)
  -h, --help       show this help`;

export interface DemoArgs {
  readonly module: string;
  readonly workers: number | undefined;
  readonly sessions: number;
  readonly calls: number;
}

const REFERENCE_KEY = 'reference';

export async function demoCommand(args: DemoArgs, write: (line: string) => void): Promise<number> {
  let initialized = 0;
  // Any module the demo runs is called as the reference reactor is: `inc(i32) -> i32` (checked by each call).
  const pool = await ReactorPool.create<ReferenceReactor>({
    module: args.module,
    ...(args.workers === undefined ? {} : { workers: args.workers }),
    // The reference session's output is the scenario; the demo's thousand `s = 20` lines are counted instead.
    stderr: (chunk, key) => {
      if (key === REFERENCE_KEY) process.stderr.write(chunk);
      else initialized += countOccurrences(Buffer.from(chunk).toString('utf8'), 's = 20\n');
    },
  });
  try {
    const reference = pool.session(REFERENCE_KEY);
    write(`inc(1) = ${await reference.call('inc', 1)}`);
    write(`inc(21) = ${await reference.call('inc', 21)}`);
    await reference.close();

    const started = performance.now();
    const random = seeded(42);
    let wrong = 0;
    for (let first = 0; first < args.sessions; first += DEFAULT_MAX_INSTANCES) {
      wrong += await runSessions(pool, first, Math.min(DEFAULT_MAX_INSTANCES, args.sessions - first), args.calls, random);
    }
    const seconds = (performance.now() - started) / 1000;
    const total = args.sessions * args.calls;
    const rate = Math.round(total / seconds).toLocaleString('en-US');
    const waves = Math.ceil(args.sessions / DEFAULT_MAX_INSTANCES);
    write('');
    write(`pool demo: ${pool.workers} workers, ${args.sessions} sessions × ${args.calls} interleaved inc calls`);
    if (waves > 1) write(`  in ${waves} waves of at most ${DEFAULT_MAX_INSTANCES} live sessions (the pool's maxInstances)`);
    write(`  ${total} calls in ${seconds.toFixed(2)} s (${rate} calls/s), ${initialized} instances initialized`);
    write(wrong === 0 ? '  all results correct' : `  ${wrong} WRONG RESULTS`);
    return wrong === 0 && initialized === args.sessions ? 0 : 1;
  } finally {
    await pool.close();
  }
}

/**
 * Fires the calls of sessions `first` to `first + count - 1` round by round without awaiting; checks
 * each against the running sum; then closes those sessions, giving their instances back.
 */
async function runSessions(pool: ReactorPool<ReferenceReactor>, first: number, count: number, calls: number, random: () => number): Promise<number> {
  const sessions = Array.from({ length: count }, (_, s) => pool.session(`user-${first + s}`));
  const checks: Promise<boolean>[] = [];
  const expected = new Array<number>(count).fill(20);
  for (let round = 0; round < calls; round++) {
    for (let s = 0; s < count; s++) {
      const n = 1 + Math.floor(random() * 100);
      const want = ((expected[s] as number) + n) | 0;
      expected[s] = want;
      checks.push((sessions[s] as Session<ReferenceReactor>).call('inc', n).then((got) => got === want));
    }
  }
  const results = await Promise.all(checks);
  await Promise.all(sessions.map((session) => session.close()));
  return results.filter((ok) => !ok).length;
}

function countOccurrences(text: string, needle: string): number {
  let count = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) count++;
  return count;
}
