// Shutdown leaves nothing behind: after close() (drains) or destroy() (rejects pending) under load
// and faults, the process exits by itself: no thread, timer or port left, no unhandled rejection.

import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { fixture } from './helpers/fixtures.js';

const DOCUMENTED = [
  'ok', 'ERR_CALL_TIMEOUT', 'ERR_REACTOR_TRAP', 'ERR_REACTOR_EXIT', 'ERR_MEMORY_LIMIT', 'ERR_ABORTED',
  'ERR_WORKER_FAILED', 'ERR_SESSION_LOST',
];

interface Outcome {
  readonly exitCode: number | null;
  readonly lines: readonly string[];
}

/** Runs the lifecycle script to its natural end (no process.exit in it) and collects its output. */
function runLifecycle(mode: 'close' | 'destroy'): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture('lifecycle.mjs'), mode], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('exit', (exitCode) => resolve({ exitCode, lines: out.trim().split('\n') }));
  });
}

describe('after shutdown the process exits by itself', () => {
  it('close(): every accepted call settles with a result or a documented code', async () => {
    const { exitCode, lines } = await runLifecycle('close');
    expect(exitCode).toBe(0);
    const report = JSON.parse(lines[0] as string) as { codes: Record<string, number>; stats: { pending: number } };
    // Which faults other calls meet depends on what shared a worker with the runaway call; every
    // outcome is a result or a documented code, and the runaway call and the aborted one are exact.
    for (const code of Object.keys(report.codes)) expect(DOCUMENTED).toContain(code);
    expect(report.codes['ERR_CALL_TIMEOUT']).toBe(1);
    expect(report.codes['ERR_ABORTED']).toBe(1);
    expect(report.codes['ok']).toBeGreaterThan(0);
    expect(Object.values(report.codes).reduce((a, b) => a + b, 0)).toBe(2005);
    expect(report.stats.pending).toBe(0);
    const { resources } = JSON.parse(lines[1] as string) as { resources: string[] };
    expect(resources.filter((r) => r !== 'TTYWrap' && r !== 'PipeWrap' && r !== 'Immediate')).toEqual([]);
    expect(lines.some((line) => line.startsWith('unhandled rejection'))).toBe(false);
  });

  it('destroy(): pending calls reject with ERR_POOL_CLOSED at once', async () => {
    const { exitCode, lines } = await runLifecycle('destroy');
    expect(exitCode).toBe(0);
    const report = JSON.parse(lines[0] as string) as { codes: Record<string, number> };
    expect(report.codes['ERR_POOL_CLOSED']).toBeGreaterThan(0);
    expect(Object.values(report.codes).reduce((a, b) => a + b, 0)).toBe(2005);
    const { resources } = JSON.parse(lines[1] as string) as { resources: string[] };
    expect(resources.filter((r) => r !== 'TTYWrap' && r !== 'PipeWrap' && r !== 'Immediate')).toEqual([]);
  });
});
