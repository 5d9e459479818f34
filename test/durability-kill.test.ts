// kill -9 under durability: a child drives hundreds of durable sessions with keyed `inc(n)` calls and is
// killed with SIGKILL at a seeded moment; a fresh child on the same directory must find every call the
// parent saw acknowledged, and every other call applied once or not at all; retried with its idempotency
// key, each applies exactly once. Rounds and seed: DURABLE_KILL_ROUNDS, DURABLE_KILL_SEED.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seeded } from '../dist/src/seeded-random.js';
import { driveAndKill, verifyAfterKill, type DriveRun, type SentCall, type VerifyPlan, type VerifyReport } from './helpers/durable-kill.js';
import { REACTOR } from './helpers/fixtures.js';
import { depth } from './helpers/depth.js';

const SEED = Number(process.env['DURABLE_KILL_SEED'] ?? 20261207);
const ROUNDS = Number(process.env['DURABLE_KILL_ROUNDS'] ?? depth(5, 2));
if (!Number.isSafeInteger(SEED)) throw new RangeError(`DURABLE_KILL_SEED must be an integer, got ${process.env['DURABLE_KILL_SEED']}`);
const SESSIONS = 300;
const CALLS = 2_400;
const WINDOW = 128;
/** What `inc(0)` returns on a fresh instance of the reference reactor. */
const INITIAL = 20;

interface Round { readonly round: number; readonly seed: number; readonly killAfterAcks: number }

const random = seeded(SEED);
const ROUND_PLANS: Round[] = Array.from({ length: ROUNDS }, (_, round) => ({
  round,
  seed: Math.floor(random() * 2 ** 32),
  // Anywhere from the first acknowledgement to well before the last: calls are always in flight.
  killAfterAcks: 1 + Math.floor(random() * CALLS * 0.9),
}));

/** Each session's calls, in the order the child made them (its order of execution). */
function bySession(calls: readonly SentCall[]): Map<string, SentCall[]> {
  const sessions = new Map<string, SentCall[]>();
  for (const call of calls) sessions.set(call.id, [...(sessions.get(call.id) ?? []), call]);
  return sessions;
}

/** `value[j]`: the session's value once its first `j` calls applied (n ≥ 1: strictly increasing). */
function valuesAfter(calls: readonly SentCall[]): number[] {
  const values = [INITIAL];
  for (const call of calls) values.push((values.at(-1) as number) + call.n);
  return values;
}

/** Index of a session's last acknowledged call, -1 for none. */
function lastAckedIndex(calls: readonly SentCall[]): number {
  for (let i = calls.length - 1; i >= 0; i--) if (calls[i]?.acked !== undefined) return i;
  return -1;
}

/** What the verifying child retries: every call not seen acknowledged, then again with the last acknowledged one. */
function verifyPlan(sessions: ReadonlyMap<string, readonly SentCall[]>): VerifyPlan {
  return {
    sessions: [...sessions].map(([id, calls]) => {
      const retry = calls.filter((call) => call.acked === undefined).map(({ key, n }) => ({ key, n }));
      const lastAcked = calls[lastAckedIndex(calls)];
      return { id, retry, repeat: lastAcked === undefined ? retry : [...retry, { key: lastAcked.key, n: lastAcked.n }] };
    }),
  };
}

