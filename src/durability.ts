// Durable sessions on the main thread: the journal every acknowledged operation is written to (group
// commit), each session's history in it, checkpoints that compact it into snapshots, and the plans
// that rebuild a session (snapshot + records) after a loss or a restart.

import { createHash } from 'node:crypto';
import { DurableStoreError, JournalWriteError } from './errors.js';
import type { ResolvedDurability } from './durability-options.js';
import { decodeDurableSnapshot, encodeDurableSnapshot } from './durable-snapshot-file.js';
import {
  ByteWriter, CallFlags, RecordType, decodeRecord, encodeCallRecord, type CallValues, type JournalRecord,
} from './journal-record.js';
import { readJournal } from './journal-reader.js';
import { frameReplayRecords } from './replay-records.js';
import { JournalWriter } from './journal-writer.js';
import { SessionHistory, type Base } from './session-history.js';

/** What the pool does when durability needs a session to act. */
export interface DurabilityHooks {
  /** Records of the session were never acknowledged (a write failed): rebuild it from what is durable. */
  rollback(key: string, cause: JournalWriteError): void;
  /** The session is due a checkpoint (its journal is to be compacted into a snapshot). */
  checkpointDue(key: string): void;
}

/** How to rebuild a session: a snapshot to restore (or none: a fresh instance) and the records to replay after it. */
export interface RecoveryPlan {
  readonly base: Uint8Array | undefined;
  /** The records' bodies, framed for the replay operation (see replay-records.ts). */
  readonly records: Uint8Array;
  readonly count: number;
}

/** A call's outcome as the journal keeps it. */
export type CallEntry = CallValues;

/** What a journaled call settles once its record is durable (or could not be made so). */
export interface JournaledJob {
  acknowledge(value: unknown): void;
  refuse(error: unknown): void;
}

/** Called once the record is durable (no error), or could not be made so. */
export type Acknowledge = (error: JournalWriteError | undefined) => void;

const NO_BYTES = new Uint8Array(0);

type BaseRead =
  | { readonly ok: true; readonly bytes: Uint8Array | undefined; readonly table: readonly (readonly [string, Uint8Array])[] }
  | { readonly ok: false; readonly why: string };

