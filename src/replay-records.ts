// The records of a replay operation as they travel to the worker: record bodies (journal-record.ts),
// each prefixed by its length as a u32, little-endian. The main thread frames them; the worker splits them.

import { ByteReader, ByteWriter } from './journal-record.js';

/** Frames record bodies (`encodeRecord` output) for a replay operation's `records`. */
export function frameReplayRecords(bodies: readonly Uint8Array[]): Uint8Array {
  const out = new ByteWriter(bodies.reduce((sum, body) => sum + 4 + body.byteLength, 0));
  for (const body of bodies) out.blob(body);
  return out.take();
}

/** The record bodies in `framed` (views of it); throws `RecordDecodeError` if a length runs past the end. */
export function splitReplayRecords(framed: Uint8Array): Uint8Array[] {
  const input = new ByteReader(framed);
  const bodies: Uint8Array[] = [];
  while (!input.done) bodies.push(input.blob());
  return bodies;
}
