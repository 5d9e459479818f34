// The options of a cluster client and of a cluster member: their documentation, defaults and up-front
// validation. Nothing here is mutated; resolved copies are frozen.

import { InvalidOptionError, describeValue } from '../errors.js';
import type { DurabilityOptions } from '../durability-options.js';
import type { ReactorPoolOptions } from '../options.js';
import { readOptionObject } from '../options.js';
import { checkClusterName, checkMemberId } from './cluster-names.js';

/** How a process reaches a cluster: what a client and a member both take. */
export interface ClusterClientOptions {
  /** The NATS server(s): `'nats://127.0.0.1:4222'`, `'127.0.0.1:4222'`, or a list of them. */
  readonly nats: string | readonly string[];
  /** The cluster's name: 1 to 64 letters, digits, `_` or `-`. Clusters on one NATS are independent. */
  readonly cluster: string;
  /**
   * Milliseconds a call may take overall, retries included (no owner, an owner that moved or did not
   * answer), before it rejects with `ERR_CLUSTER_UNAVAILABLE`.
   * @default 30_000
   */
  readonly callTimeout?: number;
  /**
   * Milliseconds to wait for an owner's answer to one batch before sending it again (to whoever owns
   * the partition then; the calls' idempotency keys make the resend safe). A call that runs longer
   * than this is sent again and answered once it finishes.
   * @default 2_000
   */
  readonly requestTimeout?: number;
}

/** Durability settings a member's partitions use (where they live is the cluster's stream). */
export type ClusterDurabilityOptions = Pick<DurabilityOptions, 'snapshotEvery' | 'idempotencyKeys' | 'segmentBytes'>;

/** A member: a client that also runs the module and serves the partitions it owns. */
export interface ClusterMemberOptions extends ClusterClientOptions {
  /** The module every member of the cluster runs (a path, `file:` URL, bytes or compiled module). */
  readonly module: ReactorPoolOptions['module'];
  /**
   * Options of the pool each owned partition runs in (everything but `module`, `durability` and
   * `store`).
   * @default { workers: 1 }
   */
  readonly pool?: Omit<ReactorPoolOptions, 'module' | 'durability' | 'store'>;
  /** Durability of the partitions' sessions. @default { segmentBytes: 4_194_304 } (the rest as a pool's) */
  readonly durability?: ClusterDurabilityOptions;
  /**
   * Partitions session keys map to. Fixed by the cluster's first member; a member joining with another
   * number is refused (`ERR_CLUSTER_MISMATCH`).
   * @default 16
   */
  readonly partitions?: number;
  /**
   * Milliseconds without a heartbeat after which other members take a member's partitions over. The
   * member heartbeats every quarter of it, and stops serving by itself if it cannot for this long.
   * @default 1_000
   */
  readonly leaseTtl?: number;
  /** Partitions a member hands over at once when rebalancing. @default 2 */
  readonly maxMoves?: number;
  /** This member's id. @default a random one */
  readonly memberId?: string;
  /**
   * Copies NATS keeps of the cluster's stream and KV bucket (1 to 5; more than 1 needs a NATS cluster
   * of at least that many servers). A call is acknowledged once that many servers hold its journal
   * record. Used by the member that creates them; later members use theirs.
   * @default 1
   */
  readonly replicas?: number;
}

export interface ResolvedClusterClientOptions {
  readonly servers: readonly string[];
  readonly cluster: string;
  readonly callTimeout: number;
  readonly requestTimeout: number;
}

export interface ResolvedClusterMemberOptions extends ResolvedClusterClientOptions {
  readonly module: ReactorPoolOptions['module'];
  readonly pool: Omit<ReactorPoolOptions, 'module' | 'durability' | 'store'>;
  readonly durability: ClusterDurabilityOptions;
  readonly partitions: number;
  readonly leaseTtl: number;
  readonly maxMoves: number;
  readonly memberId: string | undefined;
  readonly replicas: number;
}

const CLIENT_KNOWN = ['nats', 'cluster', 'callTimeout', 'requestTimeout'] as const;
const MEMBER_KNOWN = [...CLIENT_KNOWN, 'module', 'pool', 'durability', 'partitions', 'leaseTtl', 'maxMoves', 'memberId', 'replicas'] as const;

export function resolveClusterClientOptions(options: unknown): ResolvedClusterClientOptions {
  return resolveClient(readObject(options, 'cluster client options'), CLIENT_KNOWN);
}

export function resolveClusterMemberOptions(options: unknown): ResolvedClusterMemberOptions {
  const given = readObject(options, 'cluster member options');
  const client = resolveClient(given, MEMBER_KNOWN);
  if (given['module'] === undefined) throw new InvalidOptionError('Expected `module` (the wasm module every member runs), got `undefined`');
  const pool = given['pool'] === undefined ? {} : readObject(given['pool'], 'pool');
  for (const name of ['module', 'durability', 'store']) {
    if (pool[name] !== undefined) throw new InvalidOptionError(`Expected no \`pool.${name}\`: a member sets it for each partition, got ${describeValue(pool[name])}`);
  }
  const durability = given['durability'] === undefined ? {} : readObject(given['durability'], 'durability');
  for (const name of Object.keys(durability)) {
    if (name !== 'snapshotEvery' && name !== 'idempotencyKeys' && name !== 'segmentBytes') {
      throw new InvalidOptionError(`Unknown option \`durability.${name}\` (known: snapshotEvery, idempotencyKeys, segmentBytes): a cluster keeps its journal in its stream`);
    }
  }
  return Object.freeze({
    ...client,
    module: given['module'] as ReactorPoolOptions['module'],
    pool: Object.freeze({ workers: 1, ...pool }),
    durability: Object.freeze({ segmentBytes: 4 * 1024 * 1024, ...durability }),
    partitions: integer('partitions', given['partitions'], 16, 1, 4096),
    leaseTtl: integer('leaseTtl', given['leaseTtl'], 1000, 100, 600_000),
    maxMoves: integer('maxMoves', given['maxMoves'], 2, 1, 4096),
    memberId: given['memberId'] === undefined ? undefined : checkMemberId(given['memberId']),
    replicas: integer('replicas', given['replicas'], 1, 1, 5),
  });
}

function resolveClient(given: Record<string, unknown>, known: readonly string[]): ResolvedClusterClientOptions {
  for (const name of Object.keys(given)) {
    if (!known.includes(name)) throw new InvalidOptionError(`Unknown option \`${name}\` (known: ${known.join(', ')})`);
  }
  return Object.freeze({
    servers: Object.freeze(servers(given['nats'])),
    cluster: checkClusterName(given['cluster']),
    callTimeout: integer('callTimeout', given['callTimeout'], 30_000, 1, 2_147_483_647),
    requestTimeout: integer('requestTimeout', given['requestTimeout'], 2_000, 1, 2_147_483_647),
  });
}

function servers(value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? [...(value as unknown[])] : undefined;
  if (list === undefined || list.length === 0 || list.some((entry) => typeof entry !== 'string' || entry.length === 0)) {
    throw new InvalidOptionError(`Expected \`nats\` to be a NATS server URL or a non-empty list of them, got ${describeValue(value)}`);
  }
  return list as string[];
}

function integer(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(`Expected \`${name}\` to be an integer from ${min} to ${max}, got ${describeValue(value)}`);
  }
  return value;
}

function readObject(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(`Expected ${name} to be an object, got ${describeValue(value)}`);
  }
  return readOptionObject(value, name);
}