export class Durability {
  readonly options: ResolvedDurability;
  readonly #writer: JournalWriter;
  readonly #histories = new Map<string, SessionHistory>();
  /** Histories with records not yet in a snapshot: the time policy looks at these only. */
  readonly #dirty = new Set<SessionHistory>();
  /** Journal segments on the store, ascending. */
  #segments: number[];
  #generation: number;
  #hooks: DurabilityHooks | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(options: ResolvedDurability, writer: JournalWriter, segments: number[], generation: number) {
    this.options = options;
    this.#writer = writer;
    this.#segments = segments;
    this.#generation = generation;
  }

  /** Takes the store, reads its journal back and rebuilds every session's history from it. */
  static async open(options: ResolvedDurability, identity: string): Promise<Durability> {
    const { store, where } = options;
    try {
      await store.open(identity);
    } catch (error) {
      if (error instanceof DurableStoreError) throw error;
      throw new DurableStoreError(`${where} could not be opened: ${error instanceof Error ? error.message : String(error)}`);
    }
    let journal: Awaited<ReturnType<typeof readJournal>>;
    try {
      journal = await readJournal(store);
    } catch (error) {
      await store.close().catch(() => undefined);
      throw new DurableStoreError(`${where}: the journal could not be read: ${error instanceof Error ? error.message : String(error)}`);
    }
    const names = await store.snapshots();
    let generation = 1;
    for (const name of names) {
      const parsed = /-(\d+)$/.exec(name);
      if (parsed !== null) generation = Math.max(generation, Number(parsed[1]) + 1);
    }
    const segments = [...new Set([...journal.segments, journal.nextSegment])].sort((a, b) => a - b);
    const writer = new JournalWriter(store, { segment: journal.nextSegment, segmentBytes: options.segmentBytes });
    const durability = new Durability(options, writer, segments, generation);
    for (const { segment, record, body } of journal.entries) durability.#replayRecord(record, body, segment);
    // Said, not thrown: a torn tail is what a crash mid-write leaves (nothing acknowledged was in it).
    const damage = journal.damage.map((cut) => `segment ${cut.segment} at ${cut.offset}: ${cut.message}`);
    if (damage.length > 0) {
      process.emitWarning(`${where}: the journal was cut where it stopped being whole records (${damage.join('; ')})`, { code: 'REACTOR_POOL_JOURNAL_DAMAGE' });
    }
    // Snapshot files no history names any more (a close, a crash between a snapshot and its record) are garbage.
    const named = new Set<string>();
    for (const history of durability.#histories.values()) {
      for (const base of [history.base, history.previous]) {
        if (base?.generation !== undefined) named.add(snapshotName(history.key, base.generation));
      }
    }
    await Promise.all(names.filter((name) => !named.has(name)).map((name) => store.deleteSnapshot(name).catch(() => undefined)));
    // Segments left by earlier runs: a compaction round frees the oldest (the journal goes on in a new one).
    if (segments.length > 2) durability.#compact();
    return durability;
  }

  /** Starts the time policy; `hooks` act on sessions. */
  start(hooks: DurabilityHooks): void {
    this.#hooks = hooks;
    const ms = this.options.snapshotEvery.ms;
    this.#timer = setInterval(() => this.#sweep(), Math.max(10, Math.min(ms / 4, 1000)));
    this.#timer.unref();
  }

  /** The keys of every session the store holds state for. */
  keys(): string[] {
    const keys: string[] = [];
    for (const history of this.#histories.values()) if (history.holdsState) keys.push(history.key);
    return keys;
  }

  /** The session's history, made empty if it has none yet. */
  historyFor(key: string): SessionHistory {
    let history = this.#histories.get(key);
    if (history === undefined) {
      history = new SessionHistory(key);
      this.#histories.set(key, history);
    }
    return history;
  }

  /**
   * Journals a call (or callMany) that ran; once it is durable `job` is acknowledged with the call's
   * value (or refused with `failure`, a call that failed and kept its instance), or refused with the
   * write's error.
   */
  recordCall(history: SessionHistory, entry: CallEntry, job: JournaledJob, failure: Error | undefined): void {
    const seq = history.seq + 1;
    // Read now: `entry` is the caller's to reuse once this returns.
    const { idempotencyKey, outcome } = entry;
    this.#callKey = history.keyBytes;
    this.#callSeq = seq;
    this.#call = entry;
    const before = this.#writer.segment;
    this.#writer.appendWith(this.#encodeCall, (error) => {
      if (error !== undefined) {
        const refused = journalError(this.options.where, error);
        this.#rollback(history, refused);
        job.refuse(refused);
        return;
      }
      history.acknowledged(seq);
      if (idempotencyKey !== undefined) history.remember(idempotencyKey, outcomeBytes(history, seq), this.options.idempotencyKeys);
      if (failure !== undefined) job.refuse(failure);
      else job.acknowledge(outcome);
    });
    const segment = this.#writer.segment;
    if (segment !== before) this.#rotated(segment);
    this.#pushed(history, this.#writer.lastBody, seq, segment, (entry.flags & CallFlags.Opened) !== 0);
  }

  #callKey: Uint8Array = NO_BYTES;
  #callSeq = 0;
  #call: CallEntry | undefined;
  readonly #encodeCall = (out: ByteWriter): void => encodeCallRecord(out, this.#callKey, this.#callSeq, this.#call as CallEntry);

  /** Journals a fresh instance's start (a reset, or a first operation that is no call). */
  recordStart(history: SessionHistory, tape: Uint8Array | undefined, done: Acknowledge): void {
    this.#append(history, { type: RecordType.Start, key: history.key, seq: history.seq + 1, tape: tape ?? NO_BYTES }, true, done);
  }

  /** Journals the session's end: once durable, its history and snapshots are gone. */
  recordClose(history: SessionHistory, done: Acknowledge): void {
    if (!history.holdsState && history.seq === 0) {
      this.#forget(history);
      done(undefined);
      return;
    }
    this.#writeRecord({ type: RecordType.Close, key: history.key, seq: history.seq }, (error) => {
      if (error === undefined) {
        const doomed = [history.base, history.previous];
        this.#forget(history);
        for (const base of doomed) if (base?.generation !== undefined) void this.options.store.deleteSnapshot(snapshotName(history.key, base.generation)).catch(() => undefined);
      }
      done(error);
    });
  }

  /**
   * Makes `snapshot` (taken after record `coveredSeq`) the session's base: once the records it covers
   * are durable, it is written, then its record. False if a rollback made it moot or a write failed.
   */
  async checkpoint(history: SessionHistory, snapshot: Uint8Array, coveredSeq: number, replaces = false): Promise<boolean> {
    const rollbacks = history.rollbacks;
    await history.durable(coveredSeq);
    if (history.rollbacks !== rollbacks || this.#histories.get(history.key) !== history) return false;
    const generation = this.#generation++;
    const name = snapshotName(history.key, generation);
    const idempotency = [...history.idempotency].map(([key, outcome]) => ({ key, outcome }));
    const file = encodeDurableSnapshot({ sessionKey: history.key, seq: coveredSeq, idempotency, snapshot });
    try {
      await this.options.store.writeSnapshot(name, file);
    } catch {
      return false;
    }
    // A checkpoint that a newer one overtook (its file took longer) must not become the base again.
    const stale = (): boolean => history.rollbacks !== rollbacks || this.#histories.get(history.key) !== history ||
      (!replaces && history.base.generation !== undefined && coveredSeq <= history.base.seq);
    const written = await new Promise<boolean>((resolve) => {
      if (stale()) {
        resolve(false);
        return;
      }
      const position = this.#writeRecord({ type: RecordType.Snapshot, key: history.key, seq: coveredSeq, generation, replaces }, (error) => {
        if (error !== undefined || stale()) {
          resolve(false);
          return;
        }
        const dropped = history.previous;
        history.snapshotted(generation, coveredSeq, position.segment, replaces);
        if (history.baseAt === history.records.length) this.#dirty.delete(history);
        if (dropped?.generation !== undefined) void this.options.store.deleteSnapshot(snapshotName(history.key, dropped.generation)).catch(() => undefined);
        resolve(true);
      });
    });
    if (!written) await this.options.store.deleteSnapshot(name).catch(() => undefined);
    else this.#checkpointed = true;
    return written;
  }

  /** How to rebuild the session: its base snapshot (or the one before, if that one is unreadable) and the records since. */
  async plan(history: SessionHistory): Promise<RecoveryPlan> {
    // Taken now, in one piece: a checkpoint that completes while the snapshot file is read changes the
    // history's base and records, and a plan mixing the old base with the new records would be wrong.
    const view: HistoryView = { base: history.base, previous: history.previous, records: history.records.slice(), seqs: history.seqs.slice() };
    const at = view.seqs.findIndex((seq) => seq > view.base.seq);
    const from = at < 0 ? view.seqs.length : at;
    const latest = await this.#readBase(history, view.base);
    const gap = latest.ok ? gapIn(view, view.base, from) : undefined;
    if (latest.ok && gap === undefined) {
      history.loadTable(latest.table, this.options.idempotencyKeys);
      return packPlan(latest.bytes, view.records.slice(from));
    }
    const previous = view.previous;
    let why = latest.ok ? gap : latest.why;
    if (previous !== undefined) {
      const older = await this.#readBase(history, previous);
      const olderGap = older.ok ? gapIn(view, previous, 0) : undefined;
      if (older.ok && olderGap === undefined) {
        history.loadTable(older.table, this.options.idempotencyKeys);
        return packPlan(older.bytes, view.records);
      }
      why = `${why ?? ''}; the one before: ${older.ok ? olderGap ?? '' : older.why}`;
    }
    throw new DurableStoreError(`session ${JSON.stringify(history.key)}: its durable state cannot be rebuilt: ${why ?? ''}`, { sessionKey: history.key });
  }

  /** Resolves once everything appended so far is durable (or failed); then releases the store. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#writer.idle();
    await this.options.store.close().catch(() => undefined);
  }

  async #readBase(history: SessionHistory, base: SessionHistory['base']): Promise<BaseRead> {
    if (base.generation === undefined) return { ok: true, bytes: undefined, table: [] };
    try {
      const file = await this.options.store.readSnapshot(snapshotName(history.key, base.generation));
      if (file === undefined) return { ok: false, why: `snapshot ${base.generation} is missing` };
      const decoded = decodeDurableSnapshot(file);
      if (decoded.sessionKey !== history.key || decoded.seq !== base.seq) return { ok: false, why: `snapshot ${base.generation} belongs to another session or record` };
      return { ok: true, bytes: decoded.snapshot, table: decoded.idempotency.map((entry) => [entry.key, entry.outcome] as const) };
    } catch (error) {
      return { ok: false, why: error instanceof Error ? error.message : String(error) };
    }
  }

  #append(history: SessionHistory, record: JournalRecord, fresh: boolean, done: Acknowledge): void {
    const seq = record.seq;
    const position = this.#writeRecord(record, (error) => {
      if (error === undefined) {
        history.acknowledged(seq);
        done(undefined);
        return;
      }
      this.#rollback(history, error);
      done(error);
    });
    this.#pushed(history, this.#writer.lastBody, seq, position.segment, fresh);
  }

  /** A record of the session was appended: its history keeps it, and the compaction policy looks. */
  #pushed(history: SessionHistory, body: Uint8Array, seq: number, segment: number, fresh: boolean): void {
    history.push(body, seq, segment, true, this.#now());
    if (fresh) history.startedFresh(segment);
    this.#dirty.add(history);
    this.#policy(history);
  }

  /** Milliseconds, read at most once per turn (a record does not need a clock reading of its own). */
  #now(): number {
    if (this.#clock === 0) {
      this.#clock = Date.now();
      queueMicrotask(() => {
        this.#clock = 0;
      });
    }
    return this.#clock;
  }

  #clock = 0;

  /** Encodes a record straight into the journal's group (its body is then the writer's `lastBody`). */
  #writeRecord(record: JournalRecord, done: (error: JournalWriteError | undefined) => void): { segment: number; offset: number } {
    let offset = 0;
    const segment = this.#appendNoting((d) => {
      offset = this.#writer.appendRecord(record, d);
    }, (error) => done(error === undefined ? undefined : journalError(this.options.where, error)));
    return { segment, offset };
  }

  /** A write failed: the session's records since the last durable one are void; it is rebuilt without them. */
  #rollback(history: SessionHistory, error: JournalWriteError): void {
    if (history.seq <= history.durableSeq) return; // rolled back already for this failure
    history.truncate(history.durableSeq);
    history.rollbacks++;
    history.wakeAll();
    this.#hooks?.rollback(history.key, journalError(this.options.where, error));
  }

  /** Asks for a checkpoint once the session passed a count or size bound. */
  #policy(history: SessionHistory): void {
    const every = this.options.snapshotEvery;
    if (history.checkpointing) return;
    if (history.callsSinceBase >= every.calls || history.bytesSinceBase >= every.bytes) this.#hooks?.checkpointDue(history.key);
  }

  #sweep(): void {
    // Checkpoints since the last look may have freed old segments (looked at here, not per checkpoint:
    // it goes over every session).
    if (this.#checkpointed && this.#segments.length > 1 && this.#carrying === 0) {
      this.#checkpointed = false;
      this.#deleteUnneeded();
    }
    if (this.options.snapshotEvery.ms === Number.POSITIVE_INFINITY) return;
    const limit = Date.now() - this.options.snapshotEvery.ms;
    for (const history of this.#dirty) {
      if (history.checkpointing || history.oldestSinceBase === 0) continue;
      if (history.oldestSinceBase <= limit) this.#hooks?.checkpointDue(history.key);
    }
  }

  /** The writer moved to a new segment: a compaction round frees the oldest one. */
  #rotated(segment: number): void {
    if (!this.#segments.includes(segment)) this.#segments.push(segment);
    // Not in this turn: the record whose append rotated is not in its session's history yet, and a
    // copy of the records before it written after it would read back as replacing it.
    queueMicrotask(() => this.#compact());
  }

  /**
   * A compaction round: every session whose oldest needed record (or base) is in the oldest segment
   * is carried forward — its base's record and the records since are written again — and once they
   * are durable, every segment no session needs any more is deleted. A session's fallback (the base
   * before) is dropped by the carry: each round frees a segment without waiting for new snapshots.
   */
  #compact(): void {
    const current = this.#writer.segment;
    const oldest = this.#segments[0];
    if (oldest === undefined || oldest >= current || this.#carrying > 0) return;
    for (const history of this.#histories.values()) if (history.floor <= oldest && !history.carrying) this.#carry(history);
    if (this.#carrying === 0) this.#deleteUnneeded();
  }

  /** Sessions being carried forward in this round. */
  #carrying = 0;
  /** A checkpoint was made since the sweep last looked for segments to delete. */
  #checkpointed = false;

  #carry(history: SessionHistory): void {
    const at = history.baseAt;
    const bodies = history.records.slice(at);
    const seqs = history.seqs.slice(at);
    const base = history.base;
    history.carrying = true;
    this.#carrying++;
    let left = bodies.length + (base.generation === undefined ? 0 : 1);
    let failed = false;
    // Where each copy went (a copy may land in a later segment than the one before it, past a rotation).
    const moved = new Map<number, number>();
    let baseSegment = base.segment;
    const done = (error: Error | undefined): void => {
      if (error !== undefined) failed = true;
      if (--left > 0) return;
      history.carrying = false;
      this.#carrying--;
      if (!failed && this.#histories.get(history.key) === history) {
        const dropped = history.carried(baseSegment, moved);
        if (dropped !== undefined) void this.options.store.deleteSnapshot(snapshotName(history.key, dropped)).catch(() => undefined);
      }
      if (this.#carrying === 0) this.#deleteUnneeded();
    };
    if (base.generation !== undefined) {
      baseSegment = this.#appendNoting((d) => this.#writer.appendRecord({ type: RecordType.Snapshot, key: history.key, seq: base.seq, generation: base.generation as number, replaces: false }, d), done);
    }
    bodies.forEach((body, i) => moved.set(seqs[i] as number, this.#appendNoting((d) => this.#writer.append(body, d), done)));
    if (base.generation === undefined) baseSegment = moved.get(seqs[0] as number) ?? this.#writer.segment;
    if (left === 0) {
      left = 1;
      done(undefined);
    }
  }

  /** Appends through `append` and returns the segment the record went to, noting a rotation. */
  #appendNoting(append: (done: (error: Error | undefined) => void) => unknown, done: (error: Error | undefined) => void): number {
    const before = this.#writer.segment;
    append(done);
    const segment = this.#writer.segment;
    if (segment !== before) this.#rotated(segment);
    return segment;
  }

  /** Deletes the journal segments below every session's oldest needed one. */
  #deleteUnneeded(): void {
    let floor = this.#writer.segment;
    for (const history of this.#histories.values()) floor = Math.min(floor, history.floor);
    const doomed = this.#segments.filter((segment) => segment < floor);
    if (doomed.length === 0) return;
    this.#segments = this.#segments.filter((segment) => segment >= floor);
    for (const segment of doomed) void this.options.store.deleteSegment(segment).catch(() => undefined);
  }

  #forget(history: SessionHistory): void {
    history.forgotten = true;
    if (this.#histories.get(history.key) === history) this.#histories.delete(history.key);
    this.#dirty.delete(history);
    history.wakeAll();
  }

  /** Applies one record read back from the journal at open. */
  #replayRecord(record: JournalRecord, body: Uint8Array, segment: number): void {
    if (record.type === RecordType.Void) return;
    if (record.type === RecordType.Close) {
      const history = this.#histories.get(record.key);
      if (history !== undefined) this.#forget(history);
      return;
    }
    const history = this.historyFor(record.key);
    if (record.type === RecordType.Snapshot) {
      if (history.base.generation === record.generation) {
        // Carried forward: the records after it follow again.
        history.carried(segment, new Map());
        return;
      }
      // An older compaction read after a newer one (written later) changes nothing.
      if (!record.replaces && history.base.generation !== undefined && record.seq <= history.base.seq) return;
      // Its records before it may be gone with a deleted segment: the snapshot stands for them.
      history.snapshotted(record.generation, record.seq, segment, record.replaces);
      history.tableLoaded = false;
      history.durableSeq = Math.max(history.durableSeq, record.seq);
      history.seq = Math.max(history.seq, record.seq);
      return;
    }
    // A record numbered at or below the last one replaces it and what followed (those were never
    // acknowledged, or it is a copy a compaction round wrote). Gaps are judged when a plan is made:
    // records before a base read later are not needed, and may well have gaps.
    if (record.seq <= history.seq) history.truncate(record.seq - 1);
    const fresh = record.type === RecordType.Start || (record.flags & CallFlags.Opened) !== 0;
    // A copy: a view would keep the whole segment's bytes alive.
    history.push(body.slice(), record.seq, segment, true, 0);
    history.durableSeq = record.seq;
    if (fresh) history.startedFresh(segment);
    if (record.type === RecordType.Call && record.idempotencyKey !== undefined) {
      history.remember(record.idempotencyKey, record.outcome.slice(), this.options.idempotencyKeys);
    }
    this.#dirty.add(history);
  }
}

/** The store's name of a session's snapshot file: a digest of the key (any string is a safe name then) and the generation. */
function snapshotName(key: string, generation: number): string {
  return `${createHash('sha256').update(key).digest('hex').slice(0, 40)}-${generation}`;
}

/** A session's history as a plan reads it: its bases and a copy of its records. */
interface HistoryView {
  readonly base: Base;
  readonly previous: Base | undefined;
  readonly records: readonly Uint8Array[];
  readonly seqs: readonly number[];
}

/**
 * Why the records from index `from` do not rebuild the session from `base`, if they do not: a fresh
 * base needs a first record that starts an instance; every record must follow the one before.
 */
function gapIn(history: HistoryView, base: Base, from: number): string | undefined {
  let expected = base.seq + 1;
  for (let i = from; i < history.records.length; i++) {
    const seq = history.seqs[i] as number;
    if (i === from && base.generation === undefined) {
      const first = decodeRecord(history.records[i] as Uint8Array);
      if (first.type !== RecordType.Start && (first.type !== RecordType.Call || (first.flags & CallFlags.Opened) === 0)) {
        return `record ${seq} continues a session whose start is not in the journal`;
      }
      expected = seq;
    }
    if (seq !== expected) return `record ${seq} follows record ${expected - 1}: the records between are missing`;
    expected++;
  }
  return undefined;
}

/** The outcome bytes of the session's record `seq` (the last one pushed, or one still held). */
function outcomeBytes(history: SessionHistory, seq: number): Uint8Array {
  const at = history.seqs.lastIndexOf(seq);
  const record = at < 0 ? undefined : decodeRecord(history.records[at] as Uint8Array);
  return record?.type === RecordType.Call ? record.outcome.slice() : NO_BYTES;
}

function packPlan(base: Uint8Array | undefined, records: readonly Uint8Array[]): RecoveryPlan {
  return { base, records: frameReplayRecords(records), count: records.length };
}

function journalError(where: string, error: Error): JournalWriteError {
  if (error instanceof JournalWriteError) return error;
  return new JournalWriteError(`the journal in ${where} could not be written (${error.message}); the call was not acknowledged and its session continues from its last acknowledged call`);
}
