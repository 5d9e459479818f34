// The diagnostics channels: a call's trace (start, end, error, asyncStart, asyncEnd on one context
// object, with key, export, worker and timings) and the lifecycle channels, each with its message.

import diagnosticsChannel from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { CHANNELS, type CallMessage } from '../dist/src/index.js';
import { durableDir } from './helpers/durable-dir.js';
import { KITCHEN, REACTOR } from './helpers/fixtures.js';
import { createPool, rejection, terminateWorker } from './helpers/pool.js';
import { asNumber } from './helpers/results.js';

const unsubscribes: (() => void)[] = [];
afterEach(() => {
  for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
});

function traceCalls(): string[] {
  const seen: string[] = [];
  const handlers = {
    start: (m: CallMessage) => seen.push(`start ${m.key} ${m.kind} ${m.exportName} ${m.count}`),
    end: (m: CallMessage) => seen.push(`end ${m.key}`),
    asyncStart: (m: CallMessage) => seen.push(`asyncStart ${m.key} ${String(m.outcome)}`),
    asyncEnd: (m: CallMessage) => seen.push(`asyncEnd ${m.key}`),
    error: (m: CallMessage) => seen.push(`error ${m.key} ${String(m.outcome)}`),
  };
  const channel = diagnosticsChannel.tracingChannel<unknown, CallMessage>(CHANNELS.call);
  channel.subscribe(handlers);
  unsubscribes.push(() => channel.unsubscribe(handlers));
  return seen;
}

function listen(name: string): Record<string, unknown>[] {
  const messages: Record<string, unknown>[] = [];
  const onMessage = (message: unknown): void => {
    messages.push(message as Record<string, unknown>);
  };
  diagnosticsChannel.subscribe(name, onMessage);
  unsubscribes.push(() => diagnosticsChannel.unsubscribe(name, onMessage));
  return messages;
}

describe('the call TracingChannel', () => {
  it('publishes each call on one context object, in order, with its timings and outcome', async () => {
    const seen = traceCalls();
    const contexts: CallMessage[] = [];
    const onEnd = (m: unknown): void => {
      contexts.push(m as CallMessage);
    };
    diagnosticsChannel.subscribe(`tracing:${CHANNELS.call}:asyncEnd`, onEnd);
    unsubscribes.push(() => diagnosticsChannel.unsubscribe(`tracing:${CHANNELS.call}:asyncEnd`, onEnd));
    const pool = await createPool({ module: KITCHEN, workers: 2 });
    const a = pool.session('a');
    const value = asNumber(await a.call('inc', 2));
    await a.callMany('inc', [1, 2, 3]);
    expect((await rejection(a.call('boom'))).code).toBe('ERR_REACTOR_TRAP');
    expect(seen).toEqual([
      'start a call inc 1', 'end a', 'asyncStart a ok', 'asyncEnd a',
      'start a callMany inc 3', 'end a', 'asyncStart a ok', 'asyncEnd a',
      'start a call boom 1', 'end a', 'error a ERR_REACTOR_TRAP', 'asyncStart a ERR_REACTOR_TRAP', 'asyncEnd a',
    ]);
    const [first, , failed] = contexts as [CallMessage, CallMessage, CallMessage];
    expect(first).toMatchObject({ pool, key: 'a', exportName: 'inc', workerId: a.workerId, outcome: 'ok', result: value });
    expect(first.queuedAt).toBeLessThanOrEqual(first.dispatchedAt as number);
    expect(first.dispatchedAt as number).toBeLessThanOrEqual(first.settledAt as number);
    expect(failed.error).toMatchObject({ code: 'ERR_REACTOR_TRAP' });
  });

  it('builds nothing once nobody listens', async () => {
    const seen = traceCalls();
    const pool = await createPool({ module: REACTOR, workers: 1 });
    await pool.session('a').call('inc', 1);
    expect(seen).toHaveLength(4);
    for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
    expect(diagnosticsChannel.tracingChannel(CHANNELS.call).hasSubscribers).toBe(false);
    await pool.session('a').call('inc', 1);
    expect(seen).toHaveLength(4);
  });
});

describe('the lifecycle channels', () => {
  it('tell pools, workers and sessions coming and going', async () => {
    const created = listen(CHANNELS.poolCreated);
    const closed = listen(CHANNELS.poolClosed);
    const workersStarted = listen(CHANNELS.workerStarted);
    const workersFailed = listen(CHANNELS.workerFailed);
    const workersRecycled = listen(CHANNELS.workerRecycled);
    const sessionsCreated = listen(CHANNELS.sessionCreated);
    const sessionsLost = listen(CHANNELS.sessionLost);
    const sessionsClosed = listen(CHANNELS.sessionClosed);
    const pool = await createPool({ module: KITCHEN, workers: 1 });
    expect(created).toEqual([{ pool, workers: 1, isolation: 'session' }]);
    expect(workersStarted).toEqual([{ pool, workerId: 0, threadId: expect.any(Number) as number }]);
    const a = pool.session('a');
    expect(sessionsCreated).toEqual([{ pool, key: 'a', workerId: 0 }]);
    await a.call('inc', 1);
    await terminateWorker(pool, 0);
    expect(workersFailed).toMatchObject([{ pool, workerId: 0, cause: { code: 'ERR_WORKER_FAILED' } }]);
    expect(sessionsLost).toMatchObject([{ pool, key: 'a', cause: { code: 'ERR_WORKER_FAILED' } }]);
    await pool.recycleWorker(0);
    expect(workersRecycled).toEqual([{ pool, workerId: 0 }]);
    expect(workersStarted).toHaveLength(3);
    await a.close();
    // Published as the close settles: right after the caller's await resumes.
    await new Promise((resolve) => setImmediate(resolve));
    expect(sessionsClosed).toEqual([{ pool, key: 'a' }]);
    await pool.close();
    expect(closed).toMatchObject([{ pool, cause: { code: 'ERR_POOL_CLOSED' } }]);
  });

  it('tell sessions hibernating and restored', async () => {
    const hibernated = listen(CHANNELS.sessionHibernated);
    const restored = listen(CHANNELS.sessionRestored);
    const pool = await createPool({ module: REACTOR, workers: 1, maxActiveSessions: 1 });
    await pool.session('a').call('inc', 1);
    await pool.session('b').call('inc', 1);
    await pool.session('a').call('inc', 1);
    expect(hibernated[0]).toMatchObject({ pool, key: 'a', bytes: expect.any(Number) as number });
    expect(restored).toEqual([{ pool, key: 'a', workerId: 0 }]);
  });

  it('tell a durable session recovered after its worker died, and trace its calls once each', async () => {
    const recovered = listen(CHANNELS.sessionRecovered);
    const seen = traceCalls();
    const pool = await createPool({ module: REACTOR, workers: 1, durability: { dir: await durableDir() } });
    const a = pool.session('a');
    expect(await a.call('inc', 1)).toBe(21);
    await terminateWorker(pool, 0);
    expect(await a.call('inc', 1)).toBe(22);
    expect(recovered).toEqual([{ pool, key: 'a', workerId: 0, records: 1 }]);
    expect(seen.filter((line) => line.startsWith('start'))).toHaveLength(2);
    expect(seen.filter((line) => line.startsWith('asyncEnd'))).toHaveLength(2);
    expect(pool.metrics()).toMatchObject({ recoveries: 1, losses: 0, calls: { ok: 2 } });
  });
});
