// A member's ownership of partitions: its heartbeat in the cluster's KV, its view of the other members
// and of the leases, and the rounds that take, hand over and abandon partitions (acting through a PartitionHost).

import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { KV, KvEntry } from '@nats-io/kv';
import { ClusterMismatchError } from '../errors.js';
import { rethrowLater } from '../rethrow-later.js';
import { planRound, type HoldState } from './assignment.js';
import { ClusterView } from './cluster-view.js';
import { memberKey, partitionKey } from './cluster-names.js';
import type { MemberRecord } from './cluster-records.js';
import type { PartitionHost } from './partition-host.js';
import { encodeRecord } from './record-codec.js';

export interface OwnershipOptions {
  /** The cluster's KV bucket (see openClusterKv). */
  readonly kv: KV;
  readonly memberId: string;
  /** What serves the partitions this member owns. */
  readonly host: PartitionHost;
  /** The cluster's partition count. */
  readonly partitions: number;
  /** Milliseconds without a heartbeat after which a member is dead for the others. */
  readonly leaseTtl: number;
  /** Partitions handed over at once. */
  readonly maxMoves: number;
  /** Acquisitions under way at once. @default 4 */
  readonly maxAcquiring?: number;
  /** What the member record reports besides partitions. */
  readonly describe: () => { readonly sessions: number };
}

/** Why a partition stopped being served other than by a hand-over. */
export type LossCause =
  /** Another member took the lease (it judged this one dead). */
  | 'taken'
  /** This member's heartbeat could not be written for the lease's time to live. */
  | 'heartbeat'
  /** The host could not start serving the partition (acquire rejected); the lease was given back. */
  | 'acquire'
  /** The host could not finish handing the partition over (release rejected); the lease was given back. */
  | 'release'
  /** The host said it could not go on (`failed`); the lease was given back. */
  | 'failed'
  /** `stop()`: this member stopped abruptly; the lease expires. */
  | 'stopped';

export interface OwnershipEvents {
  acquired: [{ readonly partition: number; readonly epoch: number; readonly ms: number }];
  released: [{ readonly partition: number; readonly ms: number }];
  lost: [{ readonly partition: number; readonly cause: LossCause; readonly reason: string }];
  /** A record in the bucket this version cannot read; it is ignored (a lease: its partition is left alone). */
  unreadableRecord: [{ readonly key: string; readonly error: ClusterMismatchError }];
}

interface Hold {
  state: HoldState;
  readonly epoch: number;
  /** The KV revision of the lease this member wrote (0 until written). */
  revision: number;
  readonly since: number;
}

/**
 * One member's ownership of partitions. Liveness is judged by this process's monotonic clock: another
 * member is dead once its record has not changed for `leaseTtl` (or was deleted); this member stops
 * serving everything once its own heartbeat could not be written for `leaseTtl`.
 */
export class Ownership extends EventEmitter<OwnershipEvents> {
  readonly memberId: string;
  readonly #kv: KV;
  readonly #host: PartitionHost;
  readonly #partitions: number;
  readonly #leaseTtl: number;
  readonly #maxMoves: number;
  readonly #maxAcquiring: number;
  readonly #describe: () => { readonly sessions: number };
  readonly #startedAt = Date.now();
  readonly #view: ClusterView;
  readonly #held = new Map<number, Hold>();
  /** Partitions not to take again before a monotonic time (the host just failed them). */
  readonly #coolDown = new Map<number, number>();
  /** Leases being given back by {@link #disown}. */
  readonly #disowning = new Set<number>();
  #beat = 0;
  #lastBeatOk = performance.now();
  #beatInFlight = false;
  #draining = false;
  #stopped = false;
  #roundQueued = false;
  /** False until the watch has delivered what the bucket held at start: no round decides on half a view. */
  #loaded = false;
  #timer: NodeJS.Timeout | undefined;
  #watch: { stop(): void } | undefined;
  #idle: (() => void)[] = [];
  #leaving: Promise<void> | undefined;

