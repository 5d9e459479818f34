// The durable-session scenarios, through the public API: the per-call load and one-call latency with
// `durability: { dir }` (every call acknowledged only once its journal record is on disk), and recovery
// after kill -9: a child builds many durable sessions and is killed; a new pool on its directory serves
// every session's first call, each value checked.

import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ReactorPool, type Session } from '../../src/index.js';
import { RunningTotals } from './check.js';
import { measure } from './measure.js';
import { RECOVERY_CALLS_PER_SESSION, recoveryArg, recoveryKey } from './recovery-plan.js';
import type { RecoveryFigures, ScenarioResult } from './results.js';
import { PER_CALL_SESSIONS, WINDOW, headOf, measuredResult, roundRobinInc, windowed, type ScenarioContext } from './scenario.js';

const RECOVERY_CHILD = fileURLToPath(new URL('./durable-recovery-child.js', import.meta.url));

/** A fresh directory for one scenario's durable store, removed afterwards whatever happens. */
async function withDirectory<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'reactor-pool-bench-durable-'));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A durable pool on `dir` for one scenario, closed afterwards. */
async function withDurablePool<T>(ctx: ScenarioContext, workers: number, dir: string, body: (pool: ReactorPool) => Promise<T>): Promise<T> {
  const pool = await ReactorPool.create({ module: ctx.modulePath, workers, stdout: 'ignore', stderr: 'ignore', durability: { dir } });
  try {
    return await body(pool);
  } finally {
    await pool.close();
  }
}

/** The per-call scenario's load (the same window over the same sessions) on a durable pool. */
export function perCallDurableScenario(ctx: ScenarioContext, workers: number): Promise<ScenarioResult> {
  return withDirectory((dir) => withDurablePool(ctx, workers, dir, async (pool) => {
    const sessions = Array.from({ length: PER_CALL_SESSIONS }, (_, s) => pool.session(`per-call-${s}`));
    const totals = new RunningTotals(sessions.length, ctx.initial);
    const issue = roundRobinInc(sessions.length, totals, (s, n) => (sessions[s] as Session).call('inc', n));
    const calls = ctx.sizes.perCallCalls;
    const measured = await measure(`per-call durable ×${workers}`, () => windowed(calls, WINDOW, issue), calls, ctx.plan, true);
    const finals = await Promise.all(sessions.map((session) => session.call('inc', 0)));
    finals.forEach((got, s) => totals.checkFinal(s, got));
    return measuredResult(
      headOf('per-call-durable', workers), measured, totals,
      `durability: { dir }; ${WINDOW} calls in flight over ${sessions.length} sessions, each acknowledged after its journal flush; every result checked`,
    );
  }));
}

/** One durable call in flight: each `await session.call('inc', 1)` includes its journal flush. */
export function durableLatencyScenario(ctx: ScenarioContext, workers: number): Promise<ScenarioResult> {
  return withDirectory((dir) => withDurablePool(ctx, workers, dir, async (pool) => {
    const session = pool.session('latency');
    const totals = new RunningTotals(1, ctx.initial);
    const iteration = async (): Promise<void> => {
      const want = totals.advance(0, 1);
      totals.check(0, want, await session.call('inc', 1));
    };
    const measured = await measure('latency durable', iteration, 1, ctx.plan, true);
    totals.checkFinal(0, await session.call('inc', 0));
    return measuredResult(
      headOf('latency-durable', workers), measured, totals,
      'durability: { dir }; one call in flight (await each), acknowledged after its journal flush; every result checked',
    );
  }));
}

/** Starts the child that builds `sessions` durable sessions on `dir`, and kills it with SIGKILL once it says they are all acknowledged. */
function buildAndKill(ctx: ScenarioContext, dir: string, sessions: number, workers: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RECOVERY_CHILD, ctx.modulePath, dir, String(sessions), String(workers)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
      if (!killed && stdout.includes('ready\n')) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    child.stdin.on('error', () => {
      // Killed: its stdin is gone.
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (killed && signal === 'SIGKILL') resolve();
      else reject(new Error(`the recovery child ended with ${signal ?? code} before it was killed: ${firstError(stderr)}`));
    });
  });
}

/** The line of a dead child's stderr that names its error (else its last line). */
function firstError(stderr: string): string {
  const lines = stderr.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  return lines.find((line) => /^(\w*Error|error)\b/.test(line)) ?? lines.at(-1) ?? 'no output';
}

/** Bytes of every file under `dir` (what `du --apparent-size` counts). */
async function directoryBytes(dir: string): Promise<number> {
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) bytes += await directoryBytes(path);
    else if (entry.isFile()) bytes += (await stat(path)).size;
  }
  return bytes;
}

/**
 * Recovery after kill -9: a child process makes {@link RECOVERY_CALLS_PER_SESSION} calls on each of
 * `sizes.recoverySessions` durable sessions and is killed; this process opens a pool on the directory
 * (timed: open and scan) and calls `inc(0)` on every session, 1000 in flight (timed until all answered,
 * each rebuilt lazily on its first call). Every value is checked.
 */
export function recoveryScenario(ctx: ScenarioContext, workers: number): Promise<ScenarioResult> {
  return withDirectory(async (dir) => {
    const sessions = ctx.sizes.recoverySessions;
    await buildAndKill(ctx, dir, sessions, workers);
    const bytes = await directoryBytes(dir);
    const totals = new RunningTotals(sessions, ctx.initial);
    for (let i = 0; i < sessions; i++) for (let k = 0; k < RECOVERY_CALLS_PER_SESSION; k++) totals.advance(i, recoveryArg(i, k));

    const opening = performance.now();
    const pool = await ReactorPool.create({ module: ctx.modulePath, workers, stdout: 'ignore', stderr: 'ignore', durability: { dir } });
    const openMs = performance.now() - opening;
    try {
      const listed = new Set(await pool.durableSessions());
      let next = 0;
      const answering = performance.now();
      await windowed(sessions, WINDOW, async () => {
        const i = next++;
        totals.checkFinal(i, await pool.session(recoveryKey(i)).call('inc', 0));
      });
      const answeredMs = performance.now() - answering;
      let unlisted = 0;
      for (let i = 0; i < sessions; i++) if (!listed.has(recoveryKey(i))) unlisted++;
      totals.record(0, unlisted === 0 ? undefined : `durableSessions() left out ${unlisted} of ${sessions} sessions`);
      const recovery: RecoveryFigures = { sessions, openMs, answeredMs, bytes, bytesPerSession: bytes / sessions };
      const note = `a child made ${RECOVERY_CALLS_PER_SESSION} durable calls on each of ${sessions} sessions and was killed (SIGKILL); ` +
        `a new pool opened in ${openMs.toFixed(0)} ms, served every session's first call in ${answeredMs.toFixed(0)} ms ` +
        `(${WINDOW} in flight, rebuilt lazily); ${(bytes / sessions).toFixed(0)} bytes of journal + snapshots per session; every value checked`;
      return {
        ...headOf('recovery-durable', workers),
        status: 'ok',
        correct: totals.ok && totals.checked === sessions,
        opsPerSecond: sessions / (answeredMs / 1000),
        rme: null,
        samples: 1,
        ops: sessions,
        checked: totals.checked,
        latencyMs: null,
        recovery,
        note: totals.firstWrong === undefined ? note : `WRONG: ${totals.wrong} result(s), first: ${totals.firstWrong}`,
      };
    } finally {
      await pool.close();
    }
  });
}
