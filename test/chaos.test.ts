// Chaos that replays exactly: sessions on a kitchen-sink reactor, on a hostile one, and careless
// callers who overwrite or detach their arguments meet traps, exits, runaway calls, memory blow-ups,
// aborts, worker kills, signals and closed stdio, round by round, from one seed (CHAOS_SEED,
// CHAOS_ROUNDS). The plan runs twice, on fresh pools: both runs must match each other and the model.
// Then once more on durable pools, against the model of the recovery rule: no session is lost.

import { createHash } from 'node:crypto';
import { fstatSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { predict, type Prediction } from './helpers/chaos-model.js';
import { countOutcomes, planChaos, type ChaosShape, type Plan, type PlannedSession } from './helpers/chaos-plan.js';
import { runChaos, summarize, type RunRecord } from './helpers/chaos-run.js';
import { depth } from './helpers/depth.js';

const SEED = Number(process.env['CHAOS_SEED'] ?? 20261123);
const ROUNDS = Number(process.env['CHAOS_ROUNDS'] ?? depth(24, 8));
if (!Number.isSafeInteger(SEED)) throw new RangeError(`CHAOS_SEED must be an integer, got ${process.env['CHAOS_SEED']}`);
const SHAPE: ChaosShape = { sessions: { kitchen: 64, hostile: 16, careless: 8 }, rounds: ROUNDS, workers: 2, hostile: true };

/** Device and inode of this process's stdin, stdout and stderr: a reactor must not close or replace them. */
const hostStdio = (): string[] => [0, 1, 2].map((fd) => {
  const stat = fstatSync(fd);
  return `${fd}:${stat.dev}:${stat.ino}`;
});

/** A short fingerprint of a run's outcome lines, for the log. */
const fingerprint = (lines: readonly string[]): string => createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16);

/** The outcome lines of the plan's sessions that `which` selects. */
const linesOf = (lines: readonly string[], plan: Plan, which: (session: PlannedSession) => boolean): string[] => {
  const keys = new Set(plan.sessions.filter(which).map((session) => session.key));
  return lines.filter((line) => keys.has(line.split(' ')[2] as string));
};

/** `key: count` of `sessionLost` events for the plan's sessions that `which` selects. */
const lossesOf = (losses: readonly number[], plan: Plan, which: (session: PlannedSession) => boolean): string[] =>
  plan.sessions.flatMap((session, index) => (which(session) ? [`${session.key}: ${losses[index]}`] : []));

const careful = (session: PlannedSession): boolean => session.pool !== 'careless';
const careless = (session: PlannedSession): boolean => session.pool === 'careless';

