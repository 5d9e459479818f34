// Runs the kill -9 test's child (durable-child.mjs): a driving child killed with SIGKILL after a given
// number of acknowledgements, and a verifying child on the same directory. Parses what each recorded.

import { readFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./durable-child.mjs', import.meta.url));

/** One call the driving child made, in the order it made them. */
export interface SentCall {
  readonly id: string;
  readonly key: string;
  readonly n: number;
  /** What its acknowledgement said, if the child recorded one (its promise resolved) before it died. */
  acked?: number;
  /** A rejection's code, if the child recorded one. */
  failed?: string;
}

export interface DriveRun {
  /** Every call the child made, from its record file (complete up to the kill, whatever reached stdout). */
  readonly calls: readonly SentCall[];
  readonly signal: NodeJS.Signals | null;
  readonly exitCode: number | null;
  /** Acknowledgements seen on stdout when the kill was sent (the record holds these and any later ones). */
  readonly acksAtKill: number;
  /** Whether the child recorded `done` (every call acknowledged) before it died. */
  readonly done: boolean;
  /** Whole lines in the record, and how many of them reached the parent's stdout before the child died. */
  readonly linesRecorded: number;
  readonly linesSeen: number;
  /** Lines that made no sense (a call settled before it was sent), or stdout disagreeing with the record. */
  readonly problems: readonly string[];
  readonly stderr: string;
}

export interface DriveOptions {
  readonly module: string;
  readonly dir: string;
  /** A file for the child's record of its calls (created; outside `dir`). */
  readonly record: string;
  readonly seed: number;
  readonly sessions: number;
  readonly calls: number;
  readonly window: number;
  /** SIGKILL is sent as soon as this many `ack` lines have arrived on stdout. */
  readonly killAfterAcks: number;
}

/** Whole lines of `text` (but `ready`): a last line without its newline was cut short by the kill. */
export function wholeLines(text: string): string[] {
  const lines = text.split('\n');
  lines.pop();
  return lines.filter((line) => line !== '' && line !== 'ready');
}

/** The calls a record's lines describe, whether it says `done`, and the lines that make no sense. */
export function parseRecord(lines: readonly string[]): { calls: SentCall[]; done: boolean; problems: string[] } {
  const calls: SentCall[] = [];
  const byKey = new Map<string, SentCall>();
  const problems: string[] = [];
  let done = false;
  for (const line of lines) {
    const [what, id = '', key = '', n = '', result = ''] = line.split(' ');
    if (what === 'sent') {
      const call: SentCall = { id, key, n: Number(n) };
      calls.push(call);
      byKey.set(key, call);
    } else if (what === 'ack' || what === 'fail') {
      const call = byKey.get(key);
      if (call === undefined) problems.push(`settled before it was sent: ${line}`);
      else if (what === 'ack') call.acked = Number(result);
      else call.failed = result;
    } else if (what === 'done') {
      done = true;
    } else {
      problems.push(`not a record line: ${line}`);
    }
  }
  return { calls, done, problems };
}

/**
 * Starts the driving child and kills it with SIGKILL once it has printed `killAfterAcks` acknowledgements,
 * then reads its record. Stdout only times the kill: a child's writes to a pipe its parent has not read
 * yet wait in the child and die with it, so calls made just before the kill may never show there.
 */
export function driveAndKill(options: DriveOptions): Promise<DriveRun> {
  const args = [CHILD, 'drive', options.module, options.dir, options.record, ...[options.seed, options.sessions, options.calls, options.window].map(String)];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let acks = 0;
    let acksAtKill = -1;
    let stdout = '';
    let stderr = '';
    const kill = (): void => {
      if (acksAtKill >= 0) return;
      acksAtKill = acks;
      child.kill('SIGKILL');
    };
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      const from = stdout.lastIndexOf('\n') + 1;
      stdout += text;
      for (const line of wholeLines(stdout.slice(from))) {
        if (line.startsWith('ack ') && ++acks >= options.killAfterAcks) kill();
        if (line === 'done') kill();
      }
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    child.stdin.on('error', () => {
      // Killed: its stdin is gone.
    });
    child.on('error', reject);
    child.on('close', (exitCode, signal) => {
      readFile(options.record, 'utf8').then((text) => {
        const recorded = wholeLines(text);
        const seen = wholeLines(stdout);
        const { calls, done, problems } = parseRecord(recorded);
        // What reached stdout is a prefix of the record (what the child wrote, in order), or the record is wrong.
        const differs = seen.findIndex((line, i) => recorded[i] !== line);
        if (differs >= 0) problems.push(`stdout line ${differs + 1}, \`${seen[differs]}\`, is \`${recorded[differs] ?? '(missing)'}\` in the record`);
        resolve({ calls, signal, exitCode, acksAtKill, done, linesRecorded: recorded.length, linesSeen: seen.length, problems, stderr });
      }, (error: unknown) => {
        reject(new Error(`no record from the driving child (ended with ${signal ?? exitCode}): ${String(error)}; stderr: ${stderr.slice(-2000)}`));
      });
    });
  });
}

/** What the verifying child read and got back, per session. */
export interface VerifyReport {
  /** `pool.durableSessions()` before any call, sorted. */
  readonly durable: readonly string[];
  readonly sessions: Readonly<Record<string, {
    /** `inc(0)` first: the recovered value. */
    readonly before: number | string;
    /** Each retried call's result (a number) or rejection code, in `retry` order. */
    readonly retries: readonly (number | string)[];
    /** The same for `repeat`. */
    readonly repeats: readonly (number | string)[];
    /** `inc(0)` last. */
    readonly after: number | string;
  }>>;
}

/** One session's part of the verification: calls to retry (then repeat) with their keys. */
export interface VerifyPlan {
  readonly sessions: readonly { id: string; retry: readonly { key: string; n: number }[]; repeat: readonly { key: string; n: number }[] }[];
}

/** Runs the verifying child on `dir` and returns its report, or throws with its stderr. */
export function verifyAfterKill(module: string, dir: string, plan: VerifyPlan): Promise<VerifyReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, 'verify', module, dir], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    child.on('error', reject);
    child.on('close', (exitCode, signal) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      if (exitCode !== 0 || !last.startsWith('{')) {
        reject(new Error(`the verifying child ended with ${signal ?? exitCode}; stderr: ${stderr.slice(-2000)}`));
        return;
      }
      resolve(JSON.parse(last) as VerifyReport);
    });
    child.stdin.end(JSON.stringify(plan));
  });
}
