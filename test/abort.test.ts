// Per-call options through `session.with({ signal, timeout })`: an AbortSignal that fires while the
// call is still queued rejects it with ERR_ABORTED and nothing runs; once handed to its worker it runs.
import { describe, expect, it, vi } from 'vitest';
import { AbortedError, InvalidOptionError, type CallOptions } from '../dist/src/index.js';
import { KITCHEN, REACTOR } from './helpers/fixtures.js';
import { createPool, rejection, type Rejection } from './helpers/pool.js';

/** One turn of the event loop: the session's queue has been flushed to its worker by then. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function expectAborted(error: Rejection, key: string): void {
  expect(error).toBeInstanceOf(AbortedError);
  expect(error.code).toBe('ERR_ABORTED');
  expect(error['sessionKey']).toBe(key);
  expect(error['retryable']).toBe(false);
  expect(error.message).toMatch(/aborted before it reached its worker.*nothing ran/);
}

/** The error `fn` throws synchronously. */
function thrown(fn: () => unknown): Rejection {
  try {
    fn();
  } catch (error) {
    return error as Rejection;
  }
  throw new Error('expected a synchronous throw');
}

describe('session.with({ signal })', () => {
  it('keeps session.call unchanged and gives call and callMany', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1 });
    const s = pool.session('s');
    const calls = s.with({ signal: new AbortController().signal, timeout: Infinity });
    expect(Object.keys(calls).sort()).toEqual(['call', 'callMany']);
    expect(await s.call('inc', 1)).toBe(21);
    expect(await calls.call('inc', 2)).toBe(23);
    expect(await calls.callMany('inc', [1, 1])).toEqual([24, 25]);
    expect(await s.call('inc', 0)).toBe(25);
  });

  it('rejects a queued call with ERR_ABORTED; nothing ran, and the calls around it run in order', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1 });
    const s = pool.session('s');
    expect(await s.call('inc', 1)).toBe(21);
    const controller = new AbortController();
    const before = s.call('inc', 1);
    const aborted = s.with({ signal: controller.signal }).call('inc', 100);
    const after = s.call('inc', 1);
    controller.abort(new Error('user went away'));
    const error = await rejection(aborted);
    expectAborted(error, 's');
    expect(error.message).toContain('user went away');
    expect(await before).toBe(22);
    expect(await after).toBe(23);
    expect(await s.call('inc', 0)).toBe(23);
  });

  it('rejects at once when the signal has already fired', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1 });
    const s = pool.session('s');
    const aborted = s.with({ signal: AbortSignal.abort() }).call('inc', 100);
    // Raced against an already-resolved promise: only a promise rejected before the race wins it.
    const first = await Promise.race([aborted, Promise.resolve('pending')]).catch((error: unknown) => error);
    expectAborted(first as Rejection, 's');
    expectAborted(await rejection(s.with({ signal: AbortSignal.abort() }).callMany('inc', [100])), 's');
    expect(await s.call('inc', 1)).toBe(21);
  });

  it("still creates the instance when the aborted call was the session's first", async () => {
    const pool = await createPool({ module: REACTOR, workers: 1 });
    const s = pool.session('fresh');
    const controller = new AbortController();
    const aborted = s.with({ signal: controller.signal }).call('inc', 100);
    controller.abort();
    expectAborted(await rejection(aborted), 'fresh');
    expect(s.lost).toBe(false);
    expect(await s.call('inc', 1)).toBe(21);
    expect(await s.call('inc', 2)).toBe(23);
  });

  it('has no effect once the call has been handed to its worker', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1 });
    const s = pool.session('s');
    expect(await s.call('inc', 1)).toBe(21);
    const controller = new AbortController();
    const sent = s.with({ signal: controller.signal }).call('inc', 5);
    await nextTurn();
    controller.abort();
    expect(await sent).toBe(26);
    expect(await s.call('inc', 0)).toBe(26);
  });

  it('aborts a queued callMany as a whole', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1 });
    const s = pool.session('s');
    const controller = new AbortController();
    const before = s.callMany('inc', [1, 1]);
    const aborted = s.with({ signal: controller.signal }).callMany('inc', Int32Array.of(100, 100, 100));
    const after = s.callMany('inc', [[1], [1]]);
    controller.abort();
    expectAborted(await rejection(aborted), 's');
    expect(await before).toEqual([21, 22]);
    expect(await after).toEqual([23, 24]);
  });

  it('removes its abort listener once the call settles', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 1 });
    const s = pool.session('s');
    const controller = new AbortController();
    const added = vi.spyOn(controller.signal, 'addEventListener');
    const removed = vi.spyOn(controller.signal, 'removeEventListener');
    const calls = s.with({ signal: controller.signal });
    expect(await calls.call('inc', 1)).toBe(21);
    expect((await rejection(calls.call('boom'))).code).toBe('ERR_REACTOR_TRAP');
    expect(added).toHaveBeenCalledTimes(2);
    expect(removed).toHaveBeenCalledTimes(2);
    for (let i = 0; i < 2; i++) {
      expect(removed.mock.calls[i]?.[0]).toBe('abort');
      expect(removed.mock.calls[i]?.[1]).toBe(added.mock.calls[i]?.[1]);
    }
    controller.abort();
    expect(await s.call('inc', 0)).toBe(1021);
  });
});

describe('session.with() options', () => {
  const bad: [string, unknown, RegExp][] = [
    ['signal not an AbortSignal', { signal: 'x' }, /`signal` to be an AbortSignal, got `"x"` \(string\)/],
    ['signal an AbortController', { signal: new AbortController() }, /`signal` to be an AbortSignal/],
    ['signal posing as an AbortSignal', { signal: Object.create(AbortSignal.prototype) }, /`signal` to be an AbortSignal/],
    ['signal a throwing Proxy', { signal: new Proxy(new AbortController().signal, { get: () => { throw new Error('no'); } }) }, /`signal` to be an AbortSignal/],
    ['timeout 0', { timeout: 0 }, /`timeout` to be an integer from 1 to 2147483647 \(milliseconds\) or Infinity, got `0` \(number\)/],
    ['timeout -5', { timeout: -5 }, /`timeout` .* got `-5` \(number\)/],
    ['timeout 1.5', { timeout: 1.5 }, /`timeout` .* got `1.5` \(number\)/],
    ["timeout 'x'", { timeout: 'x' }, /`timeout` .* got `"x"` \(string\)/],
    ['unknown key', { signal: undefined, retries: 3 }, /Unknown call option `retries` \(known: signal, timeout, result, idempotencyKey\)/],
    ['options null', null, /call options to be an object, got `null` \(null\)/],
  ];
  for (const [name, options, message] of bad) {
    it(`throws ERR_INVALID_OPTION synchronously for ${name}`, async () => {
      const pool = await createPool({ module: REACTOR, workers: 1 });
      const s = pool.session('s');
      const error = thrown(() => s.with(options as CallOptions));
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error.code).toBe('ERR_INVALID_OPTION');
      expect(error.message).toMatch(message);
      expect(await s.call('inc', 1)).toBe(21);
    });
  }

  it('accepts timeout: Infinity and an empty options object', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1, callTimeout: 60_000 });
    const s = pool.session('s');
    expect(await s.with({ timeout: Infinity }).call('inc', 1)).toBe(21);
    expect(await s.with({}).call('inc', 1)).toBe(22);
  });
});
