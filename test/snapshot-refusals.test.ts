// What snapshot() and restore() refuse, with which code, and what it costs the session: bad bytes are
// refused before anything runs (the session keeps its instance); a sound snapshot that cannot be
// restored on the worker loses the session, as a failed start would; pools that cannot snapshot say why.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MODULES } from './conformance/modules.js';
import { KITCHEN, REACTOR, fixture } from './helpers/fixtures.js';
import { createPool, rejection } from './helpers/pool.js';

/** Bytes 8-11 of a snapshot hold the CRC-32 of every byte after them: forged bytes get a fresh one. */
function withChecksum(bytes: Uint8Array): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(8, crc32(bytes.subarray(12)), true);
  return bytes;
}

async function snapshotAt21() {
  const pool = await createPool({ module: REACTOR, workers: 1 });
  const a = pool.session('a');
  await a.call('inc', 1);
  return { pool, a, bytes: await a.snapshot() };
}

describe('restore() refuses bad bytes before anything runs', () => {
  it.each([
    ['a flipped byte', (b: Uint8Array) => { b[b.length - 1] = (b[b.length - 1] as number) ^ 0x40; return b; }, /checksum mismatch/],
    ['a truncated snapshot', (b: Uint8Array) => b.subarray(0, b.length - 5), /checksum mismatch|ends early|stored body/],
    ['three bytes', () => new Uint8Array(3), /shorter than a snapshot's 60-byte header/],
    ['a wasm module', () => new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...new Uint8Array(60)]), /not a reactor-pool snapshot/],
    ['another format version', (b: Uint8Array) => { b[4] = 9; return withChecksum(b); }, /format version 9; this version of reactor-pool reads version 1/],
  ])('%s: ERR_INVALID_SNAPSHOT, and the session keeps its state', async (_what, spoil, message) => {
    const { a, bytes } = await snapshotAt21();
    await a.call('inc', 1);
    const error = await rejection(a.restore(spoil(bytes.slice())));
    expect(error.code).toBe('ERR_INVALID_SNAPSHOT');
    expect(error.message).toMatch(/^session "a": restore: invalid snapshot: /);
    expect(error.message).toMatch(message);
    expect(a.lost).toBe(false);
    expect(await a.call('inc', 0)).toBe(22);
  });

  it.each([['a string', 'snapshot'], ['an ArrayBuffer', new ArrayBuffer(100)], ['undefined', undefined], ['an array of bytes', [82, 80, 83, 83]]])(
    'refuses %s with ERR_INVALID_SNAPSHOT', async (_what, value) => {
      const { a } = await snapshotAt21();
      const error = await rejection(a.restore(value as unknown as Uint8Array));
      expect(error.code).toBe('ERR_INVALID_SNAPSHOT');
      expect(error.message).toMatch(/expected a Uint8Array/);
    },
  );

  it("refuses, from its header alone, a snapshot whose memory is over the pool's memoryLimit: ERR_MEMORY_LIMIT", async () => {
    const big = await createPool({ module: KITCHEN, workers: 1 });
    const grown = big.session('grown');
    await grown.call('grow', 8);
    const bytes = await grown.snapshot();
    const small = await createPool({ module: KITCHEN, workers: 1, memoryLimit: 4 * 65_536 });
    const a = small.session('a');
    expect(await a.call('inc', 1)).toBe(21);
    const error = await rejection(a.restore(bytes));
    expect(error.code).toBe('ERR_MEMORY_LIMIT');
    expect(error.message).toMatch(/over the memoryLimit of 262144; nothing was restored/);
    expect(a.lost).toBe(false);
    expect(await a.call('inc', 0)).toBe(21);
  });

  it('refuses non-zero reserved header bytes with ERR_INVALID_SNAPSHOT', async () => {
    const { a, bytes } = await snapshotAt21();
    bytes[54] = 1;
    const error = await rejection(a.restore(withChecksum(bytes)));
    expect(error.code).toBe('ERR_INVALID_SNAPSHOT');
    expect(error.message).toMatch(/reserved header bytes 53-55 are not zero/);
  });

  it("refuses another module's snapshot with ERR_SNAPSHOT_MISMATCH", async () => {
    const c = MODULES.find((m) => m.name === 'c');
    const other = await createPool({ module: c?.path as string, workers: 1 });
    const foreign = await other.session('x').snapshot();
    const { a } = await snapshotAt21();
    const error = await rejection(a.restore(foreign));
    expect(error.code).toBe('ERR_SNAPSHOT_MISMATCH');
    expect(error.message).toMatch(/taken of another module \(module digest [0-9a-f]{16}…, this pool runs [0-9a-f]{16}…\)/);
    expect(await a.call('inc', 0)).toBe(21);
  });
});

