// `reactor-pool bench` passes --isolation, --timeout, --memory-limit and --on-trap to the pool: each
// changes which calls fail and with what code, and the report's configuration names them. One call in
// flight and one worker, so which call fails is fixed by the plan, not by timing.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LoadTestReport } from '../dist/src/cli/load-test-report.js';
import { cli } from './helpers/cli.js';
import { KITCHEN } from './helpers/fixtures.js';

const out = mkdtempSync(join(tmpdir(), 'reactor-pool-load-options-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Runs a load test one call at a time on one worker; returns its exit status and JSON report. */
function bench(name: string, ...args: string[]): { status: number | null; stdout: string; report: LoadTestReport } {
  const json = join(out, `${name}.json`);
  const run = cli('bench', KITCHEN, '--concurrency', '1', '--workers', '1', '--json', json, ...args);
  return { status: run.status, stdout: run.stdout, report: JSON.parse(readFileSync(json, 'utf8')) as LoadTestReport };
}

const counts = (report: LoadTestReport): Record<string, number> =>
  Object.fromEntries(Object.entries(report.errors).map(([code, tally]) => [code, tally.count]));

describe('reactor-pool bench pool options', () => {
  it('--on-trap lose loses a trapping session (later calls ERR_SESSION_LOST); keep and reset go on calling it', () => {
    // One session: inc, boom (traps), inc, boom, inc, boom.
    const plan = ['--call', 'inc:1', '--call', 'boom', '--calls', '6', '--sessions', '1'];
    const lose = bench('lose', ...plan, '--on-trap', 'lose');
    expect(lose.status).toBe(1);
    expect(counts(lose.report)).toEqual({ ERR_REACTOR_TRAP: 1, ERR_SESSION_LOST: 4 });
    expect(lose.report.options.onTrap).toBe('lose');
    for (const policy of ['keep', 'reset']) {
      const run = bench(policy, ...plan, '--on-trap', policy);
      expect(counts(run.report), policy).toEqual({ ERR_REACTOR_TRAP: 3 });
      expect(run.report.options.onTrap).toBe(policy);
    }
  });

  it('--isolation worker shares one instance per worker: a trap under --on-trap lose loses every session on it', () => {
    // Sessions 0 and 1 call inc, then session 0's boom traps; session 1's boom then finds its instance gone.
    const plan = ['--call', 'inc:1', '--call', 'boom', '--calls', '4', '--sessions', '2', '--on-trap', 'lose'];
    const shared = bench('worker', ...plan, '--isolation', 'worker');
    expect(counts(shared.report)).toEqual({ ERR_REACTOR_TRAP: 1, ERR_SESSION_LOST: 1 });
    expect(shared.report.options.isolation).toBe('worker');
    expect(shared.stdout).toContain('\n  pool: isolation worker, on trap lose, call timeout none, memory limit none\n');
    const own = bench('session', ...plan, '--isolation', 'session');
    expect(counts(own.report)).toEqual({ ERR_REACTOR_TRAP: 2 });
  });

  it('--timeout stops a runaway call (ERR_CALL_TIMEOUT) and its session is lost; the run goes on to its bound', () => {
    const run = bench('timeout', '--call', 'inc:1', '--call', 'spin', '--calls', '6', '--sessions', '1', '--timeout', '100');
    expect(run.status).toBe(1);
    expect({ calls: run.report.calls, errors: counts(run.report), stoppedBy: run.report.stoppedBy })
      .toEqual({ calls: 6, errors: { ERR_CALL_TIMEOUT: 1, ERR_SESSION_LOST: 4 }, stoppedBy: null });
    expect(run.report.errors['ERR_SESSION_LOST']?.example).toContain('ERR_CALL_TIMEOUT');
    expect(run.report.options.callTimeoutMs).toBe(100);
    expect(run.stdout).toContain(', call timeout 100 ms,');
  });

  it('--memory-limit takes a KiB/MiB/GiB suffix: an instance growing past it fails ERR_MEMORY_LIMIT', () => {
    // kitchen.wasm starts with 128 KiB; grow:1 makes it 192 KiB, over 160 KiB.
    const run = bench('memory', '--call', 'grow:1', '--calls', '4', '--sessions', '2', '--memory-limit', '160KiB');
    expect(counts(run.report)).toEqual({ ERR_MEMORY_LIMIT: 2, ERR_SESSION_LOST: 2 });
    expect(run.report.options.memoryLimitBytes).toBe(160 * 1024);
    expect(run.stdout).toContain(', memory limit 160 KiB\n');
    const roomy = bench('roomy', '--call', 'grow:1', '--calls', '2', '--sessions', '2', '--memory-limit', '1MiB');
    expect({ status: roomy.status, errors: roomy.report.errors, limit: roomy.report.options.memoryLimitBytes })
      .toEqual({ status: 0, errors: {}, limit: 2 ** 20 });
  });
});
