// The runnable examples under examples/: their names, and what compiling and running one gives.

import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const EXAMPLES_DIR = fileURLToPath(new URL('../../examples/', import.meta.url));

export interface ProcessRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Every example's name (`basic` for examples/basic.ts), sorted. */
export function exampleNames(): string[] {
  return readdirSync(EXAMPLES_DIR)
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => file.slice(0, -'.ts'.length))
    .sort();
}

/** Every expected-output file's example name (`basic` for examples/basic.out), sorted. */
export function expectedOutputNames(): string[] {
  return readdirSync(EXAMPLES_DIR)
    .filter((file) => file.endsWith('.out'))
    .map((file) => file.slice(0, -'.out'.length))
    .sort();
}

/** `tsc -p examples/tsconfig.json`: every example compiled in place, next to its source. */
export function compileExamples(): ProcessRun {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  return run([tsc, '-p', `${EXAMPLES_DIR}tsconfig.json`], 120_000);
}

/** Runs a compiled example to its end, from its own directory (killed after 60 s: a failed status). */
export function runExample(name: string): ProcessRun {
  return run([`${EXAMPLES_DIR}${name}.js`], 60_000);
}

function run(args: string[], timeout: number): ProcessRun {
  const result = spawnSync(process.execPath, args, { cwd: EXAMPLES_DIR, encoding: 'utf8', timeout });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
