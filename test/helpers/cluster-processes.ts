// The processes of the cluster chaos test: members (cluster-member-child.mjs) and the driving client
// (cluster-client-child.mjs), their output parsed as it arrives, and waits that resolve on what they
// print or on their exit (handshakes, never sleeps), each bounded so a stuck step fails with its name.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const MEMBER_CHILD = fileURLToPath(new URL('./cluster-member-child.mjs', import.meta.url));
const CLIENT_CHILD = fileURLToPath(new URL('./cluster-client-child.mjs', import.meta.url));

/** Milliseconds on the machine's monotonic clock: the clock the children stamp their lines with. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** One line a member printed. */
export interface MemberEvent {
  readonly event: 'ready' | 'acquired' | 'released' | 'lost' | 'left' | 'error';
  /** When it printed it (monotonic ms). */
  readonly t: number;
  readonly partition?: number;
  readonly epoch?: number;
  readonly ms?: number;
  readonly sessions?: number;
  readonly reason?: string;
  readonly code?: string;
  readonly owned?: readonly number[];
  readonly message?: string;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Calls `changed` whenever any watched process printed a line or exited: waits re-check then. */
class Watch {
  readonly #waiters = new Set<() => void>();

  changed(): void {
    for (const check of [...this.#waiters]) check();
  }

  /** Resolves once `condition()` holds (checked now and at every change); rejects after `boundMs`. */
  until(condition: () => boolean, what: string, boundMs: number, diagnose: () => string = () => ''): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!condition()) return;
        this.#waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`${what}: not reached within ${boundMs} ms${diagnose() === '' ? '' : `; ${diagnose()}`}`));
      }, boundMs);
      this.#waiters.add(check);
      check();
    });
  }
}

abstract class ChildOf {
  readonly child: ChildProcessWithoutNullStreams;
  stderr = '';
  exit: Exit | undefined;
  readonly exited: Promise<Exit>;
  #stdout = '';

  constructor(readonly watch: Watch, args: readonly string[]) {
    this.child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.setEncoding('utf8').on('data', (text: string) => {
      this.#stdout += text;
      const lines = this.#stdout.split('\n');
      this.#stdout = lines.pop() ?? '';
      for (const line of lines) if (line !== '') this.line(line);
      watch.changed();
    });
    this.child.stderr.setEncoding('utf8').on('data', (text: string) => {
      this.stderr = (this.stderr + text).slice(-20_000);
    });
    this.child.stdin.on('error', () => {
      // Gone (killed): nothing to write to.
    });
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        this.exit = { code, signal };
        watch.changed();
        resolve(this.exit);
      });
    });
  }

  protected abstract line(line: string): void;

  get running(): boolean {
    return this.exit === undefined;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** SIGKILL if still running (SIGCONT first would not matter: SIGKILL ends a stopped process too); resolves once it is gone. */
  async kill(): Promise<Exit> {
    this.signal('SIGKILL');
    return this.exited;
  }
}

/** A member process and what it said: its events, and the partitions it believes it owns. */
export class MemberProcess extends ChildOf {
  readonly events: MemberEvent[] = [];
  readonly #owned = new Set<number>();
  ready = false;

  constructor(watch: Watch, readonly id: string, nats: string, cluster: string, partitions: number, leaseTtl: number) {
    super(watch, [MEMBER_CHILD, nats, cluster, id, String(partitions), String(leaseTtl)]);
  }

  protected line(line: string): void {
    let event: MemberEvent;
    try {
      event = JSON.parse(line) as MemberEvent;
    } catch {
      this.stderr += `\n(stdout, not JSON) ${line}`;
      return;
    }
    this.events.push(event);
    if (event.event === 'ready') {
      this.ready = true;
      for (const p of event.owned ?? []) this.#owned.add(p);
    } else if (event.event === 'acquired' && event.partition !== undefined) {
      this.#owned.add(event.partition);
    } else if ((event.event === 'released' || event.event === 'lost') && event.partition !== undefined) {
      this.#owned.delete(event.partition);
    }
  }

  /** Partitions it last said it owns (a killed or paused member's stay as they were). */
  owned(): number[] {
    return [...this.#owned].sort((a, b) => a - b);
  }

  /** Its events of `kind` printed after monotonic time `after`. */
  eventsSince(kind: MemberEvent['event'], after: number): MemberEvent[] {
    return this.events.filter((e) => e.event === kind && e.t > after);
  }
}

/** The driving client: acknowledgements counted from its `acks N` lines; its record is read at the end. */
export class ClientProcess extends ChildOf {
  acks = 0;
  ready = false;
  done = false;

