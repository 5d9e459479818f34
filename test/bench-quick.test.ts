// The repository's comparison benchmark with `--quick` (`npm run bench -- --quick`) as CI runs it: the
// compiled bench/ (npm run build:bench), into a temporary directory. Checks that it exits 0, writes its
// files and that every scenario's results were correct; never timings.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchRun } from '../dist/bench/src/results.js';
import { natsAvailable } from './helpers/nats-server.js';

const BENCH = fileURLToPath(new URL('../dist/bench/src/main.js', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'reactor-pool-bench-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

function bench(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BENCH, ...args], { encoding: 'utf8', timeout: 55_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('npm run bench -- --quick', () => {
  it('runs every scenario, checks every result and writes JSON, markdown and SVG', () => {
    const run = bench('--quick', '--out', out);
    expect(run.stderr).not.toMatch(/error \[/);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('targets (ratios from this run):');
    expect(run.stderr).toMatch(/\[ ?1\/\d+\] direct in-thread inc\(\)/); // progress while it runs

    const files = readdirSync(out);
    expect(files).toEqual(expect.arrayContaining(['latest.json', 'latest.md', 'latest.svg']));
    expect(files.filter((name) => /^\d{4}-\d\d-\d\dT[\d-]+Z\.json$/.test(name))).toHaveLength(1);

    const result = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as BenchRun;
    expect(result.quick).toBe(true);
    expect(result.correct).toBe(true);
    expect(result.machine.node).toBe(process.version);
    const ids = new Set(result.scenarios.map((s) => s.id));
    for (const id of ['direct', 'naive-piscina', 'comlink', 'bare-ring', 'per-call', 'bulk', 'latency-pool', 'latency-postmessage',
      'activations-pool', 'activations-raw', 'wazero', 'per-call-durable', 'latency-durable', 'recovery-durable', 'per-call-cluster', 'latency-cluster'] as const) {
      expect(ids.has(id), id).toBe(true);
    }
    // The bare ring runs at the per-call scenario's worker counts, and the per-call target compares the two.
    const countsOf = (id: string): number[] => result.scenarios.filter((s) => s.id === id).map((s) => s.workers);
    expect(countsOf('bare-ring')).toEqual(result.scaling);
    expect(countsOf('per-call')).toEqual(result.scaling);
    expect(result.targets.map((t) => t.name)).toContain(`per-call vs bare ring (${result.workers} worker${result.workers === 1 ? '' : 's'} each)`);
    for (const scenario of result.scenarios) {
      if (scenario.id === 'wazero' && scenario.status === 'skipped') continue; // no Go toolchain here
      if (scenario.id.endsWith('-cluster') && scenario.status === 'skipped' && !natsAvailable()) continue; // no nats-server here
      expect({ id: scenario.id, workers: scenario.workers, status: scenario.status, correct: scenario.correct, note: scenario.note })
        .toEqual({ id: scenario.id, workers: scenario.workers, status: 'ok', correct: true, note: scenario.note });
      expect(scenario.checked).toBeGreaterThan(0);
      expect(scenario.opsPerSecond).toBeGreaterThan(0);
    }
    expect(result.targets.map((t) => t.verdict).every((v) => ['pass', 'short', 'n/a'].includes(v))).toBe(true);
    // Durable sessions: the same load checked, and recovery after kill -9 of every session the child built (each value checked).
    expect(result.targets.map((t) => t.name)).toEqual(expect.arrayContaining(['per-call durable vs per-call (same workers)', 'p50 latency of a durable call']));
    const recovery = result.scenarios.find((s) => s.id === 'recovery-durable');
    expect(recovery?.checked).toBe(300);
    expect(recovery?.recovery?.sessions).toBe(300);
    expect(recovery?.recovery?.bytesPerSession).toBeGreaterThan(0);

    expect(readFileSync(join(out, 'latest.md'), 'utf8')).toMatch(/^# reactor-pool benchmark[^]*\| scenario \| workers \|/);
    const svg = readFileSync(join(out, 'latest.svg'), 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('reactor-pool bulk');
    expect(readFileSync(join(out, 'latest.md'), 'utf8')).toMatch(/## Recovery after kill -9\n\n- 300 sessions: pool open /);
  }, 60_000);

  it('validates its options like the other commands', () => {
    const bad = bench('--workers', '0');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^error \[ERR_INVALID_OPTION\]: Expected --workers to be an integer from 1 to 256/);
    expect(bench('--frobnicate').status).toBe(2);
    const help = bench('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: npm run bench -- \[module\] \[--quick\] \[--workers N\] \[--out DIR\]/);
  });
});
