// Chaos with moving state: from one seed, rounds of calls, snapshots, restores, resets and closes on
// many sessions under a tiny active cap and idle timeout (so sessions hibernate and wake all the
// time), with a worker recycled or the pool resized between rounds. Every outcome is checked against
// a model: no session is lost, every result is exact, and a seed replays the same outcome lines.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { seeded } from '../dist/src/seeded-random.js';
import { REACTOR } from './helpers/fixtures.js';
import { createPool } from './helpers/pool.js';
import { asNumber } from './helpers/results.js';
import { depth } from './helpers/depth.js';

const SEED = Number(process.env['CHAOS_MOVES_SEED'] ?? 20261202);
const ROUNDS = Number(process.env['CHAOS_MOVES_ROUNDS'] ?? depth(16, 6));
const SESSIONS = 40;

interface Outcome { readonly lines: string[]; readonly lost: number; readonly hibernated: number; readonly moves: string[] }

async function run(seed: number): Promise<Outcome> {
  const random = seeded(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const pool = await createPool({ module: REACTOR, workers: 2, maxActiveSessions: 6, idleTimeout: 5, maxInstances: 12 });
  let lost = 0;
  let hibernated = 0;
  pool.on('sessionLost', () => lost++);
  pool.on('sessionHibernated', () => hibernated++);
  const keys: readonly string[] = Array.from({ length: SESSIONS }, (_, i) => `c${i}`);
  /** The model: each key's counter, and snapshots taken (with the counter they hold). */
  const model = new Map(keys.map((key) => [key, 20]));
  const saved: { bytes: Promise<Uint8Array>; value: number }[] = [];
  const lines: string[] = [];
  const moves: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const pending: Promise<void>[] = [];
    /** Keys restored this round: their restore waits for bytes, so nothing else of them is made until the next. */
    const resting = new Set<string>();
    for (let op = 0; op < 60; op++) {
      const key = pick(keys);
      if (resting.has(key)) continue;
      const session = pool.session(key);
      const roll = random();
      const line = (text: string): void => {
        lines.push(`${round} ${key} ${text}`);
      };
      if (roll < 0.6) {
        const n = Math.floor(random() * 50);
        const expected = (model.get(key) as number) + n;
        model.set(key, expected);
        pending.push(session.call('inc', n).then(asNumber).then((value) => {
          expect(value).toBe(expected);
          line(`inc ${n} = ${value}`);
        }));
      } else if (roll < 0.7) {
        const list = [1, 2, 3];
        const start = model.get(key) as number;
        model.set(key, start + 6);
        pending.push(session.callMany('inc', list).then((values) => {
          expect(values).toEqual([start + 1, start + 3, start + 6]);
          line(`callMany = ${values.join(',')}`);
        }));
      } else if (roll < 0.8) {
        saved.push({ bytes: session.snapshot(), value: model.get(key) as number });
      } else if (roll < 0.87 && saved.length > 0) {
        const { bytes, value } = pick(saved);
        // Made once the bytes are here: nothing else of this key this round, so the model's order holds.
        model.set(key, value);
        resting.add(key);
        pending.push(bytes.then((b) => session.restore(b)).then(() => line(`restore ${value}`)));
      } else if (roll < 0.94) {
        model.set(key, 20);
        pending.push(session.reset().then(() => line('reset')));
      } else {
        model.set(key, 20);
        pending.push(session.close().then(() => line('close')));
      }
    }
    await Promise.all(pending);
    const move = random();
    if (move < 0.4) {
      const id = Math.floor(random() * pool.workers);
      moves.push(`recycle ${id}`);
      await pool.recycleWorker(id);
    } else if (move < 0.8) {
      const workers = 1 + Math.floor(random() * 3);
      moves.push(`resize ${workers}`);
      await pool.resize(workers);
    }
  }
  for (const key of keys) {
    const value = await pool.session(key).call('inc', 0).then(asNumber);
    expect(value, key).toBe(model.get(key));
    lines.push(`end ${key} ${value}`);
  }
  await pool.close();
  return { lines, lost, hibernated, moves };
}

describe('chaos with hibernation, resizes and recycles', () => {
  it(`seed ${SEED}: every result exact, no session lost, and the seed replays`, async () => {
    const first = await run(SEED);
    expect(first.lost).toBe(0);
    expect(first.hibernated).toBeGreaterThan(0);
    expect(first.moves.length).toBeGreaterThan(0);
    const second = await run(SEED);
    const digest = (outcome: Outcome): string => createHash('sha256').update([...outcome.lines].sort().join('\n')).digest('hex');
    expect(digest(second)).toBe(digest(first));
    expect(second.moves).toEqual(first.moves);
    console.log(`chaos-moves (seed ${SEED}): ${first.lines.length} outcomes in ${ROUNDS} rounds; ${first.hibernated} hibernations; moves ${first.moves.join(', ')}; sha256 ${digest(first).slice(0, 16)}, second run identical`);
  }, 120_000);
});
