// Reading and writing a guest's linear memory from a test, through the load/store exports of
// test/fixtures/wasi-surface.wasm (one call per byte in a callMany: plenty for a few records).

import type { Session } from '../../dist/src/index.js';
import { fixture } from './fixtures.js';
import { asBigInt, asNumber, typedArray } from './results.js';

export const SURFACE = fixture('wasi-surface.wasm');

export async function writeBytes(session: Session, at: number, bytes: Uint8Array | string): Promise<void> {
  const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  if (data.byteLength === 0) return;
  await session.callMany('store8', Array.from(data, (byte, i) => [at + i, byte]));
}

export async function readBytes(session: Session, at: number, length: number): Promise<Uint8Array> {
  if (length === 0) return new Uint8Array(0);
  const bytes = await session.callMany('load8', Int32Array.from({ length }, (_, i) => at + i)).then(typedArray(Int32Array));
  return Uint8Array.from(bytes);
}

export async function readText(session: Session, at: number, length: number): Promise<string> {
  return new TextDecoder().decode(await readBytes(session, at, length));
}

export async function load32(session: Session, at: number): Promise<number> {
  return (await session.call('load32', at).then(asNumber)) >>> 0;
}

export async function load64(session: Session, at: number): Promise<bigint> {
  return BigInt.asUintN(64, await session.call('load64', at).then(asBigInt));
}

/** Writes one iovec (pointer, length) at `at`. */
export async function writeIovec(session: Session, at: number, pointer: number, length: number): Promise<void> {
  await session.call('store32', at, pointer);
  await session.call('store32', at + 4, length);
}
