// What the durable store holds for one session, as the main thread keeps it: the snapshot a rebuild
// starts from (and the one before, as a fallback), the journal records since, the idempotency keys.

/** A point a rebuild can start from: a snapshot generation, or a fresh instance (the first record opens it). */
export interface Base {
  /** The snapshot's generation; undefined for a fresh instance. */
  readonly generation: number | undefined;
  /** The last record the snapshot covers (0 for a fresh instance). */
  readonly seq: number;
  /** The journal segment holding the record that made this the base. */
  readonly segment: number;
}

export class SessionHistory {
  readonly key: string;
  /** The last record's number (records of a session are numbered from 1, without gaps). */
  seq = 0;
  /** The last record's number known to be on stable storage. */
  durableSeq = 0;
  /** Where a rebuild starts. */
  base: Base = { generation: undefined, seq: 0, segment: 0 };
  /** The base before it, if a rebuild can fall back to it (its records are kept too). */
  previous: Base | undefined;
  /** Record bodies since `previous` (or `base`), oldest first, with their numbers and segments. */
  records: Uint8Array[] = [];
  seqs: number[] = [];
  segments: number[] = [];
  /** Whether {@link idempotency} holds the keys the base snapshot covers (read when the session is rebuilt). */
  tableLoaded = true;
  /** Calls and journal bytes since the base; when the oldest of them was made (ms, 0: none). */
  callsSinceBase = 0;
  bytesSinceBase = 0;
  oldestSinceBase = 0;
  /** Acknowledged idempotency keys → their outcome (value codec), oldest first. */
  readonly idempotency = new Map<string, Uint8Array>();
  /** Idempotency keys of calls made and not yet acknowledged → the call's promise. */
  readonly pending = new Map<string, Promise<unknown>>();
  /** Counts rollbacks (a failed journal write): a checkpoint begun before one is abandoned. */
  rollbacks = 0;
  /** A checkpoint (snapshot) is under way. */
  checkpointing = false;
  /** A compaction round is writing its base and records again. */
  carrying = false;
  /** The session's end was journaled: a new session of the key gets a new history. */
  forgotten = false;
  /** Waiters for {@link durableSeq} to reach a record (or for a rollback). */
  waiters: { readonly seq: number; readonly resolve: () => void }[] = [];

  /** The key as UTF-8, as every record of the session holds it. */
  readonly keyBytes: Uint8Array;

  constructor(key: string) {
    this.key = key;
    this.keyBytes = new TextEncoder().encode(key);
  }

  /** Whether the store holds any state of the session. */
  get holdsState(): boolean {
    return this.records.length > 0 || this.base.generation !== undefined;
  }

  /** The index of the first record after the base. */
  get baseAt(): number {
    let at = this.seqs.length;
    while (at > 0 && (this.seqs[at - 1] as number) > this.base.seq) at--;
    return at;
  }

  /** The segment the oldest record or base that must be kept lives in. */
  get floor(): number {
    const kept = this.previous ?? this.base;
    const first = this.segments[0];
    return first === undefined ? kept.segment : Math.min(first, kept.segment);
  }

  /** Appends a record (its number is the next one). */
  push(body: Uint8Array, seq: number, segment: number, call: boolean, now: number): void {
    this.records.push(body);
    this.seqs.push(seq);
    this.segments.push(segment);
    this.seq = seq;
    if (call) this.callsSinceBase++;
    this.bytesSinceBase += body.byteLength;
    if (this.oldestSinceBase === 0) this.oldestSinceBase = now;
  }

  /** A fresh instance started with the record just pushed: nothing before it matters any more. */
  startedFresh(segment: number): void {
    const last = this.records.length - 1;
    this.records = this.records.slice(last);
    this.seqs = this.seqs.slice(last);
    this.segments = this.segments.slice(last);
    this.base = { generation: undefined, seq: 0, segment };
    this.previous = undefined;
    this.callsSinceBase = 1;
    this.bytesSinceBase = this.records[0]?.byteLength ?? 0;
  }

