// Journal records for store and journal tests: calls of a few sessions with seeded, varied sizes.

import type { JournalWriter } from '../../dist/src/journal-writer.js';
import { ByteWriter, CallFlags, RecordType, encodeRecord, type CallRecord, type JournalRecord } from '../../dist/src/journal-record.js';

/** `count` call records of sessions `s0`..`s3`, seq ascending per session, with byte fields of random sizes. */
export function callRecords(count: number, random: () => number): CallRecord[] {
  const seqs = [0, 0, 0, 0];
  const bytes = (most: number): Uint8Array => Uint8Array.from({ length: Math.floor(random() * most) }, () => Math.floor(random() * 256));
  return Array.from({ length: count }, (_, i) => {
    const session = i % 4;
    seqs[session] = (seqs[session] ?? 0) + 1;
    return {
      type: RecordType.Call, key: `s${session}`, seq: seqs[session] ?? 0, flags: i === 0 ? CallFlags.Opened : 0, exportIndex: i % 3,
      mode: undefined, typedResult: undefined, idempotencyKey: random() < 0.3 ? `k${i}` : undefined,
      args: bytes(40), outcome: bytes(20), tape: bytes(30),
    };
  });
}

/** A record's body, as the journal frames it. */
export function bodyOf(record: JournalRecord): Uint8Array {
  const out = new ByteWriter();
  encodeRecord(out, record);
  return out.take();
}

/** A record as plain data (byte fields as arrays) for deep comparison. */
export function plain(record: JournalRecord): unknown {
  return JSON.parse(JSON.stringify(record, (_key, value: unknown) => (value instanceof Uint8Array ? [...value] : value)));
}

/** Appends every record, and resolves once each is settled: with `undefined` (durable) or its error, in order. */
export function appendAll(writer: JournalWriter, records: readonly JournalRecord[]): Promise<(Error | undefined)[]> {
  return Promise.all(records.map((record) => new Promise<Error | undefined>((resolve) => writer.appendRecord(record, resolve))));
}
