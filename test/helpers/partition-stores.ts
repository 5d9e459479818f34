// Partition stores on a real nats-server for the store tests: one server per test file, a fresh
// cluster name per test, and every connection closed afterwards.

import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterEach } from 'vitest';
import { ensureClusterStream, PartitionStore, type PartitionStoreOptions } from '../../dist/src/cluster/partition-store.js';
import { seeded } from '../../dist/src/seeded-random.js';
import { useNatsServer } from './nats-fixture.js';
import type { NatsServer } from './nats-server.js';

export interface NatsHandle {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
}

let nats: { readonly server: NatsServer } | undefined;
const connections: NatsConnection[] = [];
let clusters = 0;

/** Starts the file's nats-server (call at the top of a `describe` that runs only with nats-server). */
export function usePartitionStores(): void {
  nats = useNatsServer();
  afterEach(async () => {
    await Promise.all(connections.splice(0).map((nc) => nc.close()));
  });
}

/** A new connection to the file's server (closed after the test). */
export async function natsConnection(): Promise<NatsHandle> {
  if (nats === undefined) throw new Error('usePartitionStores() was not called');
  const nc = await connect({ servers: nats.server.url });
  connections.push(nc);
  return { nc, js: jetstream(nc), jsm: await jetstreamManager(nc) };
}

/** A fresh cluster name with its stream made. */
export async function newCluster(handle: NatsHandle): Promise<string> {
  const cluster = `t${process.pid}_${++clusters}`;
  await ensureClusterStream(handle.jsm, cluster);
  return cluster;
}

/** `PartitionStore.takeOver` on `handle`'s connection, with the server's max payload unless `options` says otherwise. */
export function takeOver(handle: NatsHandle, options: Omit<PartitionStoreOptions, 'js' | 'jsm' | 'maxPayload'> & { readonly maxPayload?: number }): Promise<PartitionStore> {
  return PartitionStore.takeOver({ js: handle.js, jsm: handle.jsm, maxPayload: handle.nc.info?.max_payload ?? 1024 * 1024, ...options });
}

/** `length` seeded random bytes. */
export function randomBytes(length: number, seed: number): Uint8Array {
  const next = seeded(seed);
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(next() * 256);
  return bytes;
}

/** A module identity (64 hex digits) made of one repeated digit. */
export function identity(digit: string): string {
  return digit.repeat(64);
}