  /**
   * Snapshot `generation` covering records up to `seq` is the new base; the old base becomes the
   * fallback, unless the snapshot `replaces` the state (a restore: nothing before it can stand in).
   */
  snapshotted(generation: number, seq: number, segment: number, replaces: boolean): void {
    const old = this.base;
    // Kept: the records after the old base (the fallback replays them), or after this one for a restore.
    const after = replaces ? seq : old.seq;
    const first = this.seqs.findIndex((s) => s > after);
    const from = first < 0 ? this.seqs.length : first;
    this.records = this.records.slice(from);
    this.seqs = this.seqs.slice(from);
    this.segments = this.segments.slice(from);
    this.previous = replaces ? undefined : old;
    this.base = { generation, seq, segment };
    const at = this.baseAt;
    this.callsSinceBase = at === this.records.length ? 0 : this.records.length - at;
    this.bytesSinceBase = 0;
    for (let i = at; i < this.records.length; i++) this.bytesSinceBase += (this.records[i] as Uint8Array).byteLength;
    this.oldestSinceBase = at < this.records.length ? Date.now() : 0;
  }

  /**
   * The base's record was written again in `segment` and the records since in the segments `moved`
   * gives by number (a compaction round): the fallback is dropped, with the records only it needed.
   * Returns the fallback's snapshot generation, whose file is no longer needed, if it had one.
   */
  carried(segment: number, moved: ReadonlyMap<number, number>): number | undefined {
    const dropped = this.previous?.generation;
    const at = this.baseAt;
    this.records = this.records.slice(at);
    this.seqs = this.seqs.slice(at);
    this.segments = this.segments.slice(at).map((old, i) => moved.get(this.seqs[i] as number) ?? old);
    this.previous = undefined;
    this.base = { ...this.base, segment };
    return dropped;
  }

  /** Forgets records numbered above `seq` (they were never acknowledged). */
  truncate(seq: number): void {
    let keep = this.seqs.length;
    while (keep > 0 && (this.seqs[keep - 1] as number) > seq) keep--;
    this.records.length = keep;
    this.seqs.length = keep;
    this.segments.length = keep;
    this.seq = Math.min(this.seq, seq);
    if (this.durableSeq > seq) this.durableSeq = seq;
  }

  /** Remembers an acknowledged idempotency key, forgetting the oldest past `limit`. */
  remember(key: string, outcome: Uint8Array, limit: number): void {
    this.idempotency.delete(key);
    this.idempotency.set(key, outcome);
    while (this.idempotency.size > limit) {
      const oldest = this.idempotency.keys().next().value as string;
      this.idempotency.delete(oldest);
    }
  }

  /** Takes in the idempotency keys a snapshot covered: older than every key remembered since. */
  loadTable(table: readonly (readonly [string, Uint8Array])[], limit: number): void {
    if (this.tableLoaded) return;
    const later = [...this.idempotency];
    this.idempotency.clear();
    for (const [key, outcome] of table) this.remember(key, outcome, limit);
    for (const [key, outcome] of later) this.remember(key, outcome, limit);
    this.tableLoaded = true;
  }

  /** Records up to `seq` are durable: wakes who waits for them. */
  acknowledged(seq: number): void {
    if (seq > this.durableSeq) this.durableSeq = seq;
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => w.seq <= this.durableSeq);
    this.waiters = this.waiters.filter((w) => w.seq > this.durableSeq);
    for (const waiter of ready) waiter.resolve();
  }

  /** Resolves once record `seq` is durable, or a rollback made it moot. */
  durable(seq: number): Promise<void> {
    if (seq <= this.durableSeq) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ seq, resolve }));
  }

  /** Wakes every waiter (a rollback: they look at {@link rollbacks} again). */
  wakeAll(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.resolve();
  }
}
