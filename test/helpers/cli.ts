// Runs the built `reactor-pool` command in a child process, as a user would, bounded in time.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));

export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `reactor-pool ...args` to its end (killed after 25 s, which fails the test's status check). */
export function cli(...args: string[]): CliRun {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 25_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
