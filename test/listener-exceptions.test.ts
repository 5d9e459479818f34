// A throwing `sessionLost`, `workerFailed` or `failed` listener never stops the pool from settling
// calls: every call settles, every other listener runs, then the error is re-thrown asynchronously.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Session } from '../dist/src/index.js';
import { KITCHEN } from './helpers/fixtures.js';
import { createPool, keysOn, terminateWorker } from './helpers/pool.js';

/** Uncaught exceptions seen during a test, instead of the test runner's own handlers. */
let uncaught: unknown[] = [];
let runnerHandlers: NodeJS.UncaughtExceptionListener[] = [];
const record = (error: unknown): void => {
  uncaught.push(error);
};

beforeEach(() => {
  uncaught = [];
  runnerHandlers = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  process.on('uncaughtException', record);
});

afterEach(() => {
  process.removeListener('uncaughtException', record);
  for (const handler of runnerHandlers) process.on('uncaughtException', handler);
});

/** One turn of the event loop: what was re-thrown asynchronously has been thrown by then. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function codesOf(results: PromiseSettledResult<unknown>[]): string[] {
  return results.map((result) => (result.status === 'rejected' ? (result.reason as { code: string }).code : 'fulfilled'));
}

describe('throwing listeners', () => {
  it('sessionLost: the rest of the batch settles, the next listener runs, the error surfaces once per throw', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 1, onTrap: 'lose' });
    const seen: string[] = [];
    pool.on('sessionLost', (event) => {
      throw new Error(`listener failed for ${event.key}`);
    });
    pool.on('sessionLost', (event) => seen.push(event.key));
    const [a, b, c] = ['a', 'b', 'c'].map((key) => pool.session(key)) as [Session, Session, Session];
    // One batch: two traps (two losses, two throws) among calls of other sessions and calls queued behind them.
    const results = await Promise.allSettled([
      a.call('inc', 1), a.call('boom'), a.call('inc', 1), b.call('inc', 2), c.call('boom'), c.call('inc', 1), b.call('inc', 3),
    ]);
    expect(codesOf(results)).toEqual([
      'fulfilled', 'ERR_REACTOR_TRAP', 'ERR_SESSION_LOST', 'fulfilled', 'ERR_REACTOR_TRAP', 'ERR_SESSION_LOST', 'fulfilled',
    ]);
    expect((results[6] as PromiseFulfilledResult<number>).value).toBe(25);
    expect(seen).toEqual(['a', 'c']);
    await nextTurn();
    expect(uncaught.map((error) => (error as Error).message)).toEqual(['listener failed for a', 'listener failed for c']);
    expect(pool.stats()).toMatchObject({ pending: 0, lostSessions: 2 });
    expect(await b.call('inc', 0)).toBe(25);
  });

  it('sessionLost under onTrap: \'reset\': the pool still resets the session', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 1, onTrap: 'reset' });
    pool.on('sessionLost', () => {
      throw new Error('listener failed');
    });
    const session = pool.session('s');
    const results = await Promise.allSettled([session.call('boom'), session.call('inc', 1)]);
    expect(codesOf(results)).toEqual(['ERR_REACTOR_TRAP', 'ERR_SESSION_LOST']);
    expect(await session.call('inc', 1)).toBe(21);
    await nextTurn();
    expect(uncaught).toHaveLength(1);
  });

  it('workerFailed: calls on the dead worker settle, and a close() draining them finishes', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 2 });
    pool.on('workerFailed', () => {
      throw new Error('workerFailed listener failed');
    });
    const lost: string[] = [];
    pool.on('sessionLost', (event) => lost.push(event.key));
    const [spinner, idle] = keysOn(pool, 0, 2, 'w0-').map((key) => pool.session(key)) as [Session, Session];
    const elsewhere = pool.session(keysOn(pool, 1, 1, 'w1-')[0] as string);
    expect(await idle.call('inc', 1)).toBe(21);
    // The spinner's instance exists before its runaway call: it is lost with the thread whether or not
    // the thread took that call before it died (a session whose start never reached a thread is not).
    expect(await spinner.call('inc', 0)).toBe(20);
    expect(await elsewhere.call('inc', 2)).toBe(22);
    const settled = Promise.allSettled([spinner.call('spin'), idle.call('inc', 1), elsewhere.call('inc', 1)]);
    // close() waits for the spinning call; only the worker's death (and its bookkeeping) ends the wait.
    const closing = pool.close();
    await terminateWorker(pool, 0);
    expect(codesOf(await settled)).toEqual(['ERR_WORKER_FAILED', 'ERR_WORKER_FAILED', 'fulfilled']);
    await closing;
    expect(lost).toEqual(expect.arrayContaining([spinner.key, idle.key]));
    await nextTurn();
    expect(uncaught.map((error) => (error as Error).message)).toEqual(['workerFailed listener failed']);
  });

  it('workerFailed and failed: the restart limit still stops the pool', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 1, maxRestarts: 0 });
    pool.on('workerFailed', () => {
      throw new Error('workerFailed listener failed');
    });
    pool.on('failed', () => {
      throw new Error('failed listener failed');
    });
    const stopped: string[] = [];
    pool.on('failed', (event) => stopped.push(event.cause.code));
    const spinning = pool.session('spinner').call('spin');
    const queued = pool.session('queued').call('inc', 1);
    const settled = Promise.allSettled([spinning, queued]);
    await terminateWorker(pool, 0);
    const codes = codesOf(await settled);
    expect(codes[0]).toBe('ERR_WORKER_FAILED');
    expect(['ERR_WORKER_FAILED', 'ERR_RESTART_LIMIT']).toContain(codes[1]);
    expect(stopped).toEqual(['ERR_RESTART_LIMIT']);
    await nextTurn();
    expect(uncaught.map((error) => (error as Error).message).sort()).toEqual(['failed listener failed', 'workerFailed listener failed']);
    await expect(pool.session('spinner').call('inc', 1)).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
    await pool.close();
  });
});