  private constructor(options: OwnershipOptions) {
    super();
    this.memberId = options.memberId;
    this.#kv = options.kv;
    this.#host = options.host;
    this.#partitions = options.partitions;
    this.#leaseTtl = options.leaseTtl;
    this.#maxMoves = options.maxMoves;
    this.#maxAcquiring = options.maxAcquiring ?? 4;
    this.#describe = options.describe;
    this.#view = new ClusterView(options.partitions, options.leaseTtl);
  }

  /** Writes this member's record, loads what the bucket holds, then starts heartbeats and rounds. */
  static async start(options: OwnershipOptions): Promise<Ownership> {
    const ownership = new Ownership(options);
    await ownership.#writeRecord();
    await ownership.#startWatch();
    ownership.#loaded = true;
    ownership.#timer = setInterval(() => ownership.#heartbeat(), Math.max(1, Math.floor(options.leaseTtl / 4)));
    ownership.#scheduleRound();
    return ownership;
  }

  /** The partitions this member serves now (acquired, not being handed over), ascending. */
  owned(): number[] {
    return [...this.#held].filter(([, hold]) => hold.state === 'serving').map(([p]) => p).sort((a, b) => a - b);
  }

  /** Heartbeats written so far. */
  get beat(): number {
    return this.#beat;
  }

  /**
   * The host cannot go on serving `partition`: the lease is given back so that a round takes it again
   * (possibly this member's, after a pause of a quarter of the lease's time to live).
   */
  failed(partition: number, reason: string): void {
    const hold = this.#held.get(partition);
    if (hold === undefined) return;
    this.#held.delete(partition);
    this.#coolDown.set(partition, performance.now() + this.#leaseTtl / 4);
    this.#emit('lost', { partition, cause: 'failed', reason });
    if (hold.revision !== 0) void this.#giveBack(partition, hold).finally(() => this.#scheduleRound());
    this.#checkIdle();
  }

  /**
   * Leaves gracefully: marks this member draining (others stop counting it as a target), hands every
   * partition over (its lease back to no owner; the targets take them), then deletes the member record.
   */
  leave(): Promise<void> {
    this.#leaving ??= this.#leave();
    return this.#leaving;
  }

  async #leave(): Promise<void> {
    if (this.#stopped) return;
    this.#draining = true;
    await this.#writeRecord().catch(() => undefined);
    const idle = new Promise<void>((resolve) => this.#idle.push(resolve));
    this.#scheduleRound();
    this.#checkIdle();
    await idle;
    if (this.#stopped) return;
    this.#halt();
    await this.#kv.delete(memberKey(this.memberId)).catch(() => undefined);
  }

  /** Stops at once: no more heartbeats or rounds; every held partition is abandoned; leases expire. */
  stop(): void {
    if (this.#stopped) return;
    this.#halt();
    for (const partition of [...this.#held.keys()]) this.#abandon(partition, 'stopped', 'this member stopped');
    this.#checkIdle();
  }

  #halt(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#watch?.stop();
  }

  // --- what the bucket says ---

  async #startWatch(): Promise<void> {
    const watch = await this.#kv.watch();
    this.#watch = watch;
    let loaded!: () => void;
    const initial = new Promise<void>((resolve) => (loaded = resolve));
    void (async () => {
      try {
        // This member's record is in the bucket, so the initial values end with one marked as an update.
        for await (const entry of watch) {
          this.#observe(entry);
          if (entry.isUpdate) loaded();
        }
      } catch {
        // The watch failed (connection trouble): another one starts below.
      }
      loaded();
      this.#restartWatch();
    })();
    await initial;
  }

  /** Watches again after a pause (the initial values come again; revisions already seen are skipped). */
  #restartWatch(): void {
    if (this.#stopped) return;
    setTimeout(() => {
      if (this.#stopped) return;
      this.#startWatch().catch(() => this.#restartWatch());
    }, Math.max(1, this.#leaseTtl / 4)).unref();
  }

  #observe(entry: KvEntry): void {
    const { changed, unreadable } = this.#view.observe(entry);
    if (unreadable !== undefined) this.#emit('unreadableRecord', { key: entry.key, error: unreadable });
    if (changed) this.#scheduleRound();
  }

  #isAlive(memberId: string): boolean {
    return memberId === this.memberId ? !this.#stopped && this.#heartbeatHealthy() : this.#view.isAlive(memberId);
  }

  #heartbeatHealthy(): boolean {
    return performance.now() - this.#lastBeatOk < this.#leaseTtl;
  }

  // --- heartbeat ---

  #heartbeat(): void {
    if (this.#stopped) return;
    this.#scheduleRound();
    if (this.#beatInFlight) return;
    this.#beatInFlight = true;
    const started = performance.now();
    this.#writeRecord().then(
      () => {
        this.#lastBeatOk = Math.max(this.#lastBeatOk, started);
      },
      () => undefined,
    ).finally(() => {
      this.#beatInFlight = false;
    });
  }

  async #writeRecord(): Promise<void> {
    const record: MemberRecord = {
      version: 1,
      id: this.memberId,
      host: hostname(),
      pid: process.pid,
      startedAt: this.#startedAt,
      beat: ++this.#beat,
      draining: this.#draining,
      partitions: this.owned(),
      sessions: this.#sessions(),
    };
    await this.#kv.put(memberKey(this.memberId), encodeRecord(record), { timeout: this.#leaseTtl });
  }

  /** The member's session count; a throwing `describe` must not stop the heartbeat (its error surfaces later). */
  #sessions(): number {
    try {
      return this.#describe().sessions;
    } catch (error) {
      rethrowLater(error);
      return 0;
    }
  }

  // --- rounds ---

  #scheduleRound(): void {
    if (this.#roundQueued || this.#stopped || !this.#loaded) return;
    this.#roundQueued = true;
    queueMicrotask(() => {
      this.#roundQueued = false;
      this.#round();
    });
  }

  #round(): void {
    if (this.#stopped) return;
    const healthy = this.#heartbeatHealthy();
    if (!healthy) {
      for (const partition of [...this.#held.keys()]) {
        this.#abandon(partition, 'heartbeat', `this member could not write its heartbeat for ${this.#leaseTtl} ms`);
      }
    }
    const now = performance.now();
    for (const [partition, until] of this.#coolDown) if (until <= now) this.#coolDown.delete(partition);
    const targets = this.#view.liveMembers(this.memberId);
    if (!this.#draining) targets.push(this.memberId);
    const leases = this.#view.leases();
    const plan = planRound({
      self: this.memberId,
      partitions: this.#partitions,
      targets,
      isAlive: (id) => this.#isAlive(id),
      leases,
      held: this.#held,
      resting: new Set(this.#coolDown.keys()),
      maxMoves: this.#maxMoves,
      maxAcquiring: this.#maxAcquiring,
      mayTake: healthy && !this.#draining,
      draining: this.#draining,
    });
    for (const partition of plan.abandon) {
      // A lease not written yet: its compare-and-set decides (a refusal drops the hold).
      if ((this.#held.get(partition)?.revision ?? 0) === 0) continue;
      const lease = leases.get(partition);
      const owner = lease === undefined || lease === 'unreadable' ? 'another member' : `member ${JSON.stringify(lease.owner)}`;
      this.#abandon(partition, 'taken', `partition ${partition}'s lease was taken by ${owner}`);
    }
    for (const partition of plan.take) void this.#take(partition);
    for (const partition of plan.disown) void this.#disown(partition);
    for (const partition of plan.handOver) if (this.#held.has(partition)) void this.#handOver(partition);
    this.#checkIdle();
  }

  async #take(partition: number): Promise<void> {
    const seen = this.#view.lease(partition);
    const previousEpoch = seen?.lease !== undefined && seen.lease !== 'unreadable' ? seen.lease.epoch : 0;
    const hold: Hold = { state: 'acquiring', epoch: previousEpoch + 1, revision: 0, since: performance.now() };
    this.#held.set(partition, hold);
    const key = partitionKey(partition);
    const bytes = encodeRecord({ version: 1, owner: this.memberId, epoch: hold.epoch });
    try {
      hold.revision = seen === undefined ? await this.#kv.create(key, bytes) : await this.#kv.update(key, bytes, seen.revision);
    } catch {
      // Someone else wrote the lease first: the watch will say who.
      if (this.#held.get(partition) === hold) this.#held.delete(partition);
      this.#scheduleRound();
      this.#checkIdle();
      return;
    }
    this.#view.noteLease(partition, { owner: this.memberId, epoch: hold.epoch }, hold.revision);
    if (this.#held.get(partition) !== hold) {
      // Given up while the lease was being written (failed); stopped members let leases expire.
      if (!this.#stopped) await this.#giveBack(partition, hold);
      return;
    }
    try {
      await this.#host.acquire(partition, hold.epoch);
    } catch (error) {
      if (this.#held.get(partition) !== hold) return;
      this.#held.delete(partition);
      this.#coolDown.set(partition, performance.now() + this.#leaseTtl / 4);
      await this.#giveBack(partition, hold);
      this.#emit('lost', { partition, cause: 'acquire', reason: messageOf(error) });
      this.#scheduleRound();
      this.#checkIdle();
      return;
    }
    if (this.#held.get(partition) !== hold) return;
    hold.state = 'serving';
    this.#emit('acquired', { partition, epoch: hold.epoch, ms: performance.now() - hold.since });
    this.#scheduleRound();
  }

  async #handOver(partition: number): Promise<void> {
    const hold = this.#held.get(partition);
    if (hold === undefined || hold.state !== 'serving') return;
    hold.state = 'releasing';
    const started = performance.now();
    let failure: unknown;
    try {
      await this.#host.release(partition);
    } catch (error) {
      failure = error;
    }
    if (this.#held.get(partition) !== hold) return;
    await this.#giveBack(partition, hold);
    if (this.#held.get(partition) !== hold) return;
    this.#held.delete(partition);
    if (failure === undefined) this.#emit('released', { partition, ms: performance.now() - started });
    else this.#emit('lost', { partition, cause: 'release', reason: messageOf(failure) });
    this.#scheduleRound();
    this.#checkIdle();
  }

  /** Gives back a lease in this member's name that it does not hold (see RoundPlan.disown), once at a time. */
  async #disown(partition: number): Promise<void> {
    const seen = this.#view.lease(partition);
    const lease = seen?.lease;
    if (this.#disowning.has(partition) || seen === undefined || lease === undefined || lease === 'unreadable' || lease.owner !== this.memberId) return;
    this.#disowning.add(partition);
    await this.#giveBack(partition, { epoch: lease.epoch, revision: seen.revision });
    this.#disowning.delete(partition);
    this.#scheduleRound();
  }

  /**
   * Writes `partition`'s lease back to no owner at the same epoch, if it is still at `revision` (a hold
   * of this member's, or a lease in its name it does not hold); else leaves it: it was taken meanwhile,
   * or taken back by this member, and the watch says how.
   */
  async #giveBack(partition: number, { epoch, revision }: { readonly epoch: number; readonly revision: number }): Promise<void> {
    try {
      const written = await this.#kv.update(partitionKey(partition), encodeRecord({ version: 1, owner: null, epoch }), revision);
      this.#view.noteLease(partition, { owner: null, epoch }, written);
    } catch {
      // Changed since `revision`: nothing to give back.
    }
  }

  #abandon(partition: number, cause: LossCause, reason: string): void {
    const hold = this.#held.get(partition);
    if (hold === undefined) return;
    this.#held.delete(partition);
    // Its lease was not written yet: the host never heard of it (the take gives the lease back, if written).
    if (hold.revision === 0) return;
    try {
      this.#host.abandon(partition, reason);
    } catch (error) {
      rethrowLater(error);
    }
    this.#emit('lost', { partition, cause, reason });
  }

  #checkIdle(): void {
    if (this.#held.size !== 0 && !this.#stopped) return;
    const waiting = this.#idle;
    this.#idle = [];
    for (const resolve of waiting) resolve();
  }

  /** Emits without letting a throwing listener break a round: its error surfaces as uncaught, later. */
  #emit<K extends keyof OwnershipEvents>(name: K, ...args: OwnershipEvents[K]): void {
    try {
      (this.emit as (name: K, ...args: OwnershipEvents[K]) => boolean)(name, ...args);
    } catch (error) {
      rethrowLater(error);
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : typeof error === 'string' ? error : 'the host failed without an Error';
}
