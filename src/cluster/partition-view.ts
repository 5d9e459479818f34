// What one partition's messages in the cluster's stream add up to: its journal segments, its snapshots
// (the newest complete write of each name), its fence records, and which sequences are still stored.
// Bytes are held only for segment messages read at take-over, until the journal is read back at
// open; everything else is held as sequences, its bytes fetched from the stream when read.

import { ClusterMismatchError, describeValue } from '../errors.js';

/** Header naming one snapshot write (all its chunks carry the same id). */
export const WRITE_HEADER = 'Rp-Write';
/** Header `<index>/<count>` of a snapshot write's chunk. */
export const CHUNK_HEADER = 'Rp-Chunk';
/** Header marking a delete: the segment or snapshot on this subject is gone from here on. */
export const DELETE_HEADER = 'Rp-Delete';

/**
 * A fence record: published by each new owner of a partition before anything else it writes, and
 * again by `open` with the module identity its state is for.
 */
export interface FenceRecord {
  readonly version: 1;
  readonly member: string;
  readonly epoch: number;
  /** SHA-256 hex of the module the partition's state is written for; null until the owner opened the store. */
  readonly identity: string | null;
}

/** One stored message, as the view needs it. */
export interface PartitionMessage {
  readonly subject: string;
  readonly seq: number;
  readonly data: Uint8Array;
  /** A header's value, or undefined. */
  header(name: string): string | undefined;
}

/** One message of a segment or snapshot: its sequence, and its bytes when held. */
export interface Chunk {
  readonly seq: number;
  readonly data: Uint8Array | undefined;
}

/** A snapshot write being read chunk by chunk. */
interface PendingWrite {
  readonly id: string;
  readonly count: number;
  readonly chunks: Chunk[];
}

