// Preopened directories are checked when the pool is created; a good one is the only way a guest
// reaches files, through node:wasi on descriptors 3 and up.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ReactorPool } from '../dist/src/index.js';
import { load32, readText, SURFACE, writeBytes, writeIovec } from './helpers/guest-memory.js';
import { createPool, rejection } from './helpers/pool.js';

const dir = mkdtempSync(join(tmpdir(), 'reactor-pool-preopens-'));
const file = join(dir, 'hello.txt');
writeFileSync(file, 'hello from the host\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FD_READ = 1n << 1n;
const PATH = 6144;
const OUT = 4096;

describe('wasi.preopens', () => {
  it.each([
    ['a missing directory', join(dir, 'missing'), 'does not exist'],
    ['a file', file, 'is not a directory'],
  ])('refuses %s at create() with ERR_INVALID_OPTION naming the path', async (_, hostPath, why) => {
    const error = await rejection(ReactorPool.create({ module: SURFACE, workers: 1, wasi: { preopens: { '/data': hostPath } } }));
    expect(error.code).toBe('ERR_INVALID_OPTION');
    expect(error.message).toContain(JSON.stringify(hostPath));
    expect(error.message).toContain('wasi.preopens["/data"]');
    expect(error.message).toContain(why);
  });

  it('refuses an empty guest path', async () => {
    const error = await rejection(ReactorPool.create({ module: SURFACE, workers: 1, wasi: { preopens: { '': dir } } }));
    expect(error.code).toBe('ERR_INVALID_OPTION');
  });

  it('lets a guest open and read a file in a preopened directory, as fd 3 and up', async () => {
    const pool = await createPool({ module: SURFACE, workers: 1, wasi: { preopens: { '/data': dir } } });
    const session = pool.session('reader');
    expect(await session.call('call_fd_prestat_get', 3, OUT)).toBe(0);
    expect(await session.call('load8', OUT)).toBe(0); // a directory
    expect(await load32(session, OUT + 4)).toBe(5);
    expect(await session.call('call_fd_prestat_dir_name', 3, PATH, 5)).toBe(0);
    expect(await readText(session, PATH, 5)).toBe('/data');

    await writeBytes(session, PATH, 'hello.txt');
    expect(await session.call('call_path_open', 3, 0, PATH, 9, 0, FD_READ, 0n, 0, OUT)).toBe(0);
    const fd = await load32(session, OUT);
    expect(fd).toBeGreaterThan(3);
    await writeIovec(session, 3072, 8192, 64);
    expect(await session.call('call_fd_read', fd, 3072, 1, OUT)).toBe(0);
    expect(await load32(session, OUT)).toBe(20);
    expect(await readText(session, 8192, 20)).toBe('hello from the host\n');
    expect(await session.call('call_fd_close', fd)).toBe(0);

    // Stdio is still virtual beside the preopens: not a directory, not the host's.
    expect(await session.call('call_path_open', 0, 0, PATH, 9, 0, FD_READ, 0n, 0, OUT)).toBe(54);
    expect(await session.call('read_stdin', 10)).toBe(0);
  });

  it('keeps each instance\'s opened files to itself', async () => {
    const pool = await createPool({ module: SURFACE, workers: 1, wasi: { preopens: { '/data': dir } } });
    const [opener, other] = [pool.session('opener'), pool.session('other')];
    await writeBytes(opener, PATH, 'hello.txt');
    expect(await opener.call('call_path_open', 3, 0, PATH, 9, 0, FD_READ, 0n, 0, OUT)).toBe(0);
    const fd = await load32(opener, OUT);
    await writeIovec(other, 3072, 8192, 64);
    expect(await other.call('call_fd_read', fd, 3072, 1, OUT)).toBe(8);
  });
});
