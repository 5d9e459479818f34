// A process's way into a cluster without running the module: it connects to NATS, learns the
// cluster's partition count from its KV bucket, and routes each session's operations to its owner.

import { randomBytes } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection, QueuedIterator } from '@nats-io/nats-core';
import { Kvm, type KvWatchEntry } from '@nats-io/kv';
import { ClusterUnavailableError, PoolClosedError, ReactorPoolError } from '../errors.js';
import type { NoResultModes, UntypedExports } from '../export-types.js';
import { checkSessionKey } from '../session.js';
import { CONFIG_KEY, kvBucket } from './cluster-names.js';
import { resolveClusterClientOptions, type ClusterClientOptions, type ResolvedClusterClientOptions } from './cluster-options.js';
import { ClusterSession, type ClusterSessionDeps } from './cluster-session.js';
import { PartitionRouter } from './partition-router.js';
import type { ClusterStatus } from './cluster-status.js';
import { readClusterStatus } from './read-cluster-status.js';
import { decodeClusterConfig } from './record-codec.js';

/** Pauses between attempts to open a bucket that does not exist yet (no member has started): ms, doubling. */
const BUCKET_RETRY_START = 50;
const BUCKET_RETRY_CAP = 1000;

/**
 * A client of a cluster: `session(key)` gives the same handle as a local pool's, served by whichever
 * member owns the key's partition. `E` describes the module's exports (see `reactor-pool types`) and
 * `M` its result modes, as for `ReactorPool.create<E, M>`.
 */
export class ClusterClient<E extends object = UntypedExports, M = NoResultModes> {
  readonly #nc: NatsConnection;
  readonly #ownsConnection: boolean;
  readonly #options: ResolvedClusterClientOptions;
  readonly #router: PartitionRouter;
  readonly #sessionDeps: ClusterSessionDeps;
  readonly #clientId = randomBytes(9).toString('base64url');
  #calls = 0;
  #closing: Promise<void> | undefined;
  #configWatch: QueuedIterator<KvWatchEntry> | undefined;
  #configRetry: { timer: NodeJS.Timeout; wake: () => void } | undefined;

  private constructor(nc: NatsConnection, options: ResolvedClusterClientOptions, ownsConnection: boolean) {
    this.#nc = nc;
    this.#options = options;
    this.#ownsConnection = ownsConnection;
    this.#router = new PartitionRouter(nc, options.cluster, options.requestTimeout);
    this.#sessionDeps = {
      callTimeout: options.callTimeout,
      assertOpen: () => {
        if (this.#closing !== undefined) throw new PoolClosedError(`the client of cluster ${JSON.stringify(options.cluster)} is closed`);
      },
      nextCallId: () => `${this.#clientId}.${++this.#calls}`,
      submit: (op) => this.#router.submit(op),
    };
    void this.#readConfig();
  }

