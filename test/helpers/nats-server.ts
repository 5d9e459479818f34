// A real nats-server with JetStream for the cluster tests, or a NATS cluster of several: started on
// 127.0.0.1 on free ports, each with its own data directory, stopped (and the directory removed)
// afterwards.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';

/** The nats-server binary: $REACTOR_POOL_NATS_SERVER, else `nats-server` on PATH; undefined if neither runs. */
export function natsServerBinary(): string | undefined {
  const candidate = process.env['REACTOR_POOL_NATS_SERVER'] ?? 'nats-server';
  const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
  return probe.status === 0 ? candidate : undefined;
}

/**
 * Whether the cluster tests can run here. Under CI they must (a missing server fails them); elsewhere
 * they are skipped without one.
 */
export function natsAvailable(): boolean {
  if (natsServerBinary() !== undefined) return true;
  if (process.env['CI'] === 'true') throw new Error('nats-server is not installed (CI installs it: see .ci/run)');
  return false;
}

export interface NatsServer {
  /** `nats://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  readonly process: ChildProcess;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and removes its data directory. */
  stop(): Promise<void>;
}

export interface NatsServerOptions {
  /** The client port; a free one by default. */
  readonly port?: number;
  /** JetStream's data directory (kept on stop); a temporary one by default (removed on stop). */
  readonly storeDir?: string;
  /** @default true */
  readonly jetstream?: boolean;
  /** More command-line arguments (a cluster node's name and routes). */
  readonly args?: readonly string[];
}

/** Starts nats-server with JetStream (unless `jetstream: false`); resolves once it accepts clients. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const binary = natsServerBinary();
  if (binary === undefined) throw new Error('nats-server is not installed');
  const ownDir = options.storeDir === undefined;
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), 'reactor-pool-nats-'));
  const jetstream = options.jetstream === false ? [] : ['-js', '-sd', storeDir];
  const child = spawn(binary, ['-a', '127.0.0.1', '-p', String(options.port ?? -1), ...jetstream, ...(options.args ?? [])], { stdio: ['ignore', 'ignore', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    let log = '';
    let found: number | undefined;
    const onData = (chunk: Buffer): void => {
      log += chunk.toString('utf8');
      found ??= Number(/Listening for client connections on 127\.0\.0\.1:(\d+)/.exec(log)?.[1] ?? Number.NaN) || undefined;
      if (found !== undefined && log.includes('Server is ready')) {
        child.stderr?.off('data', onData);
        child.stderr?.resume();
        resolve(found);
      }
    };
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`nats-server exited (${code}) before it was ready:\n${log}`)));
    child.once('error', reject);
  });
  let stopped: Promise<void> | undefined;
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    process: child,
    stop: () => stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      if (ownDir) rmSync(storeDir, { recursive: true, force: true });
    })(),
  };
}

export interface NatsCluster {
  /** Each node's client URL. */
  readonly urls: readonly string[];
  /** The nodes, by index; node `i` is named `n<i>` in the cluster. */
  readonly nodes: readonly NatsServer[];
  /** Stops every node still running and removes their data directories. */
  stop(): Promise<void>;
}

/** `count` ports free on 127.0.0.1 now (the OS's pick; nothing holds them afterwards). */
async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  const ports = await Promise.all(servers.map((server) => new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  })));
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/**
 * Starts a NATS cluster of `size` nodes with JetStream on 127.0.0.1 (each with its own data directory,
 * routes to all the others); resolves once JetStream answers through every node, so a stream with
 * `size` replicas can be made.
 */
export async function startNatsCluster(size: number): Promise<NatsCluster> {
  const [clientPorts, routePorts] = [await freePorts(size), await freePorts(size)];
  const routes = routePorts.map((port) => `nats://127.0.0.1:${port}`).join(',');
  const nodes: NatsServer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  try {
    for (let i = 0; i < size; i++) {
      nodes.push(await startNatsServer({
        port: clientPorts[i] as number,
        args: ['-n', `n${i}`, '--cluster_name', `rp${process.pid}`, '--cluster', `nats://127.0.0.1:${routePorts[i] as number}`, '--routes', routes],
      }));
    }
    // JetStream answers once the nodes have elected their meta leader: asked through each node.
    for (const node of nodes) {
      const nc = await connect({ servers: node.url });
      try {
        const deadline = performance.now() + 60_000;
        for (;;) {
          const reply = await nc.request('$JS.API.INFO', undefined, { timeout: 2000 }).then((message) => message.json<{ error?: unknown }>(), (error: unknown) => ({ error }));
          if (reply.error === undefined) break;
          if (performance.now() > deadline) throw new Error(`JetStream on ${node.url} did not answer within 60 s: ${JSON.stringify(reply.error)}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      } finally {
        await nc.close();
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { urls: nodes.map((node) => node.url), nodes, stop };
}