describe('chaos: one seed, one run', () => {
  let plan: Plan;
  let model: Prediction;
  let first: RunRecord;
  let second: RunRecord;
  const unhandled: unknown[] = [];
  let stdioBefore: string[];
  let resourcesBefore: string[];
  let resourcesAfter: string[];
  const resources = (): string[] => process.getActiveResourcesInfo().filter((r) => r !== 'Timeout' && r !== 'Immediate').sort();

  beforeAll(async () => {
    plan = planChaos(SEED, SHAPE);
    model = predict(plan, SHAPE.workers);
    stdioBefore = hostStdio();
    resourcesBefore = resources();
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      first = await runChaos(plan, SHAPE.workers);
      second = await runChaos(plan, SHAPE.workers);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    // Let the threads' exit events land before looking at what is left (before any logging adds its own).
    await new Promise((resolve) => setImmediate(resolve));
    resourcesAfter = resources();
    const same = second.lines.length === first.lines.length && second.lines.every((line, i) => line === first.lines[i]);
    console.log(`chaos (seed ${SEED}): ${summarize(plan, first.lines, first.losses)}; outcome lines sha256 ${fingerprint(first.lines)}, ` +
      `second run ${same ? 'identical' : `DIFFERENT (sha256 ${fingerprint(second.lines)})`}`);
  }, Math.max(120_000, ROUNDS * 2_000));

  it('replays exactly: the same seed gives the same summary and the same outcome for every call', () => {
    expect(planChaos(SEED, SHAPE)).toEqual(plan);
    expect(second.placement).toEqual(first.placement);
    expect(summarize(plan, second.lines, second.losses)).toBe(summarize(plan, first.lines, first.losses));
    expect(second.lines).toEqual(first.lines);
    expect(second.losses).toEqual(first.losses);
  });

  it('every outcome is the model\'s: values, traps, exits, runaway calls, memory limits, aborts, worker kills', () => {
    expect(first.placement).toEqual(model.placement);
    expect(linesOf(first.lines, plan, careful)).toEqual(linesOf(model.lines, plan, careful));
    expect(lossesOf(first.losses, plan, careful)).toEqual(lossesOf(model.losses, plan, careful));
    // Every fault the plan injects shows up (the opening round meets each one for sure).
    const codes = Object.keys(countOutcomes(first.lines));
    for (const code of ['ok', 'ERR_REACTOR_TRAP', 'ERR_REACTOR_EXIT', 'ERR_MEMORY_LIMIT', 'ERR_ABORTED', 'ERR_SESSION_LOST', 'ERR_CALL_TIMEOUT']) {
      expect(codes).toContain(code);
    }
  });

  it('arguments are taken at call time: lists and bytes overwritten or detached right after the call change nothing', () => {
    const lines = linesOf(model.lines, plan, careless);
    for (const mutation of ['then overwritten', 'then detached']) expect(lines.some((line) => line.includes(mutation))).toBe(true);
    expect(linesOf(first.lines, plan, careless)).toEqual(lines);
    expect(lossesOf(first.losses, plan, careless)).toEqual(lossesOf(model.losses, plan, careless));
  });

  it('a hostile reactor reaches neither this process nor other sessions; new instances still start', () => {
    const hostile = (session: PlannedSession): boolean => session.pool === 'hostile';
    const lines = linesOf(first.lines, plan, hostile);
    for (const kind of ['raise', 'closeFd', 'renumber', 'nap', 'sleep']) expect(lines.some((line) => line.includes(` ${kind}(`))).toBe(true);
    expect(Object.keys(countOutcomes(lines))).toContain('ERR_REACTOR_SIGNAL');
    expect(lines).toEqual(linesOf(model.lines, plan, hostile));
    // Sessions lost to a signal start again, and the final read finds every hostile session live.
    expect(lines.some((line) => line.endsWith(' reset() -> ok undefined'))).toBe(true);
    const finalRound = `round ${plan.rounds.length - 1} `;
    expect(lines.filter((line) => line.startsWith(finalRound) && line.includes(' inc(0) -> ok '))).toHaveLength(SHAPE.sessions.hostile);
    expect(lossesOf(first.losses, plan, hostile)).toEqual(lossesOf(model.losses, plan, hostile));
    expect(hostStdio()).toEqual(stdioBefore);
  });

  it('leaves nothing behind: no unhandled rejection, nothing pending, no handle after close()', () => {
    expect(unhandled).toEqual([]);
    expect([first.pendingAtEnd, second.pendingAtEnd]).toEqual([0, 0]);
    expect(resourcesAfter).toEqual(resourcesBefore);
  });
});

describe('chaos under durability: the same plan, the recovery rule instead of the loss rule', () => {
  let plan: Plan;
  let model: Prediction;
  let run: RunRecord;
  const unhandled: unknown[] = [];

  beforeAll(async () => {
    plan = planChaos(SEED, SHAPE);
    model = predict(plan, SHAPE.workers, true);
    const dir = await mkdtemp(join(tmpdir(), 'rp-chaos-durable-'));
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      run = await runChaos(plan, SHAPE.workers, dir);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await rm(dir, { recursive: true, force: true });
    }
    console.log(`chaos under durability (seed ${SEED}): ${summarize(plan, run.lines, run.losses)}; outcome lines sha256 ${fingerprint(run.lines)}`);
  }, Math.max(180_000, ROUNDS * 4_000));

  it('loses no session to anything but a diverging replay: every fault rejects only the call that caused it', () => {
    expect(run.lossCauses.filter((loss) => !loss.endsWith('<ERR_REPLAY_DIVERGED'))).toEqual([]);
    expect(Object.keys(countOutcomes(run.lines))).not.toContain('ERR_SESSION_LOST');
  });

  it('every outcome is the recovery model\'s: faults reject alone, sessions carry on from just before them', () => {
    expect(run.placement).toEqual(model.placement);
    expect(run.lines).toEqual(model.lines);
    expect(run.losses).toEqual(model.losses);
    const codes = Object.keys(countOutcomes(run.lines));
    for (const code of ['ok', 'ERR_REACTOR_TRAP', 'ERR_REACTOR_EXIT', 'ERR_MEMORY_LIMIT', 'ERR_ABORTED', 'ERR_CALL_TIMEOUT', 'ERR_REACTOR_SIGNAL']) {
      expect(codes).toContain(code);
    }
  });

  it('leaves nothing behind: no unhandled rejection, nothing pending', () => {
    expect(unhandled).toEqual([]);
    expect(run.pendingAtEnd).toBe(0);
  });
});
