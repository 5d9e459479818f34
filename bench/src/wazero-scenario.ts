// The Go + wazero reference host (bench/wazero): built into a temporary directory and run on the
// same reactor when `go` is on PATH; reported as skipped otherwise, never failing the run for it.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { RunningTotals } from './check.js';
import type { ScenarioResult } from './results.js';
import { headOf, unmeasuredResult, type ScenarioContext, type ScenarioHead } from './scenario.js';

const run = promisify(execFile);

/** The Go module, relative to the package root (it is not shipped in the npm package). */
export const WAZERO_DIR = fileURLToPath(new URL('../../../bench/wazero/', import.meta.url));

const HEAD: ScenarioHead = headOf('wazero', 0);

/** What bench/wazero prints. */
interface WazeroReport {
  readonly wazeroVersion: string;
  readonly goVersion: string;
  readonly calls: number;
  readonly rounds: number;
  readonly callsPerSecond: number;
  readonly initial: number;
  readonly final: number;
  readonly expected: number;
  readonly correct: boolean;
}

/** The `go version` line, or undefined when `go` is not on PATH. */
export async function goVersion(): Promise<string | undefined> {
  try {
    return (await run('go', ['version'], { timeout: 30_000 })).stdout.trim();
  } catch {
    return undefined;
  }
}

/**
 * Builds and runs the wazero host: `inc(1)` in a loop, `calls` per round, the median round reported.
 * `buildTimeoutMs` bounds `go build` (the first build downloads and compiles wazero).
 */
export async function wazeroScenario(ctx: ScenarioContext, buildTimeoutMs: number): Promise<ScenarioResult> {
  if (!existsSync(join(WAZERO_DIR, 'go.mod'))) {
    return unmeasuredResult(HEAD, 'skipped', 'skipped: bench/wazero is not in this installation (it is not part of the npm package)');
  }
  if ((await goVersion()) === undefined) return unmeasuredResult(HEAD, 'skipped', 'skipped: go is not on PATH');
  const dir = await mkdtemp(join(tmpdir(), 'reactor-pool-wazero-'));
  try {
    const binary = join(dir, process.platform === 'win32' ? 'wazero-host.exe' : 'wazero-host');
    try {
      await run('go', ['build', '-o', binary, '.'], { cwd: WAZERO_DIR, timeout: buildTimeoutMs });
    } catch (error) {
      return unmeasuredResult(HEAD, 'skipped', `skipped: go build failed (${firstLine(error)})`);
    }
    const args = ['-calls', String(ctx.sizes.wazeroCalls), '-rounds', String(ctx.sizes.wazeroRounds), ctx.modulePath];
    let stdout: string;
    try {
      stdout = (await run(binary, args, { timeout: 120_000 })).stdout;
    } catch (error) {
      // Exit 1 with a report means a wrong result; anything else is a failure of the host itself.
      const printed = (error as { stdout?: string }).stdout;
      if (printed === undefined || !printed.trim().startsWith('{')) return unmeasuredResult(HEAD, 'failed', `wazero host failed: ${firstLine(error)}`);
      stdout = printed;
    }
    return resultFrom(JSON.parse(stdout) as WazeroReport, ctx);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function resultFrom(report: WazeroReport, ctx: ScenarioContext): ScenarioResult {
  const totals = new RunningTotals(1, ctx.initial);
  // The host checks each round's last value and the final total; the initial value is checked here.
  totals.record(report.rounds + 1, report.correct ? undefined : `expected ${report.expected}, got ${report.final}`);
  totals.check(0, ctx.initial, report.initial);
  const correct = totals.ok;
  return {
    ...HEAD,
    status: 'ok',
    correct,
    opsPerSecond: report.callsPerSecond > 0 ? report.callsPerSecond : null, // 0 when it stopped at a wrong value
    rme: null,
    samples: report.rounds,
    ops: report.calls,
    checked: totals.checked,
    latencyMs: null,
    note: correct
      ? `wazero ${report.wazeroVersion} (${report.goVersion}), CallWithStack loop of inc(1), median of ${report.rounds} round(s) of ${ctx.sizes.wazeroCalls.toLocaleString('en-US')}`
      : `WRONG: ${totals.firstWrong ?? 'unknown'}`,
  };
}

function firstLine(error: unknown): string {
  const stderr = (error as { stderr?: string }).stderr?.trim();
  const text = stderr !== undefined && stderr !== '' ? stderr : error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}
