// The shared-memory ring, without threads: whatever the interleaving of writes and reads of
// variable-length records, the consumer reads back exactly what the producer wrote, in order, with
// wrap-arounds on the way (property-based, seeded); the header state lives in the buffer itself.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Ring, WordBuffer } from '../dist/src/ring.js';
import { depth } from './helpers/depth.js';

const SEED = 0x5eed_0020;
/** Small enough that wrap-arounds and a full ring come often. */
const RING_WORDS = 64;

/** A record of `words` words numbered `id`: its length word, then words that name it and their place. */
function record(id: number, words: number): WordBuffer {
  const buffer = new WordBuffer(4);
  buffer.reserve(words);
  buffer.i32[0] = words;
  buffer.i32[1] = id;
  for (let w = 1; w < words; w++) {
    buffer.i32[2 * w] = id;
    buffer.i32[2 * w + 1] = w;
  }
  return buffer;
}

/** The words of the record at `at` in `ring`, as i32 pairs (what {@link record} wrote). */
function readBack(ring: Ring, at: number): number[] {
  const words = ring.i32[2 * at] as number;
  return Array.from(ring.i32.subarray(2 * at, 2 * (at + words)));
}

function contents(buffer: WordBuffer): number[] {
  return Array.from(buffer.i32.subarray(0, 2 * buffer.length));
}

/** A step of the run: the producer tries to write a record of `words` words, or the consumer reads one. */
type Step = { readonly write: number } | { readonly read: true };

describe('Ring', () => {
  it('gives back exactly the records written, in order, whatever the interleaving; a write fails exactly when there is no room', () => {
    const ring = new Ring(Ring.allocate(RING_WORDS * 8));
    const max = ring.maxRecordWords;
    const step: fc.Arbitrary<Step> = fc.oneof(
      // Sizes that divide the ring often too: then a record ends exactly where the consumer stands.
      fc.oneof(fc.integer({ min: 1, max }), fc.constantFrom(1, 2, 4, 8, 16, max)).map((write) => ({ write })),
      fc.constant({ read: true as const }),
    );
    let wrapsByMarker = 0;
    let wrapsAtEnd = 0;
    let refused = 0;
    let nextId = 1;
    fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 300, size: 'max' }), (steps) => {
      // Each run starts from a fresh ring, drained at the end so nothing written is left unchecked.
      const fresh = new Ring(Ring.allocate(RING_WORDS * 8));
      const expected: number[][] = [];
      const read = (): void => {
        const position = fresh.readPosition;
        const at = fresh.next();
        if (expected.length === 0) {
          expect(at).toBe(-1);
          return;
        }
        expect(at).toBeGreaterThanOrEqual(0);
        if (at !== position) {
          // The only jump is back to the start, over a wrap marker.
          expect(at).toBe(0);
          wrapsByMarker++;
        }
        expect(readBack(fresh, at)).toEqual(expected.shift());
        fresh.release(at);
        if (fresh.readPosition === 0 && at !== 0) wrapsAtEnd++;
      };
      for (const s of steps) {
        if ('read' in s) {
          read();
          continue;
        }
        const rec = record(nextId++, s.write);
        const wasEmpty = expected.length === 0;
        const room = fresh.hasRoom(s.write);
        const written = fresh.write(rec);
        expect(written).toBe(room);
        // A record no bigger than the maximum always fits once the consumer has caught up.
        if (wasEmpty) expect(written).toBe(true);
        if (written) expected.push(contents(rec));
        else refused++;
      }
      while (expected.length > 0) read();
      expect(fresh.next()).toBe(-1);
    }), { seed: SEED, numRuns: depth(200) });
    // The run did exercise both kinds of wrap-around and a full ring.
    expect(wrapsByMarker).toBeGreaterThan(0);
    expect(wrapsAtEnd).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    expect(ring.words).toBe(RING_WORDS);
  });

  it('refuses a record over the largest it can ever hold, whether or not there is room', () => {
    const ring = new Ring(Ring.allocate(RING_WORDS * 8));
    expect(ring.maxRecordWords).toBe(RING_WORDS / 2 - 1);
    expect(ring.write(record(1, ring.maxRecordWords))).toBe(true);
    expect(() => ring.write(record(2, ring.maxRecordWords + 1))).toThrow(RangeError);
    const at = ring.next();
    expect(readBack(ring, at)).toEqual(contents(record(1, ring.maxRecordWords)));
    ring.release(at);
    expect(() => ring.write(record(3, ring.maxRecordWords + 1))).toThrow(RangeError);
    expect(ring.next()).toBe(-1);
  });

  it('carries the number of the last batch taken', () => {
    const ring = new Ring(Ring.allocate(RING_WORDS * 8));
    expect(ring.taken).toBe(0);
    ring.markTaken(1);
    expect(ring.taken).toBe(1);
    ring.markTaken(2 ** 31 - 1);
    expect(ring.taken).toBe(2 ** 31 - 1);
  });

  it('returns from a wait at once when a record has arrived since the position seen', () => {
    const ring = new Ring(Ring.allocate(RING_WORDS * 8));
    const seen = ring.readPosition;
    expect(ring.write(record(1, 3))).toBe(true);
    ring.waitForRecord(seen, 0);
    expect(ring.waitForRecordAsync(seen)).toBeUndefined();
    const at = ring.next();
    expect(readBack(ring, at)).toEqual(contents(record(1, 3)));
  });

  it('wakes a sleeping asynchronous consumer when a record is written, and when told to stop waiting', async () => {
    const ring = new Ring(Ring.allocate(RING_WORDS * 8));
    const woken = ring.waitForRecordAsync(ring.readPosition);
    expect(woken).toBeInstanceOf(Promise);
    expect(ring.write(record(1, 2))).toBe(true);
    await expect(woken).resolves.toBe('ok');
    ring.release(ring.next());

    const stopped = ring.waitForRecordAsync(ring.readPosition);
    expect(stopped).toBeInstanceOf(Promise);
    ring.wakeConsumer();
    await expect(stopped).resolves.toBe('ok');
    expect(ring.next()).toBe(-1);
  });

  it('keeps its state in the buffer: a producer view and a consumer view over one buffer see the same ring', () => {
    const shared = Ring.allocate(RING_WORDS * 8);
    const producer = new Ring(shared);
    const consumer = new Ring(shared);
    const written: number[][] = [];
    const drain = (): void => {
      for (let at = consumer.next(); at >= 0; at = consumer.next()) {
        expect(readBack(consumer, at)).toEqual(written.shift());
        consumer.release(at);
      }
    };
    // Enough records to go round the ring several times; the consumer catches up (through its own
    // view) whenever the producer finds no room (through its own).
    let catchUps = 0;
    for (let id = 1; id <= 40; id++) {
      const rec = record(id, 1 + (id * 7) % producer.maxRecordWords);
      if (!producer.hasRoom(rec.length)) {
        drain();
        catchUps++;
        expect(written).toEqual([]);
      }
      expect(producer.write(rec)).toBe(true);
      written.push(contents(rec));
    }
    drain();
    expect(catchUps).toBeGreaterThan(1);
    expect(written).toEqual([]);
    consumer.markTaken(9);
    expect(producer.taken).toBe(9);
    expect(producer.readPosition).toBe(consumer.readPosition);
  });
});
