// `reactor-pool member` and `reactor-pool status` against a real nats-server: a member joins and owns
// every partition (status --json shows it), SIGTERM hands them all over and exits 0 (status then shows
// no member), a second signal stops it at once (exit 1), a member that does not fit the cluster exits 1
// (ERR_CLUSTER_MISMATCH); bad flags exit 2 with a message before anything connects.

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';
import { ClusterClient } from '../dist/src/cluster/index.js';
import { KITCHEN, REACTOR } from './helpers/fixtures.js';
import type { KitchenExports } from './fixtures/kitchen.exports.js';
import { natsAvailable, startNatsServer, type NatsServer } from './helpers/nats-server.js';

const CLI = fileURLToPath(new URL('../dist/src/cli.js', import.meta.url));

interface StatusJson {
  readonly cluster: string;
  readonly partitions: number;
  readonly members: readonly { readonly id: string; readonly pid: number; readonly partitions: readonly number[]; readonly sessions: number }[];
  readonly leases: readonly { readonly partition: number; readonly owner: string | null; readonly epoch: number }[];
}

/** A `reactor-pool member --json` process, its stdout read line by line as JSON events. */
class MemberProcess {
  readonly child: ChildProcess;
  readonly events: Record<string, unknown>[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr = '';
  #waiters: { test: () => boolean; resolve: () => void }[] = [];

  constructor(args: readonly string[]) {
    this.child = spawn(process.execPath, [CLI, 'member', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.events.push(JSON.parse(line) as Record<string, unknown>);
      this.#waiters = this.#waiters.filter((waiter) => !waiter.test() || (waiter.resolve(), false));
    });
  }

  count(event: string): number {
    return this.events.filter((e) => e['event'] === event).length;
  }

  /** Resolves once `test` holds of the events seen (or rejects if the process exits first). */
  until(test: () => boolean): Promise<void> {
    if (test()) return Promise.resolve();
    return Promise.race([
      new Promise<void>((resolve) => this.#waiters.push({ test, resolve })),
      this.exited.then((exit) => {
        if (!test()) throw new Error(`member exited (${JSON.stringify(exit)}) first; events ${JSON.stringify(this.events)}; stderr:\n${this.stderr}`);
      }),
    ]);
  }
}

describe('reactor-pool member and status: bad flags, no server', () => {
  it.each([
    [['member', '--cluster', 'c', REACTOR], /^error \[ERR_INVALID_OPTION\]: member needs --nats URL/],
    [['member', '--nats', 'nats://127.0.0.1:1', REACTOR], /^error \[ERR_INVALID_OPTION\]: member needs --cluster NAME/],
    [['member', '--nats', 'nats://127.0.0.1:1', '--cluster', 'a.b', REACTOR], /Expected `--cluster` to be 1 to 64 letters, digits, "_" or "-", got `"a\.b"`/],
    [['member', '--nats', 'nats://127.0.0.1:1', '--cluster', 'c'], /^error \[ERR_INVALID_OPTION\]: member needs a module path/],
    [['member', '--nats', 'nats://127.0.0.1:1', '--cluster', 'c', '--partitions', '0', REACTOR], /Expected --partitions to be an integer from 1 to 4096, got `"0"`/],
    [['member', '--nats', 'nats://127.0.0.1:1', '--cluster', 'c', '--lease-ttl', '99', REACTOR], /Expected --lease-ttl to be an integer from 100 to 600000, got `"99"`/],
    [['member', '--nats', 'nats://127.0.0.1:1', '--cluster', 'c', '--workers', '0', REACTOR], /Expected --workers to be an integer from 1 to 256, got `"0"`/],
    [['member', '--nats', 'nats://127.0.0.1:1', '--cluster', 'c', '--member-id', 'a b', REACTOR], /Expected --member-id to be 1 to 64 letters, digits, "_" or "-", got `"a b"`/],
    [['member', '--nats', '', '--cluster', 'c', REACTOR], /Expected --nats to be a NATS server URL \(nats:\/\/HOST:PORT or HOST:PORT\), got `""`/],
    [['member', '--nats', 'nats://127.0.0.1:1', '--cluster', 'c', '--bogus', REACTOR], /^error \[ERR_INVALID_OPTION\]: Unknown option '--bogus'/],
    [['member', '--nats', 'nats://127.0.0.1:1', '--cluster', 'c', '--replicas', '6', REACTOR], /Expected --replicas to be an integer from 1 to 5, got `"6"`/],
    [['member', '--nats', 'nats://127.0.0.1:1', '--cluster', 'c', '--metrics', '70000', REACTOR], /Expected --metrics to be PORT or HOST:PORT \(port 0 to 65535\), got `"70000"`/],
    [['member', '--nats', 'nats://127.0.0.1:1', '--cluster', 'c', '--metrics', 'host:', REACTOR], /Expected --metrics to be PORT or HOST:PORT/],
    [['status', '--nats', 'nats://127.0.0.1:1'], /^error \[ERR_INVALID_OPTION\]: status needs --cluster NAME/],
    [['status', '--nats', 'nats://127.0.0.1:1', '--cluster', 'c', 'extra'], /^error \[ERR_INVALID_OPTION\]: status takes no module, got extra/],
  ])('%j exits 2 before connecting', (args, message) => {
    const out = cli(...args);
    expect({ status: out.status, stdout: out.stdout }).toEqual({ status: 2, stdout: '' });
    expect(out.stderr).toMatch(message);
  });

  it('a NATS nobody listens on, or a module that cannot be read, exits 1 with its code', () => {
    for (const command of ['member', 'status']) {
      const out = cli(command, '--nats', 'nats://127.0.0.1:1', '--cluster', 'cli', ...(command === 'member' ? [REACTOR] : []));
      expect({ command, status: out.status, stdout: out.stdout }).toEqual({ command, status: 1, stdout: '' });
      expect(out.stderr).toMatch(/^error \[ERR_CLUSTER_UNAVAILABLE\]: .*nats:\/\/127\.0\.0\.1:1/i);
    }
    const missing = cli('member', '--json', '--nats', 'nats://127.0.0.1:1', '--cluster', 'cli', 'no-such-module.wasm');
    expect(missing.status).toBe(1);
    expect(JSON.parse(missing.stdout)).toMatchObject({ error: { code: 'ERR_MODULE_NOT_FOUND' } });
  });

  it('with --json a usage mistake is JSON on stdout', () => {
    const out = cli('status', '--json', '--nats', 'nats://127.0.0.1:1');
    expect(out.status).toBe(2);
    expect(JSON.parse(out.stdout)).toEqual({ error: { code: 'ERR_INVALID_OPTION', message: 'status needs --cluster NAME (see reactor-pool status --help)' } });
  });
});

describe.skipIf(!natsAvailable())('reactor-pool member and status on a nats-server', () => {
  let nats: NatsServer;
  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    await nats.stop();
  });

  const status = (cluster: string): StatusJson => {
    const out = cli('status', '--json', '--nats', nats.url, '--cluster', cluster);
    expect({ status: out.status, stderr: out.stderr }).toEqual({ status: 0, stderr: '' });
    return JSON.parse(out.stdout) as StatusJson;
  };

  it('a member joins and owns every partition; SIGTERM hands them over and exits 0, leaving no member', async () => {
    const member = new MemberProcess(['--nats', nats.url, '--cluster', 'cli', '--partitions', '4', '--member-id', 'm1', REACTOR]);
    try {
      await member.until(() => member.count('partitionAcquired') === 4);
      expect(member.events[0]).toEqual({ event: 'joined', member: 'm1', cluster: 'cli' });
      const acquired = member.events.filter((e) => e['event'] === 'partitionAcquired');
      expect(acquired.map((e) => e['partition']).sort()).toEqual([0, 1, 2, 3]);
      for (const event of acquired) expect(event).toMatchObject({ epoch: expect.any(Number) as number, ms: expect.any(Number) as number });

      const joined = status('cli');
      expect(joined).toMatchObject({ cluster: 'cli', partitions: 4 });
      expect(joined.members.map(({ id, pid, partitions }) => ({ id, pid, partitions: [...partitions].sort() })))
        .toEqual([{ id: 'm1', pid: member.child.pid, partitions: [0, 1, 2, 3] }]);
      expect([...joined.leases].sort((a, b) => a.partition - b.partition).map(({ partition, owner }) => ({ partition, owner })))
        .toEqual([0, 1, 2, 3].map((partition) => ({ partition, owner: 'm1' })));

      const text = cli('status', '--nats', nats.url, '--cluster', 'cli');
      expect(text.status).toBe(0);
      expect(text.stdout).toMatch(/^cluster cli: 4 partitions, module sha256:[0-9a-f]{64}\nmembers: 1\n {2}m1 {2}\S+ pid \d+ {2}4 partitions \[/);

      member.child.kill('SIGTERM');
      expect(await member.exited).toEqual({ code: 0, signal: null });
      expect(member.events.slice(5).map((e) => e['event'])).toEqual(['leaving', ...Array<string>(4).fill('partitionReleased'), 'left']);
      expect(member.events[5]).toEqual({ event: 'leaving', signal: 'SIGTERM' });

      const left = status('cli');
      expect(left.members).toEqual([]);
      expect(left.leases.filter((lease) => lease.owner !== null)).toEqual([]);
    } finally {
      member.child.kill('SIGKILL');
    }
  }, 60_000);

  it('with --metrics a member serves its Prometheus metrics on HTTP until it leaves', async () => {
    const member = new MemberProcess(['--nats', nats.url, '--cluster', 'cli3', '--partitions', '2', '--metrics', '127.0.0.1:0', REACTOR]);
    try {
      await member.until(() => member.count('partitionAcquired') === 2 && member.count('metrics') === 1);
      const url = member.events.find((e) => e['event'] === 'metrics')?.['url'];
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const text = await (await fetch(url as string)).text();
      expect(text).toContain('\nreactor_pool_cluster_partitions 2\n');
      expect(text).toContain('reactor_pool_workers{partition="0"} 1');
      expect(text).toContain('reactor_pool_workers{partition="1"} 1');
      expect((await fetch((url as string).replace('/metrics', '/other'))).status).toBe(404);
      member.child.kill('SIGTERM');
      expect(await member.exited).toEqual({ code: 0, signal: null });
      await expect(fetch(url as string)).rejects.toThrow();
    } finally {
      member.child.kill('SIGKILL');
    }
  }, 60_000);

  it('a member with another partition count or module than the cluster has exits 1 with ERR_CLUSTER_MISMATCH', () => {
    // Cluster `cli` was made by the test above: 4 partitions of the reference reactor.
    for (const args of [['--partitions', '8', REACTOR], ['--partitions', '4', KITCHEN]]) {
      const out = cli('member', '--nats', nats.url, '--cluster', 'cli', ...args);
      expect({ args, status: out.status, stdout: out.stdout }).toEqual({ args, status: 1, stdout: '' });
      expect(out.stderr).toMatch(/^error \[ERR_CLUSTER_MISMATCH\]: /);
    }
  });

  it('a second signal stops at once a member whose leave waits for a call that never ends (exit 1)', async () => {
    const member = new MemberProcess(['--nats', nats.url, '--cluster', 'cli2', '--partitions', '1', KITCHEN]);
    const client = await ClusterClient.connect<KitchenExports>({ nats: nats.url, cluster: 'cli2', callTimeout: 3000 });
    try {
      await member.until(() => member.count('partitionAcquired') === 1);
      // `spin` never returns, and a leave waits for the calls the member accepted. The member's record
      // counts the session once the call reached its partition's pool.
      const spun = client.session('spinner').call('spin').catch((error: unknown) => error);
      while ((await client.status()).members[0]?.sessions !== 1) await new Promise<void>((resolve) => setImmediate(resolve));
      member.child.kill('SIGINT');
      await member.until(() => member.count('leaving') === 1);
      member.child.kill('SIGINT');
      expect(await member.exited).toEqual({ code: 1, signal: null });
      // (The hand-over may give the lease up meanwhile: a partitionLost line may come before the end.)
      expect(member.events.slice(0, 3).map((e) => e['event'])).toEqual(['joined', 'partitionAcquired', 'leaving']);
      expect(member.events.at(-1)).toEqual({ event: 'destroyed', signal: 'SIGINT' });
      expect(member.count('left') + member.count('partitionReleased')).toBe(0);
      // Nobody serves the partition now: the call rejects at its deadline.
      expect(await spun).toMatchObject({ code: 'ERR_CLUSTER_UNAVAILABLE' });
    } finally {
      member.child.kill('SIGKILL');
      await client.close();
    }
  }, 60_000);

});
