// Backpressure: `maxQueuePerSession` and `maxQueue` refuse one operation too many at once with
// ERR_QUEUE_FULL (retryable, nothing ran); the same call succeeds once the queue drains.
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, QueueFullError, ReactorPool, type ReactorPoolError } from '../dist/src/index.js';
import { KITCHEN, REACTOR } from './helpers/fixtures.js';
import { createPool, rejection, type Rejection } from './helpers/pool.js';

const PENDING = Symbol('pending');

/** How `promise` stands before any other work runs: already rejected, already fulfilled, or pending. */
function settledNow(promise: Promise<unknown>): Promise<'rejected' | 'fulfilled' | 'pending'> {
  return Promise.race([promise, Promise.resolve(PENDING)]).then(
    (value) => (value === PENDING ? 'pending' : 'fulfilled'),
    () => 'rejected',
  );
}

function expectQueueFull(error: Rejection, limit: number): void {
  expect(error).toBeInstanceOf(QueueFullError);
  expect(error.code).toBe('ERR_QUEUE_FULL');
  expect(error['retryable']).toBe(true);
  expect(error['limit']).toBe(limit);
}

describe('ERR_QUEUE_FULL', () => {
  it('maxQueuePerSession: one more rejects at once, nothing runs, and the same call succeeds after', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1, maxQueuePerSession: 3 });
    const s = pool.session('s');
    const accepted = [s.call('inc', 1), s.call('inc', 2), s.call('inc', 3)];
    const refused = s.call('inc', 100);
    // Refused before the end of the tick (the accepted calls may or may not have been answered by then:
    // a small batch can come back within a few microtasks, so nothing is asserted of them here).
    expect(await settledNow(refused)).toBe('rejected');
    const error = await rejection(refused);
    expectQueueFull(error, 3);
    expect(error['sessionKey']).toBe('s');
    expect(error.message).toMatch(/session "s" has 3 operations queued or running, the maxQueuePerSession limit/);
    // The model excludes the refused inc(100).
    expect(await Promise.all(accepted)).toEqual([21, 23, 26]);
    expect(await s.call('inc', 100)).toBe(126);
  });

  it('refuses exactly the calls over the limit when many are fired in one tick', async () => {
    const pool = await createPool({ module: REACTOR, workers: 2, maxQueuePerSession: 4 });
    const s = pool.session('burst');
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => s.call('inc', i + 1)));
    expect(outcomes.map((o) => o.status)).toEqual([...new Array<string>(4).fill('fulfilled'), ...new Array<string>(6).fill('rejected')]);
    expect(outcomes.slice(0, 4).map((o) => (o as PromiseFulfilledResult<number>).value)).toEqual([21, 23, 26, 30]);
    for (const o of outcomes.slice(4)) expectQueueFull((o as PromiseRejectedResult).reason as Rejection, 4);
    // Retrying the refused calls, one at a time, applies each exactly once.
    let total = 30;
    for (let i = 5; i <= 10; i++) expect(await s.call('inc', i)).toBe((total += i));
  });

  it('counts a callMany as one operation, whatever its length', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1, maxQueuePerSession: 2 });
    const s = pool.session('s');
    const many = s.callMany('inc', [1, 1, 1, 1, 1]);
    const one = s.call('inc', 1);
    // Refused in the same tick: the queue is full whatever the worker's speed.
    const refused = [s.callMany('inc', [50, 50]), s.call('inc', 50)];
    expectQueueFull(await rejection(refused[0] as Promise<unknown>), 2);
    expectQueueFull(await rejection(refused[1] as Promise<unknown>), 2);
    expect(await many).toEqual([21, 22, 23, 24, 25]);
    expect(await one).toBe(26);
    expect(await s.callMany('inc', [50, 50])).toEqual([76, 126]);
  });

  it('maxQueue counts across sessions; each session stays under its own limit', async () => {
    const pool = await createPool({ module: REACTOR, workers: 2, maxQueue: 3 });
    const a = pool.session('a');
    const b = pool.session('b');
    const c = pool.session('c');
    const accepted = [a.call('inc', 1), b.call('inc', 2), a.call('inc', 3)];
    // Made in the same tick as the accepted calls: the queue is full whatever the worker's speed.
    const refused = c.call('inc', 100);
    const refusedToo = a.call('inc', 100);
    expect(await settledNow(refused)).toBe('rejected');
    const error = await rejection(refused);
    expectQueueFull(error, 3);
    expect(error.message).toMatch(/the pool has 3 operations queued or running, the maxQueue limit/);
    expectQueueFull(await rejection(refusedToo), 3);
    expect(await Promise.all(accepted)).toEqual([21, 22, 24]);
    expect(await c.call('inc', 100)).toBe(120);
    expect(await a.call('inc', 0)).toBe(24);
    expect(await b.call('inc', 0)).toBe(22);
  });

  it('never refuses session.close(), even with the queues full', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1, maxQueuePerSession: 1, maxQueue: 2 });
    const s = pool.session('s');
    const t = pool.session('t');
    const first = s.call('inc', 1);
    const other = t.call('inc', 1);
    const refused = [s.call('inc', 1), pool.session('u').call('inc', 1)];
    expectQueueFull(await rejection(refused[0] as Promise<unknown>), 1);
    expectQueueFull(await rejection(refused[1] as Promise<unknown>), 2);
    await Promise.all([s.close(), t.close()]);
    expect(await first).toBe(21);
    expect(await other).toBe(21);
    expect((await rejection(s.call('inc', 1))).code).toBe('ERR_SESSION_CLOSED');
    expect(await pool.session('s').call('inc', 1)).toBe(21);
  });

  it('gives every admitted operation back, whatever its outcome', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 1, maxQueue: 2 });
    const s = pool.session('s');
    const controller = new AbortController();
    const trapped = s.call('boom');
    const aborted = s.with({ signal: controller.signal }).call('inc', 1);
    controller.abort();
    expect((await rejection(aborted)).code).toBe('ERR_ABORTED');
    expect((await rejection(trapped)).code).toBe('ERR_REACTOR_TRAP');
    expect((await rejection(s.call('inc', 'x'))).code).toBe('ERR_INVALID_ARGUMENT');
    expect((await rejection(s.call('quit', 1))).code).toBe('ERR_REACTOR_EXIT');
    expect((await rejection(s.call('inc', 1))).code).toBe('ERR_SESSION_LOST');
    await s.reset();
    await s.close();
    // Nothing leaked: exactly two operations fit again.
    const t = pool.session('t');
    const two = [t.call('inc', 1), t.call('inc', 1)];
    expectQueueFull(await rejection(t.call('inc', 1)), 2);
    expect(await Promise.all(two)).toEqual([21, 22]);
  });

  it('marks only ERR_QUEUE_FULL retryable', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 1 });
    const s = pool.session('s');
    const invalid = await rejection(s.call('inc', 1.5));
    expect(invalid.code).toBe('ERR_INVALID_ARGUMENT');
    expect(invalid['retryable']).toBe(false);
    await rejection(s.call('quit', 2));
    const lost = await rejection(s.call('inc', 1));
    expect(lost.code).toBe('ERR_SESSION_LOST');
    expect(lost['retryable']).toBe(false);
    expect((lost.cause as ReactorPoolError).retryable).toBe(false);
  });

  it('leaves the state untouched when it refuses reset()', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 1, maxQueuePerSession: 1 });
    const s = pool.session('kept');
    expect(await s.call('inc', 5)).toBe(25);
    const running = s.call('inc', 1);
    expectQueueFull(await rejection(s.reset()), 1);
    expect(await running).toBe(26);
    expect(await s.call('inc', 1)).toBe(27);
  });
});

describe('maxQueuePerSession and maxQueue options', () => {
  const cases: [unknown, string][] = [[0, '`0` (number)'], [-1, '`-1` (number)'], [1.5, '`1.5` (number)'], ['3', '`"3"` (string)'], [null, '`null` (null)']];
  for (const name of ['maxQueuePerSession', 'maxQueue']) {
    for (const [value, shown] of cases) {
      it(`refuses ${name}: ${String(value)} (${typeof value})`, async () => {
        const error = await rejection(ReactorPool.create({ module: REACTOR, workers: 1, [name]: value }));
        expect(error).toBeInstanceOf(InvalidOptionError);
        expect(error.code).toBe('ERR_INVALID_OPTION');
        expect(error.message).toContain(`Expected \`${name}\` to be a positive integer or Infinity, got ${shown}`);
      });
    }
  }

  it('accepts Infinity for both', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1, maxQueuePerSession: Infinity, maxQueue: Infinity });
    const s = pool.session('s');
    expect(await Promise.all(Array.from({ length: 50 }, () => s.call('inc', 1)))).toEqual(Array.from({ length: 50 }, (_, i) => 21 + i));
  });
});
