// The durable store of one partition of a cluster, in the cluster's JetStream stream: journal segments
// and snapshots as messages, every write fenced on the last sequence this owner wrote.

import { randomBytes } from 'node:crypto';
import type { JetStreamClient, JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import { headers as makeHeaders, type MsgHdrs } from '@nats-io/transport-node';
import type { DurableStore } from '../durable-store.js';
import { ClusterUnavailableError, DurableStoreError, FencedError, InvalidOptionError, ReactorPoolError, describeValue } from '../errors.js';
import { rethrowLater } from '../rethrow-later.js';
import { checkClusterName, checkMemberId, partitionSubjects, streamName } from './cluster-names.js';
import { CHUNK_HEADER, DELETE_HEADER, PartitionView, WRITE_HEADER, concat, snapshotToken, type Chunk, type FenceRecord, type PartitionMessage } from './partition-view.js';

export { ensureClusterStream, type ClusterStreamOptions } from './cluster-stream.js';

/** JetStream's error code for a publish whose expected last sequence did not match: another writer came first. */
const WRONG_LAST_SEQUENCE = 10071;
/** Room left in each message for its subject and headers (expectations, write id, chunk index). */
const HEADER_ROOM = 1024;
/** How many times `takeOver` reads again after its fence lost a race with another write. */
const FENCE_ATTEMPTS = 10;
/** Messages asked for per direct batch get while reading a partition. */
const READ_BATCH = 1024;
/** Bytes asked for per direct batch get (the server sends at least one message). */
const READ_BYTES = 8 * 1024 * 1024;

/** Options of {@link PartitionStore.takeOver}. */
export interface PartitionStoreOptions {
  /** A JetStream client of the member's connection. */
  readonly js: JetStreamClient;
  /** A JetStream manager of the same connection. */
  readonly jsm: JetStreamManager;
  /** The cluster's name (its stream must exist: see {@link ensureClusterStream}). */
  readonly cluster: string;
  /** The partition (a non-negative integer). */
  readonly partition: number;
  /** The member taking the partition over. */
  readonly memberId: string;
  /** The epoch of the member's lease on the partition: more than any fence written before, or the take-over is refused. */
  readonly epoch: number;
  /** The server's largest message in bytes (`nc.info.max_payload`): writes are cut into messages that fit. */
  readonly maxPayload: number;
  /**
   * How long a publish, a read or a purge may wait for the server, in milliseconds.
   * @default 5000
   */
  readonly timeout?: number;
}

/** Called once when the store fails for good (its first refused or failed write). */
export type PartitionStoreFailureListener = (failure: ReactorPoolError) => void;

/**
 * One partition's {@link DurableStore} in the cluster's stream, for the member owning the partition.
 *
 * Subjects (see `partitionSubjects`): `.fence` holds fence records (JSON: member, epoch, identity),
 * `.j.<segment>` a journal segment's appends in order (cut to the server's message size), `.s.<name>`
 * a snapshot's writes (each write's chunks carry a write id and `index/count`; readers take the
 * newest complete write; the older writes are purged after it). A delete publishes a marker on the
 * subject, then purges the subject up to the marker.
 *
 * Fencing: `takeOver` reads the whole partition, then publishes a fence record expecting the last
 * sequence it read on the partition's subjects; every later write (the identity record of `open`,
 * appends, snapshots, delete markers) expects the last sequence this store wrote. Once another member
 * fenced the partition, the next write is refused: the store fails for good (`failure` is set,
 * `onFailure` listeners are called once, and every later write or delete rejects with it, ERR_FENCED
 * when refused by a fence, ERR_DURABLE_STORE when a write failed otherwise). Writes run one at a time.
 *
 * The module identity is recorded by `open` as a second fence record of the same member and epoch,
 * carrying the identity: a partition's state is for the identity of the last fence record that carried one.
 *
 * The owner is the only writer, so what is stored is known without asking: the list of segments
 * and snapshots is kept in memory, with the bytes of the journal read at take-over until it is read
 * back (at open); the rest is fetched from the stream by sequence when read.
 */
export class PartitionStore implements DurableStore {
  readonly cluster: string;
  readonly partition: number;
  readonly memberId: string;
  readonly epoch: number;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #stream: string;
  readonly #subjects: ReturnType<typeof partitionSubjects>;
  readonly #chunkBytes: number;
  readonly #timeout: number;
  readonly #view: PartitionView;
  /** The sequence every next write expects as the last on the partition's subjects. */
  #last: number;
  #state: 'taken' | 'open' | 'closed' = 'taken';
  #failure: ReactorPoolError | undefined;
  readonly #listeners = new Set<PartitionStoreFailureListener>();
  /** The writes, one after another. */
  #tail: Promise<unknown> = Promise.resolve();

  private constructor(options: ResolvedOptions, view: PartitionView, last: number) {
    this.cluster = options.cluster;
    this.partition = options.partition;
    this.memberId = options.memberId;
    this.epoch = options.epoch;
    this.#js = options.js;
    this.#jsm = options.jsm;
    this.#stream = streamName(options.cluster);
    this.#subjects = partitionSubjects(options.cluster, options.partition);
    this.#chunkBytes = options.maxPayload - HEADER_ROOM;
    this.#timeout = options.timeout;
    this.#view = view;
    this.#last = last;
  }

  /**
   * Reads every message of the partition, then fences it for `memberId` at `epoch`. Rejects
   * ERR_FENCED if a fence of `epoch` or later is there already, ERR_CLUSTER_UNAVAILABLE if the
   * partition could not be read or kept changing under the fence, ERR_CLUSTER_MISMATCH for records
   * this version cannot read.
   */
  static async takeOver(options: PartitionStoreOptions): Promise<PartitionStore> {
    const resolved = resolveOptions(options);
    const stream = streamName(resolved.cluster);
    const subjects = partitionSubjects(resolved.cluster, resolved.partition);
    const prefix = subjects.fence.slice(0, -'fence'.length);
    let view = new PartitionView(prefix);
    await readPartition(resolved, stream, subjects.all, view, 1);
    for (let attempt = 1; ; attempt++) {
      refuseOlderEpoch(resolved, view.fence);
      const record: FenceRecord = { version: 1, member: resolved.memberId, epoch: resolved.epoch, identity: null };
      const data = new TextEncoder().encode(JSON.stringify(record));
      try {
        const ack = await resolved.js.publish(subjects.fence, data, {
          expect: { lastSubjectSequence: view.lastStored, lastSubjectSequenceSubject: subjects.all },
          timeout: resolved.timeout,
        });
        view.apply({ subject: subjects.fence, seq: ack.seq, data, header: () => undefined }, false);
        return new PartitionStore(resolved, view, ack.seq);
      } catch (error) {
        if (codeOf(error) !== WRONG_LAST_SEQUENCE) throw unavailable(`partition ${resolved.partition}: the fence record could not be written`, error);
        if (attempt >= FENCE_ATTEMPTS) {
          throw new ClusterUnavailableError(`partition ${resolved.partition}: another writer came first ${FENCE_ATTEMPTS} times in a row while fencing it`);
        }
      }
      // A write slipped in between: read what came after. If nothing did, something read was purged:
      // read it all again.
      const before = view.highest;
      await readPartition(resolved, stream, subjects.all, view, before + 1);
      if (view.highest === before) {
        view = new PartitionView(prefix);
        await readPartition(resolved, stream, subjects.all, view, 1);
      }
    }
  }

  /** Why the store failed for good (its first refused or failed write), or undefined while it has not. */
  get failure(): ReactorPoolError | undefined {
    return this.#failure;
  }

  /**
   * Calls `listener` once when the store fails for good (at once if it has already). Returns a
   * function that removes it.
   */
  onFailure(listener: PartitionStoreFailureListener): () => void {
    if (this.#failure !== undefined) {
      listener(this.#failure);
      return () => undefined;
    }
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  async open(identity: string): Promise<void> {
    if (this.#state !== 'taken') throw new DurableStoreError(`${this.#where()} was already opened`);
    if (typeof identity !== 'string' || identity.length === 0 || /[\r\n]/.test(identity)) {
      throw new DurableStoreError(`Expected a module identity (a non-empty one-line string), got ${describeValue(identity)}`);
    }
    const held = this.#view.identity;
    if (held !== undefined && held !== identity) {
      this.#state = 'closed';
      throw new DurableStoreError(`${this.#where()} was written for module ${held}, not for this module (${identity})`);
    }
    const record: FenceRecord = { version: 1, member: this.memberId, epoch: this.epoch, identity };
    this.#state = 'open';
    try {
      await this.#write(async () => {
        const seq = await this.#publish(this.#subjects.fence, new TextEncoder().encode(JSON.stringify(record)));
        // The fence records before this one are superseded (it is the newest, and carries the identity):
        // purged, so they do not pile up over the partition's owners. Failing here harms nothing.
        if (this.#view.storedOn('fence').some((stored) => stored < seq)) {
          await this.#jsm.streams.purge(this.#stream, { filter: this.#subjects.fence, seq }).then(
            () => this.#view.purged('fence', seq - 1),
            () => undefined,
          );
        }
      });
    } catch (error) {
      this.#state = 'closed';
      throw error;
    }
  }

  segments(): Promise<number[]> {
    return this.#read(() => this.#view.segments());
  }

  async readSegment(segment: number): Promise<Uint8Array> {
    this.#ensureOpen();
    const chunks = this.#view.segment(checkSegment(segment));
    if (chunks === undefined) throw new DurableStoreError(`${this.#where()} has no journal segment ${segment}`);
    const parts = await this.#fetch(chunks, `journal segment ${segment}`);
    // The journal is read back once, at open: the bytes need not be held after.
    this.#view.letGo(segment);
    // A copy whatever the count: the view keeps what it holds.
    return parts.length === 1 ? (parts[0] ?? new Uint8Array(0)).slice() : concat(parts);
  }

  async append(segment: number, bytes: Uint8Array): Promise<void> {
    const subject = `${this.#subjects.journal}.${checkSegment(segment)}`;
    return this.#write(async () => {
      const count = Math.max(1, Math.ceil(bytes.byteLength / this.#chunkBytes));
      for (let index = 0; index < count; index++) {
        await this.#publish(subject, bytes.subarray(index * this.#chunkBytes, (index + 1) * this.#chunkBytes));
      }
    });
  }

  async deleteSegment(segment: number): Promise<void> {
    const token = `j.${checkSegment(segment)}`;
    return this.#write(() => this.#delete(token));
  }

  async writeSnapshot(name: string, bytes: Uint8Array): Promise<void> {
    const token = `s.${snapshotToken(checkName(name))}`;
    return this.#write(async () => {
      const subject = this.#subject(token);
      const id = randomBytes(8).toString('hex');
      const count = Math.max(1, Math.ceil(bytes.byteLength / this.#chunkBytes));
      let first = 0;
      for (let index = 0; index < count; index++) {
        const headers = makeHeaders();
        headers.set(WRITE_HEADER, id);
        headers.set(CHUNK_HEADER, `${index}/${count}`);
        const seq = await this.#publish(subject, bytes.subarray(index * this.#chunkBytes, (index + 1) * this.#chunkBytes), headers);
        if (index === 0) first = seq;
      }
      // The older writes are superseded: purge them (only what came before ours, so never anyone's later
      // write). Failing here harms nothing: readers take the newest complete write anyway.
      if (this.#view.storedOn(token).some((seq) => seq < first)) {
        try {
          await this.#jsm.streams.purge(this.#stream, { filter: subject, seq: first });
          this.#view.purged(token, first - 1);
        } catch {
          // kept: purged again by the next write or delete of this name
        }
      }
    });
  }

  async readSnapshot(name: string): Promise<Uint8Array | undefined> {
    this.#ensureOpen();
    checkName(name);
    // A write of the same name may replace (and purge) the chunks while they are fetched: then the new ones are read.
    for (let attempt = 1; ; attempt++) {
      const chunks = this.#view.snapshot(name);
      if (chunks === undefined) return undefined;
      try {
        return concat(await this.#fetch(chunks, `snapshot ${describeValue(name)}`));
      } catch (error) {
        if (attempt >= 3 || this.#view.snapshot(name) === chunks) throw error;
      }
    }
  }

  async deleteSnapshot(name: string): Promise<void> {
    const token = `s.${snapshotToken(checkName(name))}`;
    return this.#write(() => this.#delete(token));
  }

  snapshots(): Promise<string[]> {
    return this.#read(() => this.#view.snapshotNames());
  }

  /** Waits for the writes under way, then lets the store go. The connection stays open (it is the member's). */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    await this.#tail;
  }

  /** The bytes of `chunks`, from the view where it holds them, else from the stream by sequence. */
  async #fetch(chunks: readonly Chunk[], what: string): Promise<Uint8Array[]> {
    return Promise.all(chunks.map(async ({ seq, data }) => {
      if (data !== undefined) return data;
      let stored: StoredMsg | null;
      try {
        stored = await this.#jsm.direct.getMessage(this.#stream, { seq });
      } catch (error) {
        throw new DurableStoreError(`${this.#where()}: ${what} could not be read: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (stored === null) throw new DurableStoreError(`${this.#where()}: ${what} could not be read: its message at sequence ${seq} is gone`);
      // A copy: the client's buffer may hold other messages too.
      return stored.data.slice();
    }));
  }

  /** A read, served from memory: rejects (never throws) unless the store is open. */
  #read<T>(work: () => T): Promise<T> {
    try {
      this.#ensureOpen();
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Runs `work` after every write before it settled, unless the store is not open or has failed. */
  #write(work: () => Promise<unknown>): Promise<void> {
    const run = this.#tail.then(async () => {
      this.#ensureOpen();
      if (this.#failure !== undefined) throw this.#failure;
      await work();
    });
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /** Publishes one fenced message; resolves with its sequence. A refusal or failure fails the store. */
  async #publish(subject: string, data: Uint8Array, headers?: MsgHdrs): Promise<number> {
    let seq: number;
    try {
      const ack = await this.#js.publish(subject, data, {
        expect: { lastSubjectSequence: this.#last, lastSubjectSequenceSubject: this.#subjects.all },
        timeout: this.#timeout,
        ...(headers === undefined ? {} : { headers }),
      });
      seq = ack.seq;
    } catch (error) {
      throw this.#fail(error, `a write to ${subject}`);
    }
    this.#last = seq;
    this.#view.apply({ subject, seq, data, header: (name) => headers?.get(name) || undefined }, false);
    return seq;
  }

  /** A delete: a fenced marker, then a purge of the subject up to it (the marker included). */
  async #delete(token: string): Promise<void> {
    if (this.#view.storedOn(token).length === 0) return;
    const subject = this.#subject(token);
    const headers = makeHeaders();
    headers.set(DELETE_HEADER, '1');
    const marker = await this.#publish(subject, new Uint8Array(0), headers);
    try {
      await this.#jsm.streams.purge(this.#stream, { filter: subject, seq: marker + 1 });
    } catch (error) {
      // Whether the purge happened is unknown now, and with it the last sequence to expect.
      throw this.#fail(error, `a purge of ${subject}`);
    }
    this.#view.purged(token, marker);
    // Our fence record is never purged, so what remains is at least ours: no one else's write.
    this.#last = this.#view.lastStored;
  }

  /** Makes the store fail for good (once) and returns its failure. */
  #fail(error: unknown, what: string): ReactorPoolError {
    if (this.#failure !== undefined) return this.#failure;
    const message = error instanceof Error ? error.message : String(error);
    this.#failure = codeOf(error) === WRONG_LAST_SEQUENCE
      ? new FencedError(`${this.#where()}: ${what} was refused: another member took the partition over after epoch ${this.epoch} (${message}); nothing more is written here`)
      : new DurableStoreError(`${this.#where()}: ${what} failed, so nothing more is written here: ${message}`);
    const listeners = [...this.#listeners];
    this.#listeners.clear();
    for (const listener of listeners) {
      try {
        listener(this.#failure);
      } catch (thrown) {
        rethrowLater(thrown);
      }
    }
    return this.#failure;
  }

  #subject(token: string): string {
    return `${this.#subjects.fence.slice(0, -'fence'.length)}${token}`;
  }

  #where(): string {
    return `partition ${this.partition} of cluster ${this.cluster} (member ${this.memberId}, epoch ${this.epoch})`;
  }

  #ensureOpen(): void {
    if (this.#state !== 'open') throw new DurableStoreError(`${this.#where()} is ${this.#state === 'closed' ? 'closed' : 'not open yet'}`);
  }
}

type ResolvedOptions = Readonly<Required<PartitionStoreOptions>>;

function resolveOptions(options: PartitionStoreOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError(`Expected the partition store's options to be an object, got ${describeValue(options)}`);
  const { js, jsm, partition, epoch, maxPayload, timeout = 5000 } = options;
  if (typeof js?.publish !== 'function') throw new InvalidOptionError(`Expected \`js\` to be a JetStream client, got ${describeValue(js)}`);
  if (typeof jsm?.streams !== 'object' || typeof jsm.direct !== 'object') throw new InvalidOptionError(`Expected \`jsm\` to be a JetStream manager, got ${describeValue(jsm)}`);
  if (!Number.isSafeInteger(partition) || partition < 0) throw new InvalidOptionError(`Expected \`partition\` to be a non-negative integer, got ${describeValue(partition)}`);
  if (!Number.isSafeInteger(epoch) || epoch < 1) throw new InvalidOptionError(`Expected \`epoch\` to be a positive integer, got ${describeValue(epoch)}`);
  if (!Number.isSafeInteger(maxPayload) || maxPayload <= 2 * HEADER_ROOM) {
    throw new InvalidOptionError(`Expected \`maxPayload\` to be an integer above ${2 * HEADER_ROOM} (bytes), got ${describeValue(maxPayload)}`);
  }
  if (!Number.isSafeInteger(timeout) || timeout < 1) throw new InvalidOptionError(`Expected \`timeout\` to be a positive integer (ms), got ${describeValue(timeout)}`);
  return { js, jsm, cluster: checkClusterName(options.cluster), partition, memberId: checkMemberId(options.memberId), epoch, maxPayload, timeout };
}

function refuseOlderEpoch(options: ResolvedOptions, fence: FenceRecord | undefined): void {
  if (fence !== undefined && fence.epoch >= options.epoch) {
    throw new FencedError(`partition ${options.partition} of cluster ${options.cluster} is fenced at epoch ${fence.epoch} by member ${fence.member}: member ${options.memberId} cannot take it over at epoch ${options.epoch}`);
  }
}

/**
 * Reads every message under `all` from sequence `from` into `view` (direct gets in batches, in
 * sequence order), until a batch says nothing is left after its last message (each message carries
 * how many matching ones follow it in the stream).
 */
async function readPartition(options: ResolvedOptions, stream: string, all: string, view: PartitionView, from: number): Promise<void> {
  for (let next = from; ;) {
    let read = 0;
    let pending = -1;
    try {
      const batch = await options.jsm.direct.getBatch(stream, { seq: next, next_by_subj: all, batch: READ_BATCH, max_bytes: READ_BYTES });
      for await (const stored of batch) {
        view.apply(messageOf(stored), true);
        next = stored.seq + 1;
        pending = stored.pending;
        read++;
      }
    } catch (error) {
      if (error instanceof ReactorPoolError) throw error;
      // 404: nothing on or after `next`.
      if (codeOf(error) !== 404) throw unavailable(`partition ${options.partition}: its messages could not be read`, error);
    }
    if (read === 0 || pending === 0) return;
  }
}

function messageOf(stored: StoredMsg): PartitionMessage {
  return { subject: stored.subject, seq: stored.seq, data: stored.data, header: (name) => stored.header.get(name) || undefined };
}

function checkSegment(segment: number): number {
  if (!Number.isSafeInteger(segment) || segment < 0) throw new DurableStoreError(`Expected a segment number (a non-negative integer), got ${describeValue(segment)}`);
  return segment;
}

function checkName(name: string): string {
  if (typeof name !== 'string' || name.length === 0) throw new DurableStoreError(`Expected a snapshot name (a non-empty string), got ${describeValue(name)}`);
  return name;
}

function codeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}

function unavailable(what: string, error: unknown): ReactorPoolError {
  if (error instanceof ReactorPoolError) return error;
  return new ClusterUnavailableError(`${what}: ${error instanceof Error ? error.message : String(error)}`);
}
