// session.snapshot() and session.restore(): the state continues exactly, in the session's own order,
// on any worker and in another pool; `_initialize` does not run again; a lost session comes back.

import { describe, expect, it } from 'vitest';
import { seeded } from '../dist/src/seeded-random.js';
import { OutputCollector, REACTOR } from './helpers/fixtures.js';
import { createPool, keysOn, rejection, terminateWorker } from './helpers/pool.js';

describe('snapshot and restore (reference reactor)', () => {
  it('restores the state a snapshot holds, into the same session and into another one', async () => {
    const pool = await createPool({ module: REACTOR, workers: 2 });
    const a = pool.session('a');
    expect(await a.call('inc', 1)).toBe(21);
    const bytes = await a.snapshot();
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(await a.call('inc', 21)).toBe(42);
    await a.restore(bytes);
    expect(await a.call('inc', 0)).toBe(21);
    const [other] = keysOn(pool, a.workerId === 0 ? 1 : 0, 1, 'other-');
    const b = pool.session(other as string);
    await b.restore(bytes);
    expect(await b.call('inc', 100)).toBe(121);
    // Each restored instance is its own: a is unaffected by b.
    expect(await a.call('inc', 1)).toBe(22);
  });

  it('takes the snapshot after the calls made before it and before those made after, without awaiting', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1 });
    const a = pool.session('a');
    const first = a.call('inc', 1);
    const taken = a.snapshot();
    const later = a.call('inc', 1000);
    const restored = a.restore(await taken);
    const after = a.call('inc', 0);
    expect([await first, await later, await restored, await after]).toEqual([21, 1021, undefined, 21]);
  });

  it("does not run `_initialize` again: a restored session prints nothing and starts from the snapshot's state", async () => {
    const stderr = new OutputCollector();
    const pool = await createPool({ module: REACTOR, workers: 1, stderr: stderr.callback });
    const a = pool.session('a');
    await a.call('inc', 5);
    const bytes = await a.snapshot();
    const b = pool.session('b');
    await b.restore(bytes);
    expect(await b.call('inc', 0)).toBe(25);
    expect(stderr.of('a')).toBe('s = 20\n');
    expect(stderr.of('b')).toBe('');
  });

  it('snapshots a session with no call yet as a freshly started one', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1 });
    const bytes = await pool.session('fresh').snapshot();
    const b = pool.session('b');
    await b.call('inc', 7);
    await b.restore(bytes);
    expect(await b.call('inc', 1)).toBe(21);
  });

  it('restores into another pool of the same module', async () => {
    const one = await createPool({ module: REACTOR, workers: 1 });
    const a = one.session('a');
    await a.callMany('inc', [1, 2, 3]);
    const bytes = await a.snapshot();
    await one.close();
    const two = await createPool({ module: REACTOR, workers: 2 });
    const b = two.session('elsewhere');
    await b.restore(bytes);
    expect(await b.call('inc', 0)).toBe(26);
  });

  it('brings a lost session back, like reset()', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1 });
    const a = pool.session('a');
    await a.call('inc', 3);
    const bytes = await a.snapshot();
    await terminateWorker(pool, 0);
    expect((await rejection(a.call('inc', 1))).code).toBe('ERR_SESSION_LOST');
    expect(a.lost).toBe(true);
    expect((await rejection(a.snapshot())).code).toBe('ERR_SESSION_LOST');
    await a.restore(bytes);
    expect(a.lost).toBe(false);
    expect(await a.call('inc', 1)).toBe(24);
  });

  it('copies the bytes when restore() is called: changing them afterwards changes nothing', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1 });
    const a = pool.session('a');
    await a.call('inc', 2);
    const bytes = await a.snapshot();
    const restored = a.restore(bytes);
    bytes.fill(0);
    await restored;
    expect(await a.call('inc', 0)).toBe(22);
  });

  it('keeps every session exact and in order while many snapshot and restore at once (seeded)', async () => {
    const random = seeded(0x5a17);
    const pool = await createPool({ module: REACTOR, workers: 2 });
    const keys = Array.from({ length: 24 }, (_, i) => `k${i}`);
    const model = new Map(keys.map((key) => [key, 20]));
    const saved = new Map<string, { bytes: Promise<Uint8Array>; value: number }>();
    for (let round = 0; round < 12; round++) {
      const pending: Promise<unknown>[] = [];
      for (const key of keys) {
        const session = pool.session(key);
        const roll = random();
        if (roll < 0.2) {
          saved.set(key, { bytes: session.snapshot(), value: model.get(key) as number });
        } else if (roll < 0.35 && saved.has(key)) {
          const { bytes, value } = saved.get(key) as { bytes: Promise<Uint8Array>; value: number };
          pending.push(bytes.then((b) => session.restore(b)));
          model.set(key, value);
          // The restore is queued after this round's awaits: nothing else of this key runs this round.
          continue;
        }
        const n = Math.floor(random() * 100);
        const expected = (model.get(key) as number) + n;
        model.set(key, expected);
        pending.push(session.call('inc', n).then((value) => expect(value).toBe(expected)));
      }
      await Promise.all(pending);
    }
    for (const key of keys) expect(await pool.session(key).call('inc', 0)).toBe(model.get(key));
  });
});
