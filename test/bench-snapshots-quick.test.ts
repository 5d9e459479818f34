// The snapshot benchmark with `--quick` (`npm run bench:snapshots -- --quick`): the compiled bench/
// (npm run build:bench), into a temporary directory. Checks that it exits 0, writes its files, that
// every toolchain round-tripped and no session was lost or wrong; never timings.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const BENCH = fileURLToPath(new URL('../dist/bench/src/snapshots-main.js', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'reactor-pool-bench-snapshots-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

interface SnapshotRun {
  readonly quick: boolean;
  readonly toolchains: readonly { readonly name: string; readonly bytes: number }[];
  readonly capacity: { readonly sessions: number; readonly wrong: number; readonly storeBytesPerSession: number };
  readonly moves: { readonly recycles: number; readonly lost: number; readonly wrong: number };
}

describe('npm run bench:snapshots -- --quick', () => {
  it('measures every toolchain, serves its sessions exactly and moves them without loss', () => {
    const run = spawnSync(process.execPath, [BENCH, '--quick', '--sessions', '3000', '--out', out], { encoding: 'utf8', timeout: 120_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/\| go \| \d+ \|/);
    const result = JSON.parse(readFileSync(join(out, 'snapshots-latest.json'), 'utf8')) as SnapshotRun;
    expect(result.quick).toBe(true);
    expect(result.toolchains.map((t) => t.name)).toEqual(['reference (Zig)', 'zig', 'c', 'go', 'rust']);
    expect(result.toolchains.every((t) => t.bytes > 60)).toBe(true);
    expect(result.capacity).toMatchObject({ sessions: 3000, wrong: 0 });
    expect(result.capacity.storeBytesPerSession).toBeGreaterThan(0);
    expect(result.moves).toMatchObject({ lost: 0, wrong: 0 });
    expect(readFileSync(join(out, 'snapshots-latest.md'), 'utf8')).toContain('# Snapshots and hibernation');
  });

  it('refuses an unknown argument and a bad --sessions with exit code 2', () => {
    for (const args of [['--nope'], ['--sessions', '0'], ['--sessions', 'many']]) {
      const run = spawnSync(process.execPath, [BENCH, ...args], { encoding: 'utf8', timeout: 30_000 });
      expect(run.status).toBe(2);
    }
  });
});
