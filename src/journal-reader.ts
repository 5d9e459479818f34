// Reading a journal back at start: every whole record of every segment in order, with the ranges
// voided by failed writes left out, torn tails cut, and every damage found reported.

import type { DurableStore } from './durable-store.js';
import { scanSegment, type TailReason } from './journal-file.js';
import { RecordDecodeError, RecordType, decodeRecord, type JournalRecord, type VoidRecord } from './journal-record.js';

/** A record read back and where it was. */
export interface JournalEntry {
  readonly segment: number;
  /** Where its frame starts in the segment. */
  readonly offset: number;
  /** The record (its byte fields are views of the segment's bytes). */
  readonly record: JournalRecord;
  /** Its body as written (a view of the segment's bytes). */
  readonly body: Uint8Array;
}

/**
 * Bytes of the journal that were not records: a segment's tail cut where it stops being whole
 * records (see {@link TailReason}), or `record`: a record whose checksum is right but which does
 * not decode (written by another version, or by a bug): it is skipped, the records after it kept.
 */
export interface JournalDamage {
  readonly segment: number;
  readonly offset: number;
  readonly reason: TailReason | 'record';
  readonly message: string;
}

export interface JournalContents {
  /** Every valid record that is not void, in the order written (segments ascending, offsets ascending); no Void records. */
  readonly entries: JournalEntry[];
  /** Damage outside the voided ranges (damage inside one is expected: a failed write). */
  readonly damage: JournalDamage[];
  /** The segments the journal holds, ascending. */
  readonly segments: number[];
  /** The first segment number after every one held: where a writer starts. */
  readonly nextSegment: number;
}

/** Reads every segment of `store` (opened) and returns its records. Rejects only if the store does. */
export async function readJournal(store: DurableStore): Promise<JournalContents> {
  const segments = await store.segments();
  const found: JournalEntry[] = [];
  const damage: JournalDamage[] = [];
  const voids: VoidRecord[] = [];
  for (const segment of segments) {
    const scan = scanSegment(await store.readSegment(segment));
    for (const { offset, body } of scan.records) {
      let record: JournalRecord;
      try {
        record = decodeRecord(body);
      } catch (error) {
        const why = error instanceof RecordDecodeError ? error.message : String(error);
        damage.push({ segment, offset, reason: 'record', message: `a record of ${body.byteLength} bytes with a good checksum does not decode: ${why}` });
        continue;
      }
      // A Void says the same wherever it was found (even inside a range it or another voids): apply it.
      if (record.type === RecordType.Void) voids.push(record);
      else found.push({ segment, offset, record, body });
    }
    if (scan.tail !== undefined) damage.push({ segment, offset: scan.tail.offset, reason: scan.tail.reason, message: scan.tail.message });
  }
  const isVoid = (segment: number, offset: number): boolean =>
    voids.some((range) => range.segment === segment && offset >= range.from && offset < range.to);
  const last = segments[segments.length - 1];
  return {
    entries: voids.length === 0 ? found : found.filter((entry) => !isVoid(entry.segment, entry.offset)),
    damage: damage.filter((found) => !isVoid(found.segment, found.offset)),
    segments,
    nextSegment: last === undefined ? 1 : last + 1,
  };
}
