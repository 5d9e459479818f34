// onTrap: 'reset' resets after traps of export calls only: an instance that cannot start is reported
// once (one sessionLost, the call rejects with the start's error) and stays lost until reset().

import { describe, expect, it } from 'vitest';
import type { SessionLostEvent } from '../dist/src/index.js';
import { fixture } from './helpers/fixtures.js';
import { createPool, rejection } from './helpers/pool.js';

const INIT_TRAP = fixture('init-trap.wasm');

describe("onTrap: 'reset' and a start that fails", () => {
  it('reports the failed start once and never retries it by itself', async () => {
    const pool = await createPool({ module: INIT_TRAP, workers: 1, onTrap: 'reset' });
    const lost: SessionLostEvent[] = [];
    pool.on('sessionLost', (event) => lost.push(event));
    const session = pool.session('s');

    const error = await rejection(session.call('inc', 1));
    expect(error.code).toBe('ERR_REACTOR_TRAP');
    expect(error['exportName']).toBe('_initialize');
    expect(error.message).toContain('starting the instance failed');

    // Handshake: any reset the pool queued for 's' ran on this one worker before this call does.
    expect((await rejection(pool.session('probe').call('inc', 1))).code).toBe('ERR_REACTOR_TRAP');
    expect(lost.filter((event) => event.key === 's').map((event) => event.cause.code)).toEqual(['ERR_REACTOR_TRAP']);
    expect(session.lost).toBe(true);
    expect(pool.stats()).toMatchObject({ pending: 0, lostSessions: 2 });

    const later = await rejection(session.call('inc', 1));
    expect(later.code).toBe('ERR_SESSION_LOST');
    expect((later.cause as { code: string }).code).toBe('ERR_REACTOR_TRAP');

    // The user's own reset tries again, once: it fails the same way and is reported once more.
    expect((await rejection(session.reset())).code).toBe('ERR_REACTOR_TRAP');
    expect((await rejection(pool.session('probe-2').call('inc', 1))).code).toBe('ERR_REACTOR_TRAP');
    expect(lost.filter((event) => event.key === 's')).toHaveLength(2);
    expect(session.lost).toBe(true);
    expect(pool.stats().pending).toBe(0);
  });

  it('fails every call queued behind the failed start and leaves the worker free for others', async () => {
    const pool = await createPool({ module: INIT_TRAP, workers: 1, onTrap: 'reset' });
    let lostCount = 0;
    pool.on('sessionLost', () => lostCount++);
    const session = pool.session('s');
    const results = await Promise.allSettled([session.call('inc', 1), session.call('inc', 2), session.callMany('inc', [1, 2])]);
    const codes = results.map((result) => (result.status === 'rejected' ? (result.reason as { code: string }).code : 'fulfilled'));
    expect(codes).toEqual(['ERR_REACTOR_TRAP', 'ERR_SESSION_LOST', 'ERR_SESSION_LOST']);
    expect((await rejection(pool.session('other').call('inc', 1))).code).toBe('ERR_REACTOR_TRAP');
    expect(lostCount).toBe(2);
    expect(pool.stats().pending).toBe(0);
  });
});