  constructor(watch: Watch, readonly recordPath: string, args: readonly string[]) {
    super(watch, [CLIENT_CHILD, ...args]);
  }

  protected line(line: string): void {
    if (line === 'ready') this.ready = true;
    else if (line === 'done') this.done = true;
    else if (line.startsWith('acks ')) this.acks = Number(line.slice(5));
  }

  /** Asks it to stop issuing calls; it finishes those in flight, records `done` and exits 0. */
  stop(): void {
    this.child.stdin.write('stop\n');
  }

  record(): Promise<string> {
    return readFile(this.recordPath, 'utf8');
  }
}

export interface DriveOptions {
  readonly record: string;
  readonly seed: number;
  readonly sessions: number;
  /** Upper bounds: the child stops issuing after this many calls or milliseconds even if not told to. */
  readonly calls: number;
  readonly ms: number;
  readonly partitions: number;
  readonly callTimeout: number;
  readonly requestTimeout: number;
}

/** Every process of one cluster on one nats-server, and waits on them. */
export class ClusterProcesses {
  readonly watch = new Watch();
  readonly members = new Map<string, MemberProcess>();
  readonly clients: ClientProcess[] = [];

  constructor(readonly nats: string, readonly cluster: string, readonly partitions: number, readonly leaseTtl: number) {}

  startMember(id: string): MemberProcess {
    const member = new MemberProcess(this.watch, id, this.nats, this.cluster, this.partitions, this.leaseTtl);
    this.members.set(id, member);
    return member;
  }

  startClient(options: DriveOptions): ClientProcess {
    const { record, seed, sessions, calls, ms, partitions, callTimeout, requestTimeout } = options;
    const client = new ClientProcess(this.watch, record, ['drive', this.nats, this.cluster, record, ...[seed, sessions, calls, ms, partitions, callTimeout, requestTimeout].map(String)]);
    this.clients.push(client);
    return client;
  }

  /** Reads every session's value through a fresh client process (`inc(0)`). */
  readValues(seed: number, sessions: number): Promise<Record<string, number | string>> {
    const reader = new ClientProcess(this.watch, '', ['read', this.nats, this.cluster, String(seed), String(sessions)]);
    this.clients.push(reader);
    let stdout = '';
    reader.child.stdout.on('data', (text: string) => {
      stdout += text;
    });
    return reader.exited.then((exit) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      if (exit.code !== 0 || !last.startsWith('{')) throw new Error(`the reading client ended with ${exit.signal ?? exit.code}; stderr: ${reader.stderr.slice(-2000)}`);
      return (JSON.parse(last) as { values: Record<string, number | string> }).values;
    });
  }

  /**
   * Who serves each partition as far as the members said: partition -> ids of the members that are
   * running, not in `excluded` (e.g. paused) and say they own it.
   */
  owners(excluded: ReadonlySet<string> = new Set()): Map<number, string[]> {
    const owners = new Map<number, string[]>();
    for (const [id, member] of this.members) {
      if (!member.running || excluded.has(id)) continue;
      for (const p of member.owned()) owners.set(p, [...(owners.get(p) ?? []), id]);
    }
    return owners;
  }

  /** Whether every partition has exactly one owner among the running members not in `excluded`. */
  allOwned(excluded: ReadonlySet<string> = new Set()): boolean {
    const owners = this.owners(excluded);
    for (let p = 0; p < this.partitions; p++) if (owners.get(p)?.length !== 1) return false;
    return true;
  }

  /** Owners, acknowledgements and processes: for a step that timed out. */
  describe(): string {
    const owners = [...this.owners()].sort(([a], [b]) => a - b).map(([p, ids]) => `${p}:${ids.join('+')}`).join(' ');
    const members = [...this.members].map(([id, m]) => `${id}${m.running ? '' : ` (ended ${m.exit?.signal ?? m.exit?.code})`}`).join(', ');
    const stderr = [...this.members.values(), ...this.clients].map((p) => p.stderr.trim()).filter((text) => text !== '').map((text) => text.slice(-600));
    return `owners ${owners || 'none'}; members ${members}; acks ${this.clients.map((c) => c.acks).join('/')}${stderr.length > 0 ? `; stderr: ${stderr.join(' | ')}` : ''}`;
  }

  until(condition: () => boolean, what: string, boundMs: number): Promise<void> {
    return this.watch.until(condition, what, boundMs, () => this.describe());
  }

  /** Ends every process still running (SIGKILL) and waits for each. */
  async killAll(): Promise<void> {
    await Promise.all([...this.members.values(), ...this.clients].map((p) => p.kill()));
  }
}
