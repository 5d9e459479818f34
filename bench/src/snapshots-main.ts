// `npm run bench:snapshots`: what snapshots and hibernation cost and buy, measured through the pool's
// API (tinybench for the timings): snapshot, restore and a fresh start per toolchain; reactivating a
// hibernated session; one process serving many distinct sessions under an active cap; sessions moved
// by recycles under load. Every result is checked; a wrong one fails the run (exit 1).
// After `npm run build:bench`: node dist/bench/src/snapshots-main.js [--quick] [--sessions N] [--out DIR]

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ReactorPool, type ReferenceReactor, type Session } from '../../src/index.js';
import { FULL_PLAN, QUICK_PLAN, measure, type MeasurePlan } from './measure.js';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));
const MODULES = [
  { name: 'reference (Zig)', path: here('../../../reactor/reactor.wasm'), buffers: false },
  ...['zig', 'c', 'go', 'rust'].map((name) => ({ name, path: here(`../../../test/fixtures/conformance/${name}.wasm`), buffers: true })),
];

interface Args { readonly quick: boolean; readonly sessions: number; readonly out: string }

function parseArgs(argv: readonly string[]): Args {
  let quick = false;
  let sessions: number | undefined;
  let out = 'bench/results';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') quick = true;
    else if (arg === '--sessions') sessions = Number(argv[++i]);
    else if (arg === '--out') out = argv[++i] ?? out;
    else if (arg === '-h' || arg === '--help') {
      console.log('Usage: npm run bench:snapshots -- [--quick] [--sessions N] [--out DIR]\n\n  --quick       tiny counts: checks every path, measures nothing worth reporting\n  --sessions N  distinct sessions of the capacity run (default 1,000,000; --quick: 2,000)\n  --out DIR     where snapshots-latest.{json,md} go (default bench/results)');
      process.exit(0);
    } else {
      console.error(`unknown argument ${JSON.stringify(arg)} (see --help)`);
      process.exit(2);
    }
  }
  const count = sessions ?? (quick ? 2_000 : 1_000_000);
  if (!Number.isSafeInteger(count) || count < 1) {
    console.error(`--sessions takes a positive integer, got ${String(sessions)}`);
    process.exit(2);
  }
  return { quick, sessions: count, out };
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`wrong result: ${what}`);
}

const ms = (value: number): string => (value >= 10 ? value.toFixed(1) : value.toFixed(3));

interface ToolchainRow { name: string; bytes: number; snapshotMs: number; restoreMs: number; startMs: number }

/** Snapshot, restore and a fresh start (reset: instantiate + `_initialize`) of one module, p50 of each. */
async function toolchain(module: (typeof MODULES)[number], plan: MeasurePlan): Promise<ToolchainRow> {
  const pool = await ReactorPool.create({ module: module.path, workers: 1, stdout: 'ignore', stderr: 'ignore', maxActiveSessions: Number.POSITIVE_INFINITY });
  try {
    const a = pool.session('a');
    await a.callMany('inc', [1, 2, 3]);
    if (module.buffers) check(await a.with({ result: 'string' }).call('greet', 'Ada') === 'hello, Ada!', `${module.name} greet`);
    const bytes = await a.snapshot();
    const b = pool.session('b');
    const c = pool.session('c');
    await c.call('inc', 0);
    const snapshot = await measure(`${module.name} snapshot`, () => a.snapshot(), 1, plan, true);
    const restore = await measure(`${module.name} restore`, () => b.restore(bytes), 1, plan, true);
    const start = await measure(`${module.name} start`, () => c.reset(), 1, plan, true);
    check(await b.call('inc', 0) === 26, `${module.name} restored state`);
    return { name: module.name, bytes: bytes.byteLength, snapshotMs: snapshot.latencyMs.p50, restoreMs: restore.latencyMs.p50, startMs: start.latencyMs.p50 };
  } finally {
    await pool.close();
  }
}

/** A hibernated reference-reactor session, called: the call's latency includes the restore. */
async function reactivation(plan: MeasurePlan): Promise<{ p50: number; p99: number; samples: number }> {
  const pool = await ReactorPool.create({ module: MODULES[0]?.path as string, workers: 1, stderr: 'ignore' });
  try {
    // hibernate() is the pool's own (internal) hook, what an idle timeout or the active cap would call.
    const session = pool.session('sleeper') as Session & { hibernate(): Promise<boolean> };
    let expected = 20;
    await session.call('inc', 0);
    const measured = await measure('reactivation', async () => {
      expected += 1;
      check(await session.call('inc', 1) === expected, 'reactivated state');
    }, 1, { ...plan, minIterations: plan.quick ? 3 : 500 }, true, async () => {
      check(await session.hibernate(), 'hibernated');
    });
    return { p50: measured.latencyMs.p50, p99: measured.latencyMs.p99, samples: measured.samples };
  } finally {
    await pool.close();
  }
}

interface CapacityRow { sessions: number; maxActive: number; firstPassPerSecond: number; readBackPerSecond: number; peakRssMb: number; storeBytesPerSession: number; wrong: number }

