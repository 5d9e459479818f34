// Many queued calls sharing one AbortSignal share one 'abort' listener: no MaxListenersExceededWarning,
// every call aborts (or settles) as if alone, and the listener is gone once the last call settles.

import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Session } from '../dist/src/index.js';
import { KITCHEN } from './helpers/fixtures.js';
import { createPool, rejection } from './helpers/pool.js';

const CALLS = 200;
let warnings: Error[] = [];
const collect = (warning: Error): void => {
  warnings.push(warning);
};

beforeEach(() => {
  warnings = [];
  process.on('warning', collect);
});
afterEach(() => {
  process.off('warning', collect);
});

/** Lets `process.emitWarning`, which reports on the next tick, report anything it was given. */
const warningsDelivered = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('calls sharing one AbortSignal', () => {
  it(`${CALLS} queued calls over 20 sessions: one listener, all ERR_ABORTED, no warning, listener removed`, async () => {
    const pool = await createPool({ module: KITCHEN, workers: 2 });
    const controller = new AbortController();
    const sessions = Array.from({ length: 20 }, (_, i) => pool.session(`s${i}`));
    const calls = Array.from({ length: CALLS }, (_, i) => {
      const session = sessions[i % sessions.length] as Session;
      return i % 2 === 0 ? session.with({ signal: controller.signal }).call('inc', 1) : session.with({ signal: controller.signal }).callMany('inc', [1]);
    });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort();
    const errors = await Promise.all(calls.map((call) => rejection(call)));
    expect(errors.map((error) => error.code)).toEqual(new Array(CALLS).fill('ERR_ABORTED'));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    // Nothing ran: each session's state is its initial 20.
    expect(await Promise.all(sessions.map((session) => session.call('get')))).toEqual(new Array(20).fill(20));
    await warningsDelivered();
    expect(warnings.map((warning) => warning.name)).toEqual([]);
  });

  it(`${CALLS} calls that settle on their own remove the listener with the last of them`, async () => {
    const pool = await createPool({ module: KITCHEN, workers: 2 });
    const controller = new AbortController();
    const session = pool.session('one');
    const calls = Array.from({ length: CALLS }, () => session.with({ signal: controller.signal }).call('inc', 1));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    const results = await Promise.all(calls);
    expect(results).toEqual(Array.from({ length: CALLS }, (_, i) => 21 + i));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    // A later call adds it again, and aborting now affects nothing that already ran.
    const late = session.with({ signal: controller.signal }).call('inc', 1);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    expect(await late).toBe(20 + CALLS + 1);
    controller.abort();
    expect(await session.call('get')).toBe(20 + CALLS + 1);
    await warningsDelivered();
    expect(warnings.map((warning) => warning.name)).toEqual([]);
  });

  it('one listener for the calls of two pools: aborting rejects the queued calls of both', async () => {
    const [a, b] = await Promise.all([createPool({ module: KITCHEN, workers: 1 }), createPool({ module: KITCHEN, workers: 1 })]);
    const controller = new AbortController();
    const calls = [a, b].flatMap((pool) => Array.from({ length: 20 }, (_, i) => pool.session(`k${i}`).with({ signal: controller.signal }).call('inc', 1)));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort();
    expect((await Promise.all(calls.map((call) => rejection(call)))).every((error) => error.code === 'ERR_ABORTED')).toBe(true);
    await warningsDelivered();
    expect(warnings).toEqual([]);
  });
});
