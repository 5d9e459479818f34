// Runs the kill -9 test's child (durable-child.mjs): a driving child killed with SIGKILL after a given
// number of acknowledgements, and a verifying child on the same directory. Parses what each printed.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./durable-child.mjs', import.meta.url));

/** One call the driving child made, in the order it made them. */
export interface SentCall {
  readonly id: string;
  readonly key: string;
  readonly n: number;
  /** What its acknowledgement said, if the parent saw one (the line was printed before the kill). */
  acked?: number;
  /** A rejection's code, if the child printed one. */
  failed?: string;
}

export interface DriveRun {
  readonly calls: readonly SentCall[];
  readonly signal: NodeJS.Signals | null;
  readonly exitCode: number | null;
  /** Acknowledgements seen when the kill was sent (more may follow: the pipe holds what was printed before). */
  readonly acksAtKill: number;
  /** Whether the child printed `done` (every call acknowledged) before it died. */
  readonly done: boolean;
  /** Lines that made no sense (an acknowledgement of a call never sent). */
  readonly problems: readonly string[];
  readonly stderr: string;
}

export interface DriveOptions {
  readonly module: string;
  readonly dir: string;
  readonly seed: number;
  readonly sessions: number;
  readonly calls: number;
  readonly window: number;
  /** SIGKILL is sent as soon as this many `ack` lines have arrived. */
  readonly killAfterAcks: number;
}

/** Starts the driving child and kills it with SIGKILL once it has acknowledged `killAfterAcks` calls. */
export function driveAndKill(options: DriveOptions): Promise<DriveRun> {
  const args = [CHILD, 'drive', options.module, options.dir, ...[options.seed, options.sessions, options.calls, options.window].map(String)];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const calls: SentCall[] = [];
    const byKey = new Map<string, SentCall>();
    let acks = 0;
    let acksAtKill = -1;
    let done = false;
    const problems: string[] = [];
    let partial = '';
    let stderr = '';
    const kill = (): void => {
      if (acksAtKill >= 0) return;
      acksAtKill = acks;
      child.kill('SIGKILL');
    };
    const onLine = (line: string): void => {
      const [what, id = '', key = '', n = '', result = ''] = line.split(' ');
      if (what === 'sent') {
        const call: SentCall = { id, key, n: Number(n) };
        calls.push(call);
        byKey.set(key, call);
      } else if (what === 'ack' || what === 'fail') {
        const call = byKey.get(key);
        if (call === undefined) {
          problems.push(`settled before it was sent: ${line}`);
          return;
        }
        if (what === 'ack') {
          call.acked = Number(result);
          if (++acks >= options.killAfterAcks) kill();
        } else {
          call.failed = result;
        }
      } else if (what === 'done') {
        done = true;
        kill();
      }
    };
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      // Only whole lines count: one cut short by the kill was never printed in full.
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line !== '' && line !== 'ready') onLine(line);
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    child.stdin.on('error', () => {
      // Killed: its stdin is gone.
    });
    child.on('error', reject);
    child.on('close', (exitCode, signal) => resolve({ calls, signal, exitCode, acksAtKill, done, problems, stderr }));
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
