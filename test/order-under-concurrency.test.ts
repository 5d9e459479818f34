import { describe, expect, it } from 'vitest';
import { REACTOR } from './helpers/fixtures.js';
import { createPool } from './helpers/pool.js';
import { asNumber } from './helpers/results.js';

describe('order under concurrency', () => {
  it('keeps every session exact while hundreds run interleaved calls fired without awaiting', async () => {
    const pool = await createPool({ module: REACTOR, workers: 2 });
    const sessions = 300;
    const rounds = 15;
    const expected = new Array<number>(sessions).fill(20);
    const checks: Promise<[number, number]>[] = [];
    for (let round = 0; round < rounds; round++) {
      for (let s = 0; s < sessions; s++) {
        const n = ((s * 7 + round * 13) % 50) + 1;
        const want = (expected[s] as number) + n;
        expected[s] = want;
        checks.push(pool.session(`user-${s}`).call('inc', n).then((got) => [asNumber(got), want]));
      }
    }
    for (const [got, want] of await Promise.all(checks)) expect(got).toBe(want);
    const stats = pool.stats();
    expect(stats.sessions).toBe(sessions);
    expect(stats.sessionsPerWorker.every((n) => n > 0)).toBe(true);
  });

  it('runs call and callMany of one session strictly in submission order across ticks', async () => {
    const pool = await createPool({ module: REACTOR, workers: 2 });
    const s = pool.session('mixed');
    const results: Promise<unknown>[] = [];
    let expected = 20;
    const wants: unknown[] = [];
    for (let i = 0; i < 50; i++) {
      if (i % 3 === 0) {
        const list = [i, 1, 2];
        results.push(s.callMany('inc', list));
        wants.push(list.map((n) => (expected += n)));
      } else {
        results.push(s.call('inc', i));
        wants.push((expected += i));
      }
      if (i % 10 === 0) await new Promise((resolve) => setImmediate(resolve)); // spread over several batches
    }
    expect(await Promise.all(results)).toEqual(wants);
  });
});