  /**
   * Connects to the cluster's NATS servers. Options are checked first (`ERR_INVALID_OPTION`); a NATS
   * server that cannot be reached rejects with `ERR_CLUSTER_UNAVAILABLE`. The cluster need not exist
   * yet: calls made before its first member has written its config wait for it (within their deadlines).
   */
  static async connect<E extends object = UntypedExports, M = NoResultModes>(options: ClusterClientOptions): Promise<ClusterClient<E, M>> {
    const resolved = resolveClusterClientOptions(options);
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: [...resolved.servers], name: `reactor-pool client of ${resolved.cluster}`, noAsyncTraces: true,
        // A client outlives server restarts: calls made meanwhile are sent again until their deadlines.
        maxReconnectAttempts: -1,
      });
    } catch (error) {
      throw new ClusterUnavailableError(`Cannot connect to NATS at ${resolved.servers.join(', ')}: ${(error as Error).message}`);
    }
    return new ClusterClient<E, M>(nc, resolved, true);
  }

  /** @internal A member's client: it shares the member's connection, which {@link close} leaves open. */
  static attach<E extends object = UntypedExports, M = NoResultModes>(nc: NatsConnection, options: ResolvedClusterClientOptions): ClusterClient<E, M> {
    return new ClusterClient<E, M>(nc, options, false);
  }

  /** The handle of session `key` (a string of 1 to 1024 characters), served by the owner of its partition. */
  session(key: string): ClusterSession<E, M> {
    checkSessionKey(key);
    return new ClusterSession<E, M>(key, this.#sessionDeps);
  }

  /**
   * The cluster as its records in NATS show it now: its members (with the age of their heartbeats),
   * who holds each partition's lease, and any record this version cannot read. Rejects with
   * `ERR_CLUSTER_UNAVAILABLE` when no member ever joined the cluster or NATS does not answer.
   */
  async status(): Promise<ClusterStatus> {
    this.#sessionDeps.assertOpen();
    const bucket = kvBucket(this.#options.cluster);
    let kv;
    try {
      kv = await new Kvm(this.#nc).open(bucket);
    } catch (error) {
      throw new ClusterUnavailableError(`Cannot read cluster ${JSON.stringify(this.#options.cluster)}'s KV bucket ${bucket} (has a member joined it?): ${(error as Error).message}`);
    }
    try {
      return await readClusterStatus(kv, this.#options.cluster);
    } catch (error) {
      if (error instanceof ReactorPoolError) throw error;
      throw new ClusterUnavailableError(`Cannot read cluster ${JSON.stringify(this.#options.cluster)}'s status: ${(error as Error).message}`);
    }
  }

  /**
   * Stops taking operations (later ones reject with `ERR_POOL_CLOSED`), lets those already made settle,
   * then closes the NATS connection if the client opened it.
   */
  close(): Promise<void> {
    return this.#closing ??= (async () => {
      await this.#router.drain();
      this.#router.stop();
      this.#configWatch?.stop();
      if (this.#configRetry !== undefined) {
        clearTimeout(this.#configRetry.timer);
        this.#configRetry.wake();
      }
      if (this.#ownsConnection) await this.#nc.close();
    })();
  }

  /** What `await using client = await ClusterClient.connect(…)` calls when the scope ends: {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Reads the cluster's config (waiting for its bucket and key to appear) and gives the router the partition count. */
  async #readConfig(): Promise<void> {
    const kvm = new Kvm(this.#nc);
    let pause = BUCKET_RETRY_START;
    while (this.#closing === undefined) {
      try {
        const kv = await kvm.open(kvBucket(this.#options.cluster));
        const watch = await kv.watch({ key: CONFIG_KEY });
        this.#configWatch = watch;
        if (this.#closing !== undefined) watch.stop();
        for await (const entry of watch) {
          if (entry.operation !== 'PUT') continue;
          const partitions = partitionCount(entry.value);
          if (partitions === undefined) {
            this.#router.waitingFor(`the cluster's config record (KV bucket ${kvBucket(this.#options.cluster)}, key ${CONFIG_KEY}) is not one this version reads`);
            continue;
          }
          watch.stop();
          this.#router.setPartitions(partitions);
          return;
        }
        return;
      } catch (error) {
        // No bucket yet (no member has started), or NATS is reconnecting: try again a little later.
        if (this.#closing !== undefined) return;
        this.#router.waitingFor(`the cluster's config could not be read from KV bucket ${kvBucket(this.#options.cluster)} (${(error as Error).message})`);
        await new Promise<void>((wake) => {
          this.#configRetry = { timer: setTimeout(wake, pause), wake };
        });
        this.#configRetry = undefined;
        pause = Math.min(BUCKET_RETRY_CAP, pause * 2);
      }
    }
  }
}

/** The partition count of the config record's bytes, or undefined if they are not a config this version reads. */
function partitionCount(bytes: Uint8Array): number | undefined {
  try {
    return decodeClusterConfig(bytes).partitions;
  } catch {
    return undefined;
  }
}
