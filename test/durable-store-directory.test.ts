// The directory durable store: segments listed ascending and appended to across appends and across a
// reopen; snapshots stored under any name (slashes, dots, unicode), listed, replaced, deleted; every
// misuse and every failure comes back as a rejected promise (coded ERR_DURABLE_STORE for misuse, the
// fs error as it is for the file system's), never a throw.

import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DirectoryDurableStore } from '../dist/src/durable-store.js';
import { rejection } from './helpers/pool.js';
import { useTempDirectory } from './helpers/temp-directory.js';

const IDENTITY = 'e'.repeat(64);
const directory = useTempDirectory('durable-dir');

async function opened(dir = directory()): Promise<DirectoryDurableStore> {
  const store = new DirectoryDurableStore(dir);
  await store.open(IDENTITY);
  return store;
}

describe('the directory durable store', () => {
  it('creates a missing directory, lists segments ascending, and appends across appends and reopens', async () => {
    const dir = join(directory(), 'nested', 'durable');
    let store = await opened(dir);
    expect(await store.segments()).toEqual([]);
    await store.append(12, new Uint8Array([12]));
    await store.append(3, new Uint8Array([3, 3]));
    await store.append(100, new Uint8Array([100]));
    await store.append(3, new Uint8Array([4]));
    expect(await store.segments()).toEqual([3, 12, 100]);
    await store.close();

    store = await opened(dir);
    await store.append(3, new Uint8Array([5]).subarray(0, 1));
    // A view into a larger buffer: only its own bytes are written.
    await store.append(3, new Uint8Array([0, 6, 7, 0]).subarray(1, 3));
    expect(await store.readSegment(3)).toEqual(new Uint8Array([3, 3, 4, 5, 6, 7]));
    await store.deleteSegment(12);
    await store.deleteSegment(12);
    expect(await store.segments()).toEqual([3, 100]);
    expect((await rejection(store.readSegment(12))).code).toBe('ENOENT');
    await store.close();
  });

  it('stores snapshots under any name, atomically replaced, listed and deleted', async () => {
    const store = await opened();
    const names = ['plain', 'a/b', '..', '.', '.hidden', 'ключ ✓', 'x.snapshot', '%41'];
    for (const [i, name] of names.entries()) await store.writeSnapshot(name, new Uint8Array([i]));
    expect((await store.snapshots()).sort()).toEqual([...names].sort());
    for (const [i, name] of names.entries()) expect(await store.readSnapshot(name)).toEqual(new Uint8Array([i]));
    await store.writeSnapshot('a/b', new Uint8Array([9, 9]));
    expect(await store.readSnapshot('a/b')).toEqual(new Uint8Array([9, 9]));
    expect(await store.readSnapshot('missing')).toBeUndefined();
    await store.deleteSnapshot('..');
    await store.deleteSnapshot('never written');
    expect((await store.snapshots()).sort()).toEqual(names.filter((name) => name !== '..').sort());
    // No temporary files left behind.
    expect((await readdir(join(directory(), 'snapshots'))).filter((file) => file.endsWith('.tmp'))).toEqual([]);
    await store.close();
  });

  it('rejects misuse with ERR_DURABLE_STORE: before open, after close, twice opened, bad numbers and names', async () => {
    const store = new DirectoryDurableStore(directory());
    const misuse = [store.segments(), store.append(1, new Uint8Array(1)), store.readSnapshot('x')];
    for (const attempt of misuse) expect((await rejection(attempt)).message).toContain('not open yet');
    await store.open(IDENTITY);
    expect((await rejection(store.open(IDENTITY))).code).toBe('ERR_DURABLE_STORE');
    for (const segment of [-1, 1.5, Number.NaN]) {
      const error = await rejection(store.append(segment, new Uint8Array(1)));
      expect(error.code).toBe('ERR_DURABLE_STORE');
      expect(error.message).toContain(`got \`${segment}\` (number)`);
    }
    expect((await rejection(store.writeSnapshot('', new Uint8Array(1)))).code).toBe('ERR_DURABLE_STORE');
    await store.close();
    await store.close();
    expect((await rejection(store.readSegment(1))).message).toContain('closed');
  });

  it('passes the file system failure through as a rejection with its own code', async () => {
    const store = await opened();
    // A directory where segment 7's file would go: the open fails (EISDIR), whoever runs the test.
    await mkdir(join(directory(), 'journal', `${'7'.padStart(16, '0')}.journal`));
    expect((await rejection(store.append(7, new Uint8Array([1])))).code).toBe('EISDIR');
    await store.append(8, new Uint8Array([1]));
    expect(await store.readSegment(8)).toEqual(new Uint8Array([1]));
    await store.close();
  });
});
