// The kill -9 test's model: from the driving child's record (each call in the order it made them, with
// what its acknowledgement said) and the verifying child's report, every way durability was broken.

import type { DriveRun, SentCall, VerifyPlan, VerifyReport } from './durable-kill.js';

/** What `inc(0)` returns on a fresh instance of the reference reactor. */
export const INITIAL = 20;

/** Each session's calls, in the order the child made them (its order of execution). */
export function bySession(calls: readonly SentCall[]): Map<string, SentCall[]> {
  const sessions = new Map<string, SentCall[]>();
  for (const call of calls) sessions.set(call.id, [...(sessions.get(call.id) ?? []), call]);
  return sessions;
}

/** `value[j]`: the session's value once its first `j` calls applied (n ≥ 1: strictly increasing). */
export function valuesAfter(calls: readonly SentCall[]): number[] {
  const values = [INITIAL];
  for (const call of calls) values.push((values.at(-1) as number) + call.n);
  return values;
}

/** Index of a session's last acknowledged call, -1 for none. */
export function lastAckedIndex(calls: readonly SentCall[]): number {
  for (let i = calls.length - 1; i >= 0; i--) if (calls[i]?.acked !== undefined) return i;
  return -1;
}

/** What the verifying child retries: every call not seen acknowledged, then again with the last acknowledged one. */
export function verifyPlan(sessions: ReadonlyMap<string, readonly SentCall[]>): VerifyPlan {
  return {
    sessions: [...sessions].map(([id, calls]) => {
      const retry = calls.filter((call) => call.acked === undefined).map(({ key, n }) => ({ key, n }));
      const lastAcked = calls[lastAckedIndex(calls)];
      return { id, retry, repeat: lastAcked === undefined ? retry : [...retry, { key: lastAcked.key, n: lastAcked.n }] };
    }),
  };
}

/** Every way the two children's outputs break the promises of durability; empty when none does. */
export function mismatches(sessions: ReadonlyMap<string, readonly SentCall[]>, report: VerifyReport): string[] {
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

/** One line on what a round did: calls, acknowledgements, retries, and how many unacknowledged calls had applied. */
export function summary(run: DriveRun, sessions: ReadonlyMap<string, readonly SentCall[]>, report: VerifyReport): string {
  const acked = run.calls.filter((call) => call.acked !== undefined).length;
  let unackedApplied = 0;
  for (const [id, calls] of sessions) {
    const before = report.sessions[id]?.before;
    const applied = typeof before === 'number' ? valuesAfter(calls).indexOf(before) : 0;
    unackedApplied += calls.slice(0, Math.max(applied, 0)).filter((call) => call.acked === undefined).length;
  }
  return `${run.calls.length} calls sent on ${sessions.size} sessions, ${acked} acknowledged (${run.acksAtKill} seen when killed), ` +
    `${run.calls.length - acked} retried of which ${unackedApplied} had applied before the kill; ` +
    `${run.linesSeen} of ${run.linesRecorded} record lines had reached stdout${run.done ? '; the child had finished' : ''}`;
}
