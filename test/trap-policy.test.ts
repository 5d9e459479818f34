// The `onTrap` pool option: what a trap does to the instance that trapped ('keep', 'lose', 'reset').
// In every case the trapping call itself rejects with ERR_REACTOR_TRAP.
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, ReactorPool, ReactorTrapError, SessionLostError, type ReactorPoolError, type SessionLostEvent } from '../dist/src/index.js';
import { KITCHEN } from './helpers/fixtures.js';
import type { KitchenExports } from './fixtures/kitchen.exports.js';
import { createPool, keysOn, rejection } from './helpers/pool.js';

const reason = (result: PromiseSettledResult<unknown> | undefined): ReactorPoolError =>
  (result as PromiseRejectedResult).reason as ReactorPoolError;

describe("onTrap: 'keep' (the default)", () => {
  for (const onTrap of [undefined, 'keep'] as const) {
    it(`keeps the instance and the writes made before the trap (onTrap: ${String(onTrap)})`, async () => {
      const pool = await createPool<KitchenExports>({ module: KITCHEN, workers: 1, ...(onTrap === undefined ? {} : { onTrap }) });
      const lost: SessionLostEvent[] = [];
      pool.on('sessionLost', (event) => lost.push(event));
      const s = pool.session('s');
      expect(await s.call('inc', 0)).toBe(20);
      const error = await rejection(s.call('boom'));
      expect(error).toBeInstanceOf(ReactorTrapError);
      expect(error.message).not.toContain('discarded');
      expect(s.lost).toBe(false);
      expect(await s.call('inc', 1)).toBe(1021);
      expect(lost).toEqual([]);
    });
  }
});

describe("onTrap: 'lose'", () => {
  it('loses the session until reset; queued and later calls reject ERR_SESSION_LOST; others unaffected', async () => {
    const pool = await createPool<KitchenExports>({ module: KITCHEN, workers: 2, onTrap: 'lose' });
    const lost: SessionLostEvent[] = [];
    pool.on('sessionLost', (event) => lost.push(event));
    const a = pool.session('a');
    const b = pool.session('b');
    expect(await a.call('inc', 1)).toBe(21);
    expect(await b.call('inc', 2)).toBe(22);

    const [trap, queued] = await Promise.allSettled([a.call('boom'), a.call('inc', 1)]);
    const trapError = reason(trap);
    expect(trapError).toBeInstanceOf(ReactorTrapError);
    expect(trapError.code).toBe('ERR_REACTOR_TRAP');
    expect(trapError.exportName).toBe('boom');
    expect(trapError.message).toContain("the instance is discarded (onTrap: 'lose')");
    expect(reason(queued)).toBeInstanceOf(SessionLostError);
    expect((reason(queued).cause as ReactorPoolError).code).toBe('ERR_REACTOR_TRAP');

    expect(a.lost).toBe(true);
    const later = await rejection(a.call('inc', 1));
    expect(later.code).toBe('ERR_SESSION_LOST');
    expect((later.cause as ReactorPoolError).code).toBe('ERR_REACTOR_TRAP');
    expect((await rejection(a.callMany('inc', [1]))).code).toBe('ERR_SESSION_LOST');
    expect(lost.map((event) => [event.key, event.cause.code])).toEqual([['a', 'ERR_REACTOR_TRAP']]);
    expect(pool.stats().lostSessions).toBe(1);

    expect(b.lost).toBe(false);
    expect(await b.call('inc', 0)).toBe(22);
    await a.reset();
    expect(a.lost).toBe(false);
    expect(await a.call('inc', 1)).toBe(21);
  });

  it('loses the session on a trap inside callMany, after the items that completed', async () => {
    const pool = await createPool<KitchenExports>({ module: KITCHEN, workers: 1, onTrap: 'lose' });
    const s = pool.session('s');
    const error = await rejection(s.callMany('boom', [[], []]));
    expect(error.code).toBe('ERR_REACTOR_TRAP');
    expect(error['completed']).toBe(0);
    expect(s.lost).toBe(true);
    await s.reset();
    expect(await s.call('get')).toBe(20);
  });

  it("with isolation 'worker', a trap loses every session on that worker, idle ones included", async () => {
    const pool = await createPool<KitchenExports>({ module: KITCHEN, workers: 2, isolation: 'worker', onTrap: 'lose' });
    const lost: SessionLostEvent[] = [];
    pool.on('sessionLost', (event) => lost.push(event));
    const [trapper, neighbour, idle] = keysOn(pool, 0, 3, 'w0-').map((key) => pool.session(key));
    const [elsewhere] = keysOn(pool, 1, 1, 'w1-').map((key) => pool.session(key));
    if (trapper === undefined || neighbour === undefined || idle === undefined || elsewhere === undefined) throw new Error('placement');
    expect(await trapper.call('inc', 1)).toBe(21);
    expect(await neighbour.call('inc', 1)).toBe(22);
    expect(await elsewhere.call('inc', 5)).toBe(25);

    expect((await rejection(trapper.call('boom'))).code).toBe('ERR_REACTOR_TRAP');
    for (const s of [trapper, neighbour, idle]) {
      expect(s.lost).toBe(true);
      const error = await rejection(s.call('inc', 1));
      expect(error.code).toBe('ERR_SESSION_LOST');
      expect((error.cause as ReactorPoolError).code).toBe('ERR_REACTOR_TRAP');
    }
    // keysOn leaves other sessions placed too: every one placed on worker 0 is lost, and only those.
    expect(lost.map((event) => event.key)).toEqual(expect.arrayContaining([trapper.key, neighbour.key, idle.key]));
    expect(lost.every((event) => pool.session(event.key).workerId === 0 && event.cause.code === 'ERR_REACTOR_TRAP')).toBe(true);
    expect(lost).toHaveLength(pool.stats().sessionsPerWorker[0] ?? -1);
    expect(pool.stats().lostSessions).toBe(lost.length);
    expect(elsewhere.lost).toBe(false);
    expect(await elsewhere.call('inc', 0)).toBe(25);

    // Every reset session binds to one fresh shared instance.
    await Promise.all([trapper.reset(), neighbour.reset(), idle.reset()]);
    expect(await trapper.call('inc', 1)).toBe(21);
    expect(await neighbour.call('inc', 1)).toBe(22);
    expect(await idle.call('inc', 1)).toBe(23);
  });
});

