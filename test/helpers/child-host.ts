// Runs a host program (an ES module using the built package) in a child Node process, so a test can
// show what a guest did to *a process*: whether it survived, what its real stdio saw.

import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The built package's entry, as an import specifier a child's inline module can use. */
export const PACKAGE = pathToFileURL(fileURLToPath(new URL('../../dist/src/index.js', import.meta.url))).href;

export interface HostRun {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface HostOptions {
  /** Written to the child's stdin (a pipe) at once; the pipe stays open until `endStdinOn` is printed. */
  readonly stdin?: string;
  /** A line the child prints on stdout when the test should close its stdin. */
  readonly endStdinOn?: string;
  /** The node binary to run (default: this process's). */
  readonly node?: string;
}

/** Runs `source` as an inline ES module in a child `node` and collects how it ended. */
export function runHost(source: string, options: HostOptions = {}): Promise<HostRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(options.node ?? process.execPath, ['--input-type=module', '-e', source], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
      if (options.endStdinOn !== undefined && stdout.includes(`${options.endStdinOn}\n`)) child.stdin.end();
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    child.stdin.on('error', () => {
      // The child may exit without reading its stdin; that is for the test to judge, not an error here.
    });
    if (options.stdin !== undefined) child.stdin.write(options.stdin);
    if (options.endStdinOn === undefined) child.stdin.end();
    child.on('error', reject);
    child.on('close', (exitCode, signal) => resolve({ exitCode, signal, stdout, stderr }));
  });
}

/** The last line of a child's stdout, parsed as JSON (the child's report). */
export function reportOf(run: HostRun): unknown {
  const lines = run.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? 'null');
}
