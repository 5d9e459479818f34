// A load test whose calls fail on some inputs counts the failures by error code, with a first message
// each, and makes every call of its plan: failures do not stop the run (only the pool stopping does).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LoadTestReport } from '../dist/src/cli/load-test-report.js';
import { cli } from './helpers/cli.js';
import { KITCHEN, fixture } from './helpers/fixtures.js';

const out = mkdtempSync(join(tmpdir(), 'reactor-pool-load-failures-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('reactor-pool bench with failing calls', () => {
  it('counts calls that trap on some inputs by code and runs every call of the plan', () => {
    const json = join(out, 'traps.json');
    // alloc-dealloc.wasm's `dealloc(ptr, size)` traps when `size` is not the one stored before `ptr`
    // (0 in fresh memory): dealloc:4,0 succeeds, dealloc:4,1 traps. 3 sessions × 4 calls, half of them traps.
    const run = cli('bench', fixture('alloc-dealloc.wasm'), '--call', 'dealloc:4,0', '--call', 'dealloc:4,1',
      '--calls', '12', '--sessions', '3', '--concurrency', '5', '--workers', '2', '--json', json);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('\n  12 calls in ');
    expect(run.stdout).toContain('\n  failed: 6 (ERR_REACTOR_TRAP ×6)\n');
    expect(run.stderr).toMatch(/^error: 6 of 12 calls failed: ERR_REACTOR_TRAP ×6 \(first: session "load-\d": export `dealloc` trapped: unreachable\)$/m);
    const report = JSON.parse(readFileSync(json, 'utf8')) as LoadTestReport;
    expect({ calls: report.calls, failed: report.failed, stoppedBy: report.stoppedBy }).toEqual({ calls: 12, failed: 6, stoppedBy: null });
    expect(report.errors).toEqual({ ERR_REACTOR_TRAP: { count: 6, example: expect.stringContaining('export `dealloc` trapped') as unknown } });
    // The successful half was measured.
    expect(report.latencyMs.p50).toBeGreaterThan(0);
  });

  it('counts each code apart: an exit loses the session, its later calls fail ERR_SESSION_LOST', () => {
    const json = join(out, 'exit.json');
    // Each of 2 sessions: inc, quit(3) (proc_exit: ERR_REACTOR_EXIT), then inc and quit find it lost.
    const run = cli('bench', KITCHEN, '--call', 'inc:1', '--call', 'quit:3', '--calls', '8', '--sessions', '2',
      '--concurrency', '1', '--workers', '1', '--json', json);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('\n  failed: 6 (ERR_REACTOR_EXIT ×2, ERR_SESSION_LOST ×4)\n');
    const report = JSON.parse(readFileSync(json, 'utf8')) as LoadTestReport;
    expect(Object.fromEntries(Object.entries(report.errors).map(([code, t]) => [code, t.count])))
      .toEqual({ ERR_REACTOR_EXIT: 2, ERR_SESSION_LOST: 4 });
    expect(report.errors['ERR_REACTOR_EXIT']?.example).toContain('proc_exit(3)');
    expect({ calls: report.calls, stoppedBy: report.stoppedBy }).toEqual({ calls: 8, stoppedBy: null });
  });
});
