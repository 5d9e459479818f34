// When the pool itself stops during a load test (its `failed` event: a worker hit the restart limit),
// the run makes no more calls, reports what it measured until then and why it stopped, writes the
// JSON report and ends with exit code 1. Run in-process on a pool the test owns, to crash its worker.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTestOn, type LoadTestArgs } from '../dist/src/cli/load-test-command.js';
import type { LoadTestReport } from '../dist/src/cli/load-test-report.js';
import { KITCHEN } from './helpers/fixtures.js';
import { createPool, terminateWorker } from './helpers/pool.js';

const out = mkdtempSync(join(tmpdir(), 'reactor-pool-load-stop-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('a load test whose pool stops', () => {
  it('stops making calls, reports what was measured and why, writes the JSON and exits 1', async () => {
    const pool = await createPool({ module: KITCHEN, workers: 1, maxRestarts: 0 });
    const json = join(out, 'stopped.json');
    const args: LoadTestArgs = {
      module: KITCHEN, calls: ['inc:1', 'spin'], sessions: 1, concurrency: 1, durationSeconds: undefined, totalCalls: 1000,
      workers: 1, pool: { isolation: 'session', callTimeout: Number.POSITIVE_INFINITY, memoryLimit: Number.POSITIVE_INFINITY, onTrap: 'keep' },
      wasi: {}, result: { modeOf: () => 'value', named: new Map() }, json,
    };
    const lines: string[] = [];
    const warnings: string[] = [];
    let crashed: Promise<void> | undefined;
    const exitCode = await loadTestOn(pool, args, {
      write: (line) => lines.push(line),
      warn: (line) => {
        warnings.push(line);
        // One call in flight: once progress counts 2 calls, inc has succeeded and spin (which never
        // returns) holds the only worker. A crash there is one more than maxRestarts: 0 allows.
        if (crashed === undefined && line.startsWith('[') && line.includes(' 2 calls,')) crashed = terminateWorker(pool, 0);
      },
    });
    await crashed;

    expect(exitCode).toBe(1);
    const report = JSON.parse(readFileSync(json, 'utf8')) as LoadTestReport;
    expect({ calls: report.calls, failed: report.failed, codes: Object.keys(report.errors), stoppedBy: report.stoppedBy?.code })
      .toEqual({ calls: 2, failed: 1, codes: ['ERR_WORKER_FAILED'], stoppedBy: 'ERR_RESTART_LIMIT' });
    expect(report.stoppedBy?.message).toContain('maxRestarts: 0');
    // The inc that succeeded before the crash was measured.
    expect(report.latencyMs.p50).toBeGreaterThan(0);
    expect(lines).toContain('  stopped early: the pool stopped (ERR_RESTART_LIMIT); no calls were made after it');
    expect(lines).toContain('  failed: 1 (ERR_WORKER_FAILED ×1)');
    expect(warnings.at(-1)).toMatch(/^error \[ERR_RESTART_LIMIT\]: the pool stopped after 2 calls, ending the run early: worker 0 died 1 times in a row/);
  });
});
