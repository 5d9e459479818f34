// kill -9 under durability: a child drives hundreds of durable sessions with keyed `inc(n)` calls and is
// killed with SIGKILL at a seeded moment; a fresh child on the same directory must find every call the
// child recorded acknowledged, and every other call applied once or not at all; retried with its
// idempotency key, each applies exactly once. Rounds and seed: DURABLE_KILL_ROUNDS, DURABLE_KILL_SEED.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seeded } from '../dist/src/seeded-random.js';
import { driveAndKill, verifyAfterKill } from './helpers/durable-kill.js';
import { bySession, mismatches, summary, verifyPlan } from './helpers/durable-kill-model.js';
import { REACTOR } from './helpers/fixtures.js';
import { depth } from './helpers/depth.js';

const SEED = Number(process.env['DURABLE_KILL_SEED'] ?? 20261207);
const ROUNDS = Number(process.env['DURABLE_KILL_ROUNDS'] ?? depth(5, 2));
if (!Number.isSafeInteger(SEED)) throw new RangeError(`DURABLE_KILL_SEED must be an integer, got ${process.env['DURABLE_KILL_SEED']}`);
const SESSIONS = 300;
const CALLS = 2_400;
const WINDOW = 128;

interface Round { readonly round: number; readonly seed: number; readonly killAfterAcks: number }

const random = seeded(SEED);
const ROUND_PLANS: Round[] = Array.from({ length: ROUNDS }, (_, round) => ({
  round,
  seed: Math.floor(random() * 2 ** 32),
  // Anywhere from the first acknowledgement to well before the last: calls are always in flight.
  killAfterAcks: 1 + Math.floor(random() * CALLS * 0.9),
}));

describe(`kill -9 under durability (DURABLE_KILL_SEED=${SEED}, ${ROUNDS} rounds)`, () => {
  it.each(ROUND_PLANS)('round $round (seed $seed, SIGKILL after $killAfterAcks acknowledgements): nothing acknowledged is lost, every retry applies once', async ({ round, seed, killAfterAcks }) => {
    const replay = `DURABLE_KILL_SEED=${SEED} round ${round}`;
    const root = await mkdtemp(join(tmpdir(), 'rp-durable-kill-'));
    const dir = join(root, 'store');
    try {
      const run = await driveAndKill({ module: REACTOR, dir, record: join(root, 'drive.log'), seed, sessions: SESSIONS, calls: CALLS, window: WINDOW, killAfterAcks });
      expect(run.signal, `${replay}: the driving child should die of SIGKILL; stderr: ${run.stderr.slice(-2000)}`).toBe('SIGKILL');
      expect(run.problems, replay).toEqual([]);
      expect(run.calls.filter((call) => call.failed !== undefined).map((call) => `${call.key}: ${call.failed}`), replay).toEqual([]);
      expect(run.acksAtKill, replay).toBeGreaterThanOrEqual(killAfterAcks);

      const sessions = bySession(run.calls);
      const report = await verifyAfterKill(REACTOR, dir, verifyPlan(sessions));
      console.log(`kill -9 ${replay}: ${summary(run, sessions, report)}`);
      expect(mismatches(sessions, report), replay).toEqual([]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }, 120_000);
});
