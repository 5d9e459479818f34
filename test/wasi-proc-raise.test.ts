// proc_raise never signals the process: any signal surfaces as ERR_REACTOR_SIGNAL on the session
// that raised it, which is lost like after proc_exit; the host and every other session carry on.

import { describe, expect, it } from 'vitest';
import type { SessionLostEvent } from '../dist/src/index.js';
import { PACKAGE, reportOf, runHost } from './helpers/child-host.js';
import { SURFACE } from './helpers/guest-memory.js';
import { createPool, rejection } from './helpers/pool.js';

const SIGNALS = [9, 15, 2, 10] as const; // SIGKILL, SIGTERM, SIGINT, SIGUSR1 (which would open the inspector)

describe('proc_raise', () => {
  it('rejects ERR_REACTOR_SIGNAL with the signal, loses only that session, and fires sessionLost once', async () => {
    const pool = await createPool({ module: SURFACE, workers: 1 });
    const lost: SessionLostEvent[] = [];
    pool.on('sessionLost', (event) => lost.push(event));
    const keeper = pool.session('keeper');
    await keeper.call('store32', 4096, 1234);
    for (const signal of SIGNALS) {
      const session = pool.session(`raiser-${signal}`);
      const error = await rejection(session.call('call_proc_raise', signal));
      expect(error.code).toBe('ERR_REACTOR_SIGNAL');
      expect(error.name).toBe('ReactorSignalError');
      expect(error['signal']).toBe(signal);
      expect(error['exportName']).toBe('call_proc_raise');
      const after = await rejection(session.call('call_sched_yield'));
      expect(after.code).toBe('ERR_SESSION_LOST');
      expect((after.cause as { code?: string }).code).toBe('ERR_REACTOR_SIGNAL');
      await session.reset();
      expect(await session.call('call_sched_yield')).toBe(0);
    }
    expect(lost.map((event) => [event.key, event.cause.code])).toEqual(
      SIGNALS.map((signal) => [`raiser-${signal}`, 'ERR_REACTOR_SIGNAL']));
    expect(await keeper.call('load32', 4096)).toBe(1234);
  });

  it('leaves the host process running: no SIGKILL, SIGTERM, SIGINT, nor an inspector from SIGUSR1', async () => {
    const run = await runHost(`
      import { ReactorPool } from ${JSON.stringify(PACKAGE)};
      const pool = await ReactorPool.create({ module: ${JSON.stringify(SURFACE)}, workers: 2, stdout: 'ignore', stderr: 'ignore' });
      const keeper = pool.session('keeper');
      await keeper.call('store32', 4096, 1234);
      const codes = [];
      for (const signal of ${JSON.stringify(SIGNALS)}) {
        codes.push(await pool.session('raiser-' + signal).call('call_proc_raise', signal).then(() => 'resolved', (e) => e.code + ':' + e.signal));
      }
      const kept = await keeper.call('load32', 4096);
      await pool.close();
      console.log(JSON.stringify({ codes, kept }));
    `);
    expect(run.signal).toBeNull();
    expect(run.stderr).not.toMatch(/Debugger listening/);
    expect(run.exitCode).toBe(0);
    expect(reportOf(run)).toEqual({ codes: SIGNALS.map((signal) => `ERR_REACTOR_SIGNAL:${signal}`), kept: 1234 });
  });
});
