// A durable snapshot file reads back exactly what was written (session key, seq, idempotency
// outcomes in order, snapshot bytes); every truncation, any flipped byte, bytes appended and another
// version are refused with ERR_DURABLE_STORE saying what is wrong, never with a stray TypeError.

import { describe, expect, it } from 'vitest';
import { decodeDurableSnapshot, encodeDurableSnapshot, type DurableSnapshot } from '../dist/src/durable-snapshot-file.js';
import { seeded } from '../dist/src/seeded-random.js';
import { rejection } from './helpers/pool.js';

const random = seeded(51);
const bytes = (length: number): Uint8Array => Uint8Array.from({ length }, () => Math.floor(random() * 256));

const SAMPLE: DurableSnapshot = {
  sessionKey: 'user/42 ✓',
  seq: 1234,
  idempotency: [
    { key: 'k1', outcome: bytes(9) },
    { key: '', outcome: new Uint8Array(0) },
    { key: 'ключ', outcome: bytes(40) },
  ],
  snapshot: bytes(300),
};

const plain = (snapshot: DurableSnapshot): unknown => JSON.parse(JSON.stringify(snapshot, (_key, value: unknown) => (value instanceof Uint8Array ? [...value] : value)));

/** The error decoding throws (fails the test if it decodes). */
const decodeError = (encoded: Uint8Array): Promise<Awaited<ReturnType<typeof rejection>>> =>
  rejection(Promise.resolve().then(() => decodeDurableSnapshot(encoded)));

describe('a durable snapshot file', () => {
  it('round-trips', () => {
    const encoded = encodeDurableSnapshot(SAMPLE);
    expect(plain(decodeDurableSnapshot(encoded))).toEqual(plain(SAMPLE));
    const empty: DurableSnapshot = { sessionKey: 'e', seq: 0, idempotency: [], snapshot: new Uint8Array(0) };
    expect(plain(decodeDurableSnapshot(encodeDurableSnapshot(empty)))).toEqual(plain(empty));
    const big: DurableSnapshot = { sessionKey: 'b', seq: 2 ** 40, idempotency: Array.from({ length: 1000 }, (_, i) => ({ key: `key-${i}`, outcome: bytes(i % 17) })), snapshot: bytes(200_000) };
    expect(plain(decodeDurableSnapshot(encodeDurableSnapshot(big)))).toEqual(plain(big));
  });

  it('refuses every truncation', async () => {
    const encoded = encodeDurableSnapshot(SAMPLE);
    for (let length = 0; length < encoded.byteLength; length++) {
      const error = await decodeError(encoded.subarray(0, length));
      expect(error.code, `truncated to ${length}`).toBe('ERR_DURABLE_STORE');
      expect(error.message).toMatch(/^not a whole durable snapshot file: /);
    }
  });

  it('refuses a flipped bit in any byte, and bytes appended', async () => {
    const encoded = encodeDurableSnapshot(SAMPLE);
    for (let at = 0; at < encoded.byteLength; at++) {
      const damaged = encoded.slice();
      damaged[at] = (damaged[at] ?? 0) ^ (1 << Math.floor(random() * 8));
      expect((await decodeError(damaged)).code, `byte ${at} flipped`).toBe('ERR_DURABLE_STORE');
    }
    const longer = new Uint8Array([...encoded, 0]);
    expect((await decodeError(longer)).message).toContain(`${longer.byteLength} bytes where its header says ${encoded.byteLength}`);
  });

  it('says what is wrong: not one, another version, a bad checksum', async () => {
    expect((await decodeError(new Uint8Array(40))).message).toContain("not a durable snapshot's magic");
    const encoded = encodeDurableSnapshot(SAMPLE);
    const otherVersion = encoded.slice();
    otherVersion[4] = 9;
    expect((await decodeError(otherVersion)).message).toContain('format version 9');
    const flipped = encoded.slice();
    flipped[100] = (flipped[100] ?? 0) ^ 1;
    expect((await decodeError(flipped)).message).toContain('CRC-32');
  });
});