describe('a sound snapshot that cannot be restored on the worker loses the session', () => {
  it("a pool with other WASI env (Go reads it in `_initialize`): ERR_SNAPSHOT_MISMATCH, sessionLost, other sessions untouched", async () => {
    const go = MODULES.find((m) => m.name === 'go')?.path as string;
    const one = await createPool({ module: go, workers: 1, wasi: { env: { GREETING: 'one' } } });
    const bytes = await one.session('x').snapshot();
    const two = await createPool({ module: go, workers: 1, wasi: { env: { GREETING: 'two' } } });
    const lost: string[] = [];
    two.on('sessionLost', ({ key, cause }) => lost.push(`${key}:${cause.code}`));
    const bystander = two.session('bystander');
    expect(await bystander.call('inc', 1)).toBe(21);
    const a = two.session('a');
    const error = await rejection(a.restore(bytes));
    expect(error.code).toBe('ERR_SNAPSHOT_MISMATCH');
    expect(error.message).toMatch(/WASI configuration \(args, env, stdin\) differs/);
    expect(a.lost).toBe(true);
    expect(lost).toEqual(['a:ERR_SNAPSHOT_MISMATCH']);
    expect((await rejection(a.call('inc', 1))).code).toBe('ERR_SESSION_LOST');
    expect(await bystander.call('inc', 1)).toBe(22);
    await a.reset();
    expect(await a.call('inc', 1)).toBe(21);
  });

  it('a forged body with a valid checksum: ERR_INVALID_SNAPSHOT, the session is lost and comes back with reset()', async () => {
    const { a, bytes } = await snapshotAt21();
    // The reference reactor's body is stored as it is (under 1 KiB): cut its last memory run short.
    const forged = bytes.slice(0, bytes.length - 8);
    const view = new DataView(forged.buffer);
    view.setUint32(56, forged.length - 60, true);
    const error = await rejection(a.restore(withChecksum(forged)));
    expect(error.code).toBe('ERR_INVALID_SNAPSHOT');
    expect(a.lost).toBe(true);
    await a.reset();
    expect(await a.call('inc', 1)).toBe(21);
  });
});

describe('pools that cannot snapshot refuse with ERR_NOT_SNAPSHOTTABLE, naming every reason', () => {
  it('a module with a start section', async () => {
    const pool = await createPool({ module: fixture('snapshot/start-section.wasm'), workers: 1 });
    expect(pool.spec.snapshot.possible).toBe(false);
    const session = pool.session('a');
    for (const attempt of [session.snapshot(), session.restore(new Uint8Array(100))]) {
      const error = await rejection(attempt);
      expect(error.code).toBe('ERR_NOT_SNAPSHOTTABLE');
      expect(error.message).toMatch(/^session "a": (snapshot|restore): this pool cannot snapshot sessions: .*\(start-section\)$/);
    }
  });

  it("isolation 'worker' (sessions share an instance)", async () => {
    const pool = await createPool({ module: REACTOR, workers: 1, isolation: 'worker' });
    const error = await rejection(pool.session('a').snapshot());
    expect(error.code).toBe('ERR_NOT_SNAPSHOTTABLE');
    expect(error.message).toMatch(/isolation-worker/);
  });

  it('preopened directories (files opened through them would not survive)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rp-snap-'));
    try {
      const pool = await createPool({ module: REACTOR, workers: 1, wasi: { preopens: { '/data': dir } } });
      const error = await rejection(pool.session('a').snapshot());
      expect(error.code).toBe('ERR_NOT_SNAPSHOTTABLE');
      expect(error.message).toMatch(/\(preopens\)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a module given compiled (no bytes to tie snapshots to)', async () => {
    const { readFile } = await import('node:fs/promises');
    const module = await WebAssembly.compile(await readFile(REACTOR));
    const pool = await createPool({ module, workers: 1 });
    const error = await rejection(pool.session('a').snapshot());
    expect(error.code).toBe('ERR_NOT_SNAPSHOTTABLE');
    expect(error.message).toMatch(/\(no-bytes\)/);
  });
});
