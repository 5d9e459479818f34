// A ByteWriter grows as it is written: every kind of write that crosses its capacity lands in the
// grown buffer, and a record encoded into a writer of any starting size decodes the same.

import { expect, it } from 'vitest';
import { ByteReader, ByteWriter, decodeRecord, encodeRecord } from '../dist/src/journal-record.js';
import { seeded } from '../dist/src/seeded-random.js';
import { callRecords, plain } from './helpers/journal-records.js';

it('writes each kind of value across a growth', () => {
  for (let capacity = 1; capacity <= 24; capacity++) {
    const out = new ByteWriter(capacity);
    out.u8(0xab);
    out.u16(0xcdef);
    out.u32(0x12345678);
    out.f64(-1.5);
    out.i64(-(2n ** 40n));
    out.string('héllo');
    const input = new ByteReader(out.take());
    expect([input.u8(), input.u16(), input.u32(), input.f64(), input.i64(), input.string()], `capacity ${capacity}`)
      .toEqual([0xab, 0xcdef, 0x12345678, -1.5, -(2n ** 40n), 'héllo']);
    expect(input.done).toBe(true);
  }
});

it('encodes a record the same whatever the writer started with', () => {
  for (const record of callRecords(50, seeded(41))) {
    for (const capacity of [1, 2, 3, 7, 16, 33]) {
      const out = new ByteWriter(capacity);
      encodeRecord(out, record);
      expect(plain(decodeRecord(out.take()))).toEqual(plain(record));
    }
  }
});