/** A name as a subject token: letters, digits, `-` and `_` as they are, every other UTF-8 byte as `%XX`. */
export function snapshotToken(name: string): string {
  return encodeURIComponent(name).replace(/[.!~*'()]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

export class PartitionView {
  readonly #prefix: string;
  readonly #segments = new Map<number, Chunk[]>();
  /** The chunks of each snapshot's newest complete write, by subject token (without `s.`). */
  readonly #snapshots = new Map<string, readonly Chunk[]>();
  readonly #pendingWrites = new Map<string, PendingWrite>();
  /** Sequences of the messages stored now, per subject token (after the partition's prefix), ascending. */
  readonly #stored = new Map<string, number[]>();
  /** The highest sequence read or written under the partition's subjects. */
  #highest = 0;
  #fence: FenceRecord | undefined;
  #identity: string | undefined;

  /** `prefix`: the partition's subjects without the last tokens (`rp.<cluster>.p.<partition>.`). */
  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /** The highest sequence seen under the partition's subjects (0 if none). */
  get highest(): number {
    return this.#highest;
  }

  /** The newest fence record. */
  get fence(): FenceRecord | undefined {
    return this.#fence;
  }

  /** The identity carried by the newest fence record that carried one. */
  get identity(): string | undefined {
    return this.#identity;
  }

  /** The highest sequence still stored under the partition's subjects (what a fenced write must expect). */
  get lastStored(): number {
    let last = 0;
    for (const seqs of this.#stored.values()) last = Math.max(last, seqs.at(-1) ?? 0);
    return last;
  }

  segments(): number[] {
    return [...this.#segments.keys()].sort((a, b) => a - b);
  }

  segment(segment: number): readonly Chunk[] | undefined {
    return this.#segments.get(segment);
  }

  /** Stops holding `segment`'s bytes (they are fetched by sequence from then on). */
  letGo(segment: number): void {
    const chunks = this.#segments.get(segment);
    if (chunks !== undefined) this.#segments.set(segment, chunks.map(({ seq }) => ({ seq, data: undefined })));
  }

  snapshot(name: string): readonly Chunk[] | undefined {
    return this.#snapshots.get(snapshotToken(name));
  }

  snapshotNames(): string[] {
    const names: string[] = [];
    for (const token of this.#snapshots.keys()) {
      try {
        names.push(decodeURIComponent(token));
      } catch {
        // not a token this store wrote (it encodes every name): no snapshot of ours
      }
    }
    return names;
  }

  /** Sequences stored on `token`'s subject now (ascending). */
  storedOn(token: string): readonly number[] {
    return this.#stored.get(token) ?? [];
  }

  /** Forgets the messages on `token`'s subject up to `seq` (inclusive): they were purged. */
  purged(token: string, seq: number): void {
    const kept = (this.#stored.get(token) ?? []).filter((stored) => stored > seq);
    if (kept.length > 0) this.#stored.set(token, kept);
    else this.#stored.delete(token);
  }

  /**
   * Adds one message (they come in sequence order); a segment message's bytes are held if `hold`.
   * Throws ERR_CLUSTER_MISMATCH for a fence record it cannot read.
   */
  apply(message: PartitionMessage, hold: boolean): void {
    const token = message.subject.startsWith(this.#prefix) ? message.subject.slice(this.#prefix.length) : message.subject;
    this.#highest = Math.max(this.#highest, message.seq);
    const seqs = this.#stored.get(token);
    if (seqs === undefined) this.#stored.set(token, [message.seq]);
    else seqs.push(message.seq);
    const deleted = message.header(DELETE_HEADER) !== undefined;
    if (token === 'fence') {
      this.#applyFence(message);
    } else if (/^j\.\d+$/.test(token)) {
      const segment = Number(token.slice(2));
      // A copy when held: the client's buffer may hold other messages too.
      const chunk: Chunk = { seq: message.seq, data: hold ? message.data.slice() : undefined };
      if (deleted) this.#segments.delete(segment);
      else if (this.#segments.has(segment)) this.#segments.get(segment)?.push(chunk);
      else this.#segments.set(segment, [chunk]);
    } else if (token.startsWith('s.')) {
      this.#applySnapshot(token.slice(2), message, deleted);
    }
    // Anything else under the partition is no part of this version's records: it still counts for fencing.
  }

  #applyFence(message: PartitionMessage): void {
    const record = parseFence(message.data);
    if (record === undefined) {
      throw new ClusterMismatchError(`the fence record at sequence ${message.seq} on ${message.subject} is not one this version can read, got ${describeValue(new TextDecoder().decode(message.data))}`);
    }
    this.#fence = record;
    if (record.identity !== null) this.#identity = record.identity;
  }

  #applySnapshot(name: string, message: PartitionMessage, deleted: boolean): void {
    if (deleted) {
      this.#snapshots.delete(name);
      this.#pendingWrites.delete(name);
      return;
    }
    const id = message.header(WRITE_HEADER);
    const chunk = /^(\d+)\/(\d+)$/.exec(message.header(CHUNK_HEADER) ?? '');
    if (id === undefined || chunk === null) return;
    const index = Number(chunk[1]);
    const count = Number(chunk[2]);
    let pending = this.#pendingWrites.get(name);
    if (index === 0) {
      pending = { id, count, chunks: [] };
      this.#pendingWrites.set(name, pending);
    }
    // A chunk of a write that was cut short (its writer failed), or out of its place: that write is void.
    if (pending === undefined || pending.id !== id || pending.count !== count || pending.chunks.length !== index) {
      this.#pendingWrites.delete(name);
      return;
    }
    pending.chunks.push({ seq: message.seq, data: undefined });
    if (pending.chunks.length === count) {
      this.#pendingWrites.delete(name);
      this.#snapshots.set(name, pending.chunks);
    }
  }
}

/** A fence record's JSON, checked; undefined if it is not one. */
export function parseFence(data: Uint8Array): FenceRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (record['version'] !== 1 || typeof record['member'] !== 'string' || !Number.isSafeInteger(record['epoch'])) return undefined;
  const identity = record['identity'];
  if (identity !== null && typeof identity !== 'string') return undefined;
  return { version: 1, member: record['member'], epoch: record['epoch'] as number, identity };
}

export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1 && chunks[0] !== undefined) return chunks[0];
  let length = 0;
  for (const chunk of chunks) length += chunk.byteLength;
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
