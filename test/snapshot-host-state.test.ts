// A snapshot holds the pool's own state for an instance, not just its memory: the virtual stdio as
// the guest left it, how far it has read stdin, and its monotonic clock, which continues from the
// snapshot's value wherever the snapshot is restored.

import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { load64, readText, SURFACE, writeIovec } from './helpers/guest-memory.js';
import { createPool } from './helpers/pool.js';

const E = { SUCCESS: 0, BADF: 8 } as const;
const MONOTONIC = 1;
const OUT = 4096;
const IOV = 3072;
const DATA = 8192;
const HEADER = 60;
const HOUR_NS = 3_600_000_000_000n;

describe('host state in snapshots', () => {
  it('keeps a closed stdio descriptor closed', async () => {
    const pool = await createPool({ module: SURFACE, workers: 1 });
    const a = pool.session('a');
    await writeIovec(a, IOV, DATA, 0);
    expect(await a.call('call_fd_close', 1)).toBe(E.SUCCESS);
    const bytes = await a.snapshot();
    const b = pool.session('b');
    await b.restore(bytes);
    expect(await b.call('call_fd_write', 1, IOV, 1, OUT)).toBe(E.BADF);
    expect(await b.call('call_fd_write', 2, IOV, 1, OUT)).toBe(E.SUCCESS);
    const fresh = pool.session('fresh');
    await writeIovec(fresh, IOV, DATA, 0);
    expect(await fresh.call('call_fd_write', 1, IOV, 1, OUT)).toBe(E.SUCCESS);
  });

  it('continues reading stdin where the snapshot left it', async () => {
    const pool = await createPool({ module: SURFACE, workers: 1, wasi: { stdin: 'abcdef' } });
    const a = pool.session('a');
    expect(await a.call('read_stdin', 3)).toBe(3);
    expect(await readText(a, 1024, 3)).toBe('abc');
    const bytes = await a.snapshot();
    const b = pool.session('b');
    await b.restore(bytes);
    expect(await b.call('read_stdin', 3)).toBe(3);
    expect(await readText(b, 1024, 3)).toBe('def');
    expect(await b.call('read_stdin', 3)).toBe(0);
  });

  it("continues the monotonic clock from the snapshot's value, and waits on it as before", async () => {
    const pool = await createPool({ module: SURFACE, workers: 1 });
    const a = pool.session('a');
    expect(await a.call('call_clock_time_get', MONOTONIC, 0n, OUT)).toBe(E.SUCCESS);
    const before = await load64(a, OUT);
    const bytes = await a.snapshot();
    // As if taken on a host whose monotonic clock is far ahead: move the stored clock (the body is
    // stored uncompressed under 1 KiB: u32 global count, 9 bytes per global, u32 table count (0: its
    // tables never change), then the clock) and re-seal.
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    expect(bytes[52]).toBe(0);
    const tablesAt = HEADER + 4 + 9 * view.getUint32(HEADER, true);
    expect(view.getUint32(tablesAt, true)).toBe(0);
    const clockAt = tablesAt + 4;
    const taken = view.getBigUint64(clockAt, true);
    expect(taken).toBeGreaterThanOrEqual(before);
    view.setBigUint64(clockAt, taken + 1000n * HOUR_NS, true);
    view.setUint32(8, crc32(bytes.subarray(12)), true);
    const b = pool.session('b');
    await b.restore(bytes);
    expect(await b.call('call_clock_time_get', MONOTONIC, 0n, OUT)).toBe(E.SUCCESS);
    const after = await load64(b, OUT);
    expect(after).toBeGreaterThanOrEqual(taken + 1000n * HOUR_NS);
    expect(after).toBeLessThan(taken + 1001n * HOUR_NS);
    // A relative wait of 1 ms on the shifted clock still ends (a subscription fires, errno 0).
    expect(await b.call('sleep', 1_000_000n)).toBe(E.SUCCESS);
    expect(await b.call('call_clock_time_get', MONOTONIC, 0n, OUT)).toBe(E.SUCCESS);
    expect(await load64(b, OUT)).toBeGreaterThan(after);
  });
});