/** Every way the two children's outputs break the promises of durability; empty when none does. */
function mismatches(sessions: ReadonlyMap<string, readonly SentCall[]>, report: VerifyReport): string[] {
  const found: string[] = [];
  const expectedDurable: string[] = [];
  for (const [id, calls] of sessions) {
    const values = valuesAfter(calls);
    const lastAcked = lastAckedIndex(calls);
    calls.forEach((call, i) => {
      if (call.acked !== undefined && call.acked !== values[i + 1]) found.push(`${id} ${call.key}: acknowledged ${call.acked}, expected ${values[i + 1]}`);
    });
    const got = report.sessions[id];
    if (got === undefined) {
      found.push(`${id}: not in the verifying child's report`);
      continue;
    }
    // Recovered: the first j calls, j at least every acknowledged one (a journal is a prefix of execution).
    const applied = typeof got.before === 'number' ? values.indexOf(got.before) : -1;
    if (applied < lastAcked + 1) {
      found.push(`${id}: recovered ${got.before}; acknowledged through call ${lastAcked + 1} of ${calls.length} (value ${values[lastAcked + 1]}), ` +
        `possible: ${values.slice(lastAcked + 1).join(', ')}`);
    }
    if (applied >= 1) expectedDurable.push(id);
    // Retried (and repeated): each answers the value right after it applied: the recorded one, or a fresh one.
    const retried = calls.flatMap((call, i) => (call.acked === undefined ? [[call, values[i + 1]] as const] : []));
    const last = calls[lastAcked];
    const repeated = last === undefined ? retried : [...retried, [last, values[lastAcked + 1]] as const];
    retried.forEach(([call, want], k) => {
      if (got.retries[k] !== want) found.push(`${id} ${call.key} (n ${call.n}) retried: got ${got.retries[k]}, expected ${want}`);
    });
    repeated.forEach(([call, want], k) => {
      if (got.repeats[k] !== want) found.push(`${id} ${call.key} (n ${call.n}) repeated: got ${got.repeats[k]}, expected ${want}`);
    });
    if (got.after !== values.at(-1)) found.push(`${id}: after the retries ${got.after}, expected ${values.at(-1)} (every call exactly once)`);
  }
  const durable = new Set(report.durable);
  for (const id of expectedDurable) if (!durable.has(id)) found.push(`${id}: has recovered calls but durableSessions() leaves it out`);
  for (const id of report.durable) if (!expectedDurable.includes(id)) found.push(`${id}: listed by durableSessions() without any call applied`);
  return found;
}

function summary(run: DriveRun, sessions: ReadonlyMap<string, readonly SentCall[]>, report: VerifyReport): string {
  const acked = run.calls.filter((call) => call.acked !== undefined).length;
  let unackedApplied = 0;
  for (const [id, calls] of sessions) {
    const before = report.sessions[id]?.before;
    const applied = typeof before === 'number' ? valuesAfter(calls).indexOf(before) : 0;
    unackedApplied += calls.slice(0, Math.max(applied, 0)).filter((call) => call.acked === undefined).length;
  }
  return `${run.calls.length} calls sent on ${sessions.size} sessions, ${acked} acknowledged (${run.acksAtKill} when killed), ` +
    `${run.calls.length - acked} retried of which ${unackedApplied} had applied before the kill${run.done ? '; the child had finished' : ''}`;
}

describe(`kill -9 under durability (DURABLE_KILL_SEED=${SEED}, ${ROUNDS} rounds)`, () => {
  it.each(ROUND_PLANS)('round $round (seed $seed, SIGKILL after $killAfterAcks acknowledgements): nothing acknowledged is lost, every retry applies once', async ({ round, seed, killAfterAcks }) => {
    const replay = `DURABLE_KILL_SEED=${SEED} round ${round}`;
    const dir = await mkdtemp(join(tmpdir(), 'rp-durable-kill-'));
    try {
      const run = await driveAndKill({ module: REACTOR, dir, seed, sessions: SESSIONS, calls: CALLS, window: WINDOW, killAfterAcks });
      expect(run.signal, `${replay}: the driving child should die of SIGKILL; stderr: ${run.stderr.slice(-2000)}`).toBe('SIGKILL');
      expect(run.problems, replay).toEqual([]);
      expect(run.calls.filter((call) => call.failed !== undefined).map((call) => `${call.key}: ${call.failed}`), replay).toEqual([]);
      expect(run.acksAtKill, replay).toBeGreaterThanOrEqual(killAfterAcks);

      const sessions = bySession(run.calls);
      const report = await verifyAfterKill(REACTOR, dir, verifyPlan(sessions));
      console.log(`kill -9 ${replay}: ${summary(run, sessions, report)}`);
      expect(mismatches(sessions, report), replay).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
