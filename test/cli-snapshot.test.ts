import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';
import { KITCHEN, REACTOR, fixture } from './helpers/fixtures.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reactor-pool-cli-snapshot-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const file = (name: string): string => join(dir, name);

describe('reactor-pool run --snapshot-in / --snapshot-out', () => {
  it('resumes a session saved by an earlier run, without running _initialize again', async () => {
    const saved = cli('run', REACTOR, '--call', 'inc:1', '--snapshot-out', file('s.bin'));
    expect(saved).toEqual({ status: 0, stdout: 'inc(1) = 21\n', stderr: 's = 20\n' });
    // Only the snapshot is left: the temporary file was renamed over it.
    expect(await readdir(dir)).toEqual(['s.bin']);
    const resumed = cli('run', REACTOR, '--snapshot-in', file('s.bin'), '--call', 'inc:21');
    expect(resumed).toEqual({ status: 0, stdout: 'inc(21) = 42\n', stderr: '' });
  });

  it('chains across three runs, each resuming from and saving to the same file', async () => {
    const snapshot = file('chain.bin');
    expect(cli('run', REACTOR, '--call', 'inc:1', '--snapshot-out', snapshot).stdout).toBe('inc(1) = 21\n');
    const second = cli('run', REACTOR, '--snapshot-in', snapshot, '--call', 'inc:2', '--snapshot-out', snapshot);
    expect(second).toEqual({ status: 0, stdout: 'inc(2) = 23\n', stderr: '' });
    const third = cli('run', REACTOR, '--snapshot-in', snapshot, '--call', 'inc:3', '--snapshot-out', snapshot);
    expect(third).toEqual({ status: 0, stdout: 'inc(3) = 26\n', stderr: '' });
    expect(cli('run', REACTOR, '--snapshot-in', snapshot, '--call', 'inc:0').stdout).toBe('inc(0) = 26\n');
    expect(await readdir(dir)).toEqual(['chain.bin']);
  });

  it('with --snapshot-out and no --call, saves the freshly initialized session', () => {
    const saved = cli('run', REACTOR, '--snapshot-out', file('fresh.bin'));
    expect(saved).toEqual({ status: 0, stdout: '', stderr: 's = 20\n' });
    expect(cli('run', REACTOR, '--snapshot-in', file('fresh.bin'), '--call', 'inc:1').stdout).toBe('inc(1) = 21\n');
    // Without --snapshot-out a run still needs a call.
    const idle = cli('run', REACTOR, '--snapshot-in', file('fresh.bin'));
    expect(idle.status).toBe(2);
    expect(idle.stderr).toMatch(/^error \[ERR_INVALID_OPTION\]: run needs at least one --call/);
  });

  it('refuses a corrupt or truncated file with ERR_INVALID_SNAPSHOT, naming it, before any call runs', async () => {
    expect(cli('run', REACTOR, '--call', 'inc:1', '--snapshot-out', file('s.bin')).status).toBe(0);
    const bytes = await readFile(file('s.bin'));
    const corrupt = Uint8Array.from(bytes);
    corrupt[bytes.length - 1] = (corrupt[bytes.length - 1] as number) ^ 0xff;
    await writeFile(file('corrupt.bin'), corrupt);
    await writeFile(file('truncated.bin'), bytes.subarray(0, bytes.length - 1));
    await writeFile(file('text.bin'), 'not a snapshot\n');
    for (const name of ['corrupt.bin', 'truncated.bin', 'text.bin']) {
      const out = cli('run', REACTOR, '--snapshot-in', file(name), '--call', 'inc:1');
      expect({ name, ...out }).toMatchObject({
        name, status: 1, stdout: '', stderr: expect.stringMatching(new RegExp(`^error \\[ERR_INVALID_SNAPSHOT\\]: --snapshot-in ".*${name}": `)),
      });
    }
  });

  it('refuses a snapshot of another module with ERR_SNAPSHOT_MISMATCH', () => {
    expect(cli('run', fixture('conformance/c.wasm'), '--call', 'inc:1', '--snapshot-out', file('c.bin')).status).toBe(0);
    const out = cli('run', REACTOR, '--snapshot-in', file('c.bin'), '--call', 'inc:1');
    expect(out.stderr).toMatch(/^error \[ERR_SNAPSHOT_MISMATCH\]: /);
    expect(out.stdout).toBe('');
    expect(out.status).toBe(1);
  });

  it('refuses a --snapshot-in file that cannot be read as a usage mistake (exit 2), naming the path', () => {
    const missing = file('missing.bin');
    const out = cli('run', REACTOR, '--snapshot-in', missing, '--call', 'inc:1');
    expect(out.status).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr).toBe(`error [ERR_INVALID_OPTION]: cannot read --snapshot-in ${JSON.stringify(missing)}: ENOENT: no such file or directory, open '${missing}'\n`);
    // Checked before the pool starts: a missing module is not even noticed.
    expect(cli('run', fixture('missing.wasm'), '--snapshot-in', missing, '--call', 'inc:1').stderr).toMatch(/^error \[ERR_INVALID_OPTION\]: cannot read --snapshot-in/);
    expect(cli('run', REACTOR, '--snapshot-in', dir, '--call', 'inc:1')).toMatchObject({ status: 2, stderr: expect.stringMatching(/^error \[ERR_INVALID_OPTION\]: cannot read --snapshot-in .*EISDIR/) });
  });

  it('refuses a --snapshot-out path that cannot be written before the pool starts (exit 2)', async () => {
    for (const target of [file('no-such-dir/s.bin'), dir]) {
      const out = cli('run', REACTOR, '--call', 'inc:1', '--snapshot-out', target);
      // No `s = 20`: the pool never started.
      expect({ target, ...out }).toEqual({
        target, status: 2, stdout: '', stderr: expect.stringMatching(new RegExp(`^error \\[ERR_INVALID_OPTION\\]: cannot write --snapshot-out ${JSON.stringify(target)}: .+\\n$`)),
      });
    }
    const worker = cli('run', REACTOR, '--call', 'inc:1', '--snapshot-out', file('s.bin'), '--isolation', 'worker');
    expect(worker).toMatchObject({ status: 2, stdout: '', stderr: expect.stringMatching(/^error \[ERR_INVALID_OPTION\]: --snapshot-in and --snapshot-out need --isolation session/) });
    expect(await readdir(dir)).toEqual([]);
  });

  it('writes nothing when a call fails, and leaves an earlier snapshot at the path as it was', async () => {
    const snapshot = file('s.bin');
    const failed = cli('run', KITCHEN, '--call', 'inc:1', '--call', 'quit:4', '--snapshot-out', snapshot);
    expect(failed.stdout).toBe('inc(1) = 21\n');
    expect(failed.stderr).toMatch(/^error \[ERR_REACTOR_EXIT\]: /m);
    expect(failed.status).toBe(1);
    expect(await readdir(dir)).toEqual([]);
    expect(cli('run', KITCHEN, '--call', 'inc:1', '--snapshot-out', snapshot).status).toBe(0);
    const before = await readFile(snapshot);
    expect(cli('run', KITCHEN, '--snapshot-in', snapshot, '--call', 'inc:1', '--call', 'quit:4', '--snapshot-out', snapshot).status).toBe(1);
    expect(await readFile(snapshot)).toEqual(before);
    expect(await readdir(dir)).toEqual(['s.bin']);
  });

  it('refuses a module that cannot be snapshotted with ERR_NOT_SNAPSHOTTABLE naming why, before any call runs', async () => {
    const startSection = cli('run', fixture('snapshot/start-section.wasm'), '--snapshot-out', file('s.bin'));
    expect(startSection.stderr).toMatch(/^error \[ERR_NOT_SNAPSHOTTABLE\]: .*it has a start function.*\(start-section\)\n$/);
    expect(startSection.status).toBe(1);
    // Refused before its `inc` runs: no result line.
    const shared = cli('run', fixture('shared-memory.wasm'), '--call', 'inc:1', '--snapshot-out', file('s.bin'));
    expect(shared).toMatchObject({ status: 1, stdout: '', stderr: expect.stringMatching(/^error \[ERR_NOT_SNAPSHOTTABLE\]: .*\(shared-memory\)\n$/) });
    expect(await readdir(dir)).toEqual([]);
  });
});
