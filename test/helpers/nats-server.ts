// A real nats-server with JetStream for the cluster tests: started on 127.0.0.1 on a free port with
// its own data directory, stopped (and the directory removed) afterwards.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

/** Starts nats-server with JetStream (unless `jetstream: false`); resolves once it accepts clients. */
export async function startNatsServer(options: { readonly port?: number; readonly storeDir?: string; readonly jetstream?: boolean } = {}): Promise<NatsServer> {
  const binary = natsServerBinary();
  if (binary === undefined) throw new Error('nats-server is not installed');
  const ownDir = options.storeDir === undefined;
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), 'reactor-pool-nats-'));
  const jetstream = options.jetstream === false ? [] : ['-js', '-sd', storeDir];
  const child = spawn(binary, ['-a', '127.0.0.1', '-p', String(options.port ?? -1), ...jetstream], { stdio: ['ignore', 'ignore', 'pipe'] });
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