describe("onTrap: 'reset'", () => {
  it('discards the instance: calls queued behind the trap reject, calls made after start fresh', async () => {
    const pool = await createPool<KitchenExports>({ module: KITCHEN, workers: 1, onTrap: 'reset' });
    const lost: SessionLostEvent[] = [];
    pool.on('sessionLost', (event) => lost.push(event));
    const s = pool.session('s');
    const other = pool.session('other');
    expect(await s.call('inc', 5)).toBe(25);
    expect(await other.call('inc', 7)).toBe(27);

    const results = await Promise.allSettled([s.call('inc', 1), s.call('boom'), s.call('inc', 1), s.callMany('inc', [1, 1])]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'rejected']);
    expect((results[0] as PromiseFulfilledResult<number>).value).toBe(26);
    const trapError = reason(results[1]);
    expect(trapError).toBeInstanceOf(ReactorTrapError);
    expect(trapError.message).toContain("the instance is discarded (onTrap: 'reset')");
    for (const queued of results.slice(2)) {
      expect(reason(queued)).toBeInstanceOf(SessionLostError);
      expect((reason(queued).cause as ReactorPoolError).code).toBe('ERR_REACTOR_TRAP');
    }

    expect(s.lost).toBe(false);
    expect(await s.call('inc', 1)).toBe(21);
    expect(lost.map((event) => [event.key, event.cause.code])).toEqual([['s', 'ERR_REACTOR_TRAP']]);
    expect(await other.call('inc', 0)).toBe(27);
  });

  it('resets again on every trap', async () => {
    const pool = await createPool<KitchenExports>({ module: KITCHEN, workers: 1, onTrap: 'reset' });
    const s = pool.session('s');
    for (const n of [1, 2, 3]) {
      expect(await s.call('inc', 10)).toBe(30);
      expect((await rejection(s.call('boom'))).code).toBe('ERR_REACTOR_TRAP');
      expect(s.lost).toBe(false);
      expect(await s.call('inc', n)).toBe(20 + n);
      await s.reset();
    }
  });

  it('resets even when the queues are full (the reset is the pool\'s own, never refused)', async () => {
    const pool = await createPool<KitchenExports>({ module: KITCHEN, workers: 1, onTrap: 'reset', maxQueuePerSession: 1, maxQueue: 1 });
    const s = pool.session('full');
    expect((await rejection(s.call('boom'))).code).toBe('ERR_REACTOR_TRAP');
    expect(s.lost).toBe(false);
    // The pool's reset holds the one queue place until it is done: retry as `retryable` invites to.
    const retry = async (): Promise<number> => {
      for (;;) {
        try {
          return await s.call('inc', 1);
        } catch (error) {
          if ((error as { retryable?: boolean }).retryable !== true) throw error;
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    };
    expect(await retry()).toBe(21);
  });
});

describe('onTrap option', () => {
  for (const [value, shown] of [['drop', '`"drop"` (string)'], [true, '`true` (boolean)'], [null, '`null` (null)']] as const) {
    it(`refuses onTrap: ${String(value)}`, async () => {
      const error = await rejection(ReactorPool.create({ module: KITCHEN, workers: 1, onTrap: value } as never));
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error.code).toBe('ERR_INVALID_OPTION');
      expect(error.message).toContain(`Expected \`onTrap\` to be 'keep' or 'lose' or 'reset', got ${shown}`);
    });
  }
});