/** `sessions` distinct sessions, each `inc(i % 1000)` once, then every total read back; an active cap bounds memory. */
async function capacity(sessions: number): Promise<CapacityRow> {
  const maxActive = Math.max(100, Math.min(2_000, Math.floor(sessions / 10)));
  const pool = await ReactorPool.create<ReferenceReactor>({ module: MODULES[0]?.path as string, stderr: 'ignore', maxActiveSessions: maxActive });
  let peakRss = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 100);
  try {
    let wrong = 0;
    let storeBytes = 0;
    const pass = async (delta: (i: number) => number): Promise<number> => {
      let next = 0;
      const started = performance.now();
      const lane = async (): Promise<void> => {
        while (next < sessions) {
          const i = next++;
          const value = await pool.session(`s${i}`).call('inc', delta(i));
          if (value !== 20 + (i % 1000)) wrong++;
        }
      };
      await Promise.all(Array.from({ length: 4_000 }, lane));
      return sessions / ((performance.now() - started) / 1000);
    };
    const firstPassPerSecond = await pass((i) => i % 1000);
    // The cap is enforced behind the calls (busy sessions cannot hibernate): let it catch up, bounded.
    for (let waited = 0; pool.stats().activeSessions > maxActive && waited < 10_000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const stats = pool.stats();
    storeBytes = stats.hibernatedSessions === 0 ? 0 : stats.hibernatedBytes / stats.hibernatedSessions;
    const readBackPerSecond = await pass(() => 0);
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    return { sessions, maxActive, firstPassPerSecond, readBackPerSecond, peakRssMb: peakRss / 2 ** 20, storeBytesPerSession: storeBytes, wrong };
  } finally {
    clearInterval(sampler);
    await pool.close();
  }
}

/** Sessions under continuous load while workers are recycled and the pool shrinks and grows: none lost, none wrong. */
async function moves(quick: boolean): Promise<{ recycles: number; calls: number; lost: number; wrong: number }> {
  const pool = await ReactorPool.create({ module: MODULES[0]?.path as string, workers: 2, stderr: 'ignore' });
  try {
    let lost = 0;
    pool.on('sessionLost', () => lost++);
    const keys = Array.from({ length: 64 }, (_, i) => `m${i}`);
    const totals = new Map(keys.map((key) => [key, 20]));
    let wrong = 0;
    let calls = 0;
    let running = true;
    const load = keys.map(async (key) => {
      while (running) {
        const expected = (totals.get(key) as number) + 1;
        totals.set(key, expected);
        if (await pool.session(key).call('inc', 1) !== expected) wrong++;
        calls++;
      }
    });
    const recycles = quick ? 2 : 20;
    for (let i = 0; i < recycles; i++) {
      await pool.recycleWorker(i % pool.workers);
      // Shrink and grow again: the sessions of the removed worker move, then new ones spread again.
      await pool.resize(i % 2 === 0 ? 1 : 2);
    }
    running = false;
    await Promise.all(load);
    for (const key of keys) if (await pool.session(key).call('inc', 0) !== totals.get(key)) wrong++;
    return { recycles, calls, lost, wrong };
  } finally {
    await pool.close();
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const plan = args.quick ? QUICK_PLAN : { ...FULL_PLAN, timeMs: 2000 };
  const lines: string[] = [];
  const say = (line: string): void => {
    lines.push(line);
    console.log(line);
  };
  say(`# Snapshots and hibernation — Node.js ${process.version}, ${new Date().toISOString().slice(0, 10)}${args.quick ? ' (--quick: not a measurement)' : ''}`);
  say('');
  say('| module | snapshot bytes | snapshot p50 ms | restore p50 ms | fresh start p50 ms | restore / start |');
  say('|---|---:|---:|---:|---:|---:|');
  const rows: ToolchainRow[] = [];
  for (const module of MODULES) {
    const row = await toolchain(module, plan);
    rows.push(row);
    say(`| ${row.name} | ${row.bytes} | ${ms(row.snapshotMs)} | ${ms(row.restoreMs)} | ${ms(row.startMs)} | ${(row.restoreMs / row.startMs).toFixed(2)}× |`);
  }
  const wake = await reactivation(plan);
  say('');
  say(`Reactivating a hibernated reference-reactor session (the call that wakes it): p50 ${ms(wake.p50)} ms, p99 ${ms(wake.p99)} ms (${wake.samples} samples).`);
  const cap = await capacity(args.sessions);
  say('');
  say(`Capacity: ${cap.sessions.toLocaleString('en-US')} distinct sessions, maxActiveSessions ${cap.maxActive}: first pass ${Math.round(cap.firstPassPerSecond)} sessions/s, read-back ${Math.round(cap.readBackPerSecond)} sessions/s, peak RSS ${cap.peakRssMb.toFixed(0)} MB, ${cap.storeBytesPerSession.toFixed(0)} store bytes per hibernated session, ${cap.wrong} wrong.`);
  const moved = await moves(args.quick);
  say('');
  say(`Moves: ${moved.recycles} recycles and ${moved.recycles} resizes (2 → 1 → 2 …) under load (64 sessions, ${moved.calls} calls): ${moved.lost} lost, ${moved.wrong} wrong.`);
  mkdirSync(args.out, { recursive: true });
  writeFileSync(join(args.out, 'snapshots-latest.md'), `${lines.join('\n')}\n`);
  writeFileSync(join(args.out, 'snapshots-latest.json'), `${JSON.stringify({ node: process.version, quick: args.quick, toolchains: rows, reactivation: wake, capacity: cap, moves: moved }, null, 2)}\n`);
  if (cap.wrong > 0 || moved.wrong > 0 || moved.lost > 0) {
    console.error('wrong results or lost sessions: the run fails');
    process.exitCode = 1;
  }
}

await main();
