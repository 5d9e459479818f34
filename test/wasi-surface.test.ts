// Every one of the 46 wasi_snapshot_preview1 functions, called once from wasm through the pool,
// answers what README's "WASI surface" table promises (no preopens here: see wasi-preopens.test.ts).

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Session, WasmValue } from '../dist/src/index.js';
import { PREVIEW1_FUNCTIONS } from '../dist/workers/wasi-abi.js';
import { OutputCollector } from './helpers/fixtures.js';
import { load32, load64, readBytes, readText, SURFACE, writeBytes, writeIovec } from './helpers/guest-memory.js';
import { createPool, rejection } from './helpers/pool.js';

const E = { SUCCESS: 0, BADF: 8, FAULT: 21, INVAL: 28, NOTDIR: 54, NOTSUP: 58, SPIPE: 70, NOTCAPABLE: 76 } as const;
const OUT = 4096;
const IOV = 3072;
const DATA = 8192;
const PATH = 6144;
const FD_READ = 1n << 1n;
const FD_WRITE = 1n << 6n;

interface Row {
  /** The preview1 function this row calls. */
  readonly fn: (typeof PREVIEW1_FUNCTIONS)[number];
  readonly what: string;
  /** Memory set up before the call. */
  readonly setup?: (s: Session) => Promise<void>;
  readonly args: readonly WasmValue[];
  /** The errno the call returns, or the error code its call rejects with. */
  readonly expected: number | `ERR_${string}`;
  readonly check?: (s: Session, output: OutputCollector, key: string) => Promise<void>;
}

const ROWS: readonly Row[] = [
  { fn: 'args_sizes_get', what: 'counts the configured args', args: [OUT, OUT + 4], expected: E.SUCCESS, check: async (s) => {
    expect([await load32(s, OUT), await load32(s, OUT + 4)]).toEqual([2, 5]);
  } },
  { fn: 'args_get', what: 'writes the configured args', args: [OUT, DATA], expected: E.SUCCESS, check: async (s) => {
    expect([await load32(s, OUT), await load32(s, OUT + 4)]).toEqual([DATA, DATA + 2]);
    expect(await readText(s, DATA, 5)).toBe('a\0bc\0');
  } },
  { fn: 'environ_sizes_get', what: 'counts the configured env', args: [OUT, OUT + 4], expected: E.SUCCESS, check: async (s) => {
    expect([await load32(s, OUT), await load32(s, OUT + 4)]).toEqual([1, 4]);
  } },
  { fn: 'environ_get', what: 'writes the configured env, nothing of the host', args: [OUT, DATA], expected: E.SUCCESS, check: async (s) => {
    expect(await load32(s, OUT)).toBe(DATA);
    expect(await readText(s, DATA, 4)).toBe('K=v\0');
  } },
  { fn: 'clock_res_get', what: 'monotonic resolution', args: [1, OUT], expected: E.SUCCESS, check: async (s) => {
    expect(await load64(s, OUT)).toBe(1n);
  } },
  { fn: 'clock_res_get', what: 'unknown clock', args: [9, OUT], expected: E.INVAL },
  { fn: 'clock_time_get', what: 'realtime is the host wall clock', args: [0, 0n, OUT], expected: E.SUCCESS, check: async (s) => {
    const ms = Number((await load64(s, OUT)) / 1_000_000n);
    expect(Math.abs(ms - Date.now())).toBeLessThan(60_000);
  } },
  { fn: 'clock_time_get', what: 'unknown clock', args: [7, 0n, OUT], expected: E.INVAL },
  { fn: 'fd_advise', what: 'on stdin: a pipe', args: [0, 0n, 0n, 0], expected: E.SPIPE },
  { fn: 'fd_allocate', what: 'on stdout: a pipe', args: [1, 0n, 10n], expected: E.SPIPE },
  { fn: 'fd_close', what: 'stderr, for this instance only', args: [2], expected: E.SUCCESS, check: async (s) => {
    expect(await s.call('call_fd_close', 2)).toBe(E.BADF);
    expect(await s.call('call_fd_sync', 2)).toBe(E.BADF);
  } },
  { fn: 'fd_close', what: 'a descriptor that does not exist', args: [3], expected: E.BADF },
  { fn: 'fd_datasync', what: 'stdout: nothing to flush', args: [1], expected: E.SUCCESS },
  { fn: 'fd_fdstat_get', what: 'stdout is a character device that can write', args: [1, OUT], expected: E.SUCCESS, check: async (s) => {
    expect(await s.call('load8', OUT)).toBe(2);
    const rights = await load64(s, OUT + 8);
    expect(rights & FD_WRITE).toBe(FD_WRITE);
    expect(rights & FD_READ).toBe(0n);
    expect(await load64(s, OUT + 16)).toBe(0n);
  } },
  { fn: 'fd_fdstat_get', what: 'outside memory', args: [1, 65535], expected: E.FAULT },
  { fn: 'fd_fdstat_set_flags', what: 'kept for this instance (Go sets nonblock)', args: [1, 5], expected: E.SUCCESS, check: async (s) => {
    expect(await s.call('call_fd_fdstat_get', 1, OUT)).toBe(E.SUCCESS);
    expect(await s.call('load16', OUT + 2)).toBe(5);
  } },
  { fn: 'fd_fdstat_set_flags', what: 'unknown flag bits', args: [0, 0x20], expected: E.INVAL },
  { fn: 'fd_fdstat_set_rights', what: 'rights only shrink', args: [1, FD_WRITE | FD_READ, 0n], expected: E.NOTCAPABLE },
  { fn: 'fd_fdstat_set_rights', what: 'dropping the right to write', args: [1, 0n, 0n], expected: E.SUCCESS, check: async (s) => {
    await writeIovec(s, IOV, DATA, 1);
    expect(await s.call('call_fd_write', 1, IOV, 1, OUT)).toBe(E.NOTCAPABLE);
  } },
  { fn: 'fd_filestat_get', what: 'stdin: a character device', args: [0, OUT], expected: E.SUCCESS, check: async (s) => {
    expect(await s.call('load8', OUT + 16)).toBe(2);
  } },
  { fn: 'fd_filestat_set_size', what: 'stdout', args: [1, 0n], expected: E.INVAL },
  { fn: 'fd_filestat_set_times', what: 'stdout', args: [1, 0n, 0n, 0], expected: E.NOTSUP },
  { fn: 'fd_pread', what: 'stdin: a pipe', args: [0, IOV, 1, 0n, OUT], expected: E.SPIPE },
  { fn: 'fd_prestat_get', what: 'stdio is not preopened', args: [0, OUT], expected: E.BADF },
  { fn: 'fd_prestat_get', what: 'fd 3: no preopens, none', args: [3, OUT], expected: E.BADF },
  { fn: 'fd_prestat_dir_name', what: 'fd 3: none', args: [3, PATH, 16], expected: E.BADF },
  { fn: 'fd_pwrite', what: 'stdout: a pipe', args: [1, IOV, 1, 0n, OUT], expected: E.SPIPE },
  { fn: 'fd_read', what: 'stdin gives the configured bytes, then end-of-file',
    setup: (s) => writeIovec(s, IOV, DATA, 64), args: [0, IOV, 1, OUT], expected: E.SUCCESS, check: async (s) => {
      expect(await load32(s, OUT)).toBe(10);
      expect(await readText(s, DATA, 10)).toBe('configured');
      expect(await s.call('call_fd_read', 0, IOV, 1, OUT)).toBe(E.SUCCESS);
      expect(await load32(s, OUT)).toBe(0);
    } },
  { fn: 'fd_read', what: 'stdout cannot be read', setup: (s) => writeIovec(s, IOV, DATA, 4), args: [1, IOV, 1, OUT], expected: E.BADF },
  { fn: 'fd_readdir', what: 'stdin is not a directory', args: [0, DATA, 64, 0n, OUT], expected: E.NOTDIR },
  { fn: 'fd_renumber', what: 'onto stderr', args: [1, 2], expected: E.NOTSUP },
  { fn: 'fd_renumber', what: 'between descriptors that do not exist', args: [3, 4], expected: E.BADF },
  { fn: 'fd_seek', what: 'stdin: a pipe', args: [0, 0n, 0, OUT], expected: E.SPIPE },
  { fn: 'fd_sync', what: 'stdout: nothing to flush', args: [1], expected: E.SUCCESS },
  { fn: 'fd_tell', what: 'stdout: a pipe', args: [1, OUT], expected: E.SPIPE },
  { fn: 'fd_write', what: 'stdout is captured for the session',
    setup: async (s) => { await writeBytes(s, DATA, 'hello\n'); await writeIovec(s, IOV, DATA, 6); },
    args: [1, IOV, 1, OUT], expected: E.SUCCESS, check: async (s, output, key) => {
      expect(await load32(s, OUT)).toBe(6);
      expect(output.of(key)).toBe('hello\n');
    } },
  { fn: 'fd_write', what: 'stdin cannot be written', setup: (s) => writeIovec(s, IOV, DATA, 1), args: [0, IOV, 1, OUT], expected: E.BADF },
  { fn: 'fd_write', what: 'an iovec array too long for memory (at once, not entry by entry)', args: [1, IOV, 0x7fff_ffff, OUT], expected: E.FAULT },
  { fn: 'fd_write', what: 'an iovec outside memory', setup: (s) => writeIovec(s, IOV, 65530, 100), args: [2, IOV, 1, OUT], expected: E.FAULT },
  { fn: 'path_create_directory', what: 'at fd 3: no preopens', setup: (s) => writeBytes(s, PATH, 'x'), args: [3, PATH, 1], expected: E.BADF },
  { fn: 'path_filestat_get', what: 'at stdin: not a directory', args: [0, 0, PATH, 1, OUT], expected: E.NOTDIR },
  { fn: 'path_filestat_set_times', what: 'at fd 3', args: [3, 0, PATH, 1, 0n, 0n, 0], expected: E.BADF },
  { fn: 'path_link', what: 'to stdout', args: [3, 0, PATH, 1, 1, PATH, 1], expected: E.NOTDIR },
  { fn: 'path_open', what: 'at stdin: not a directory', args: [0, 0, PATH, 1, 0, FD_READ, 0n, 0, OUT], expected: E.NOTDIR },
  { fn: 'path_open', what: 'at fd 3: no preopens', args: [3, 0, PATH, 1, 0, FD_READ, 0n, 0, OUT], expected: E.BADF },
  { fn: 'path_readlink', what: 'at fd 3', args: [3, PATH, 1, DATA, 64, OUT], expected: E.BADF },
  { fn: 'path_remove_directory', what: 'at stderr', args: [2, PATH, 1], expected: E.NOTDIR },
  { fn: 'path_rename', what: 'to fd 0', args: [3, PATH, 1, 0, PATH, 1], expected: E.NOTDIR },
  { fn: 'path_symlink', what: 'at fd 3', args: [PATH, 1, 3, PATH, 1], expected: E.BADF },
  { fn: 'path_unlink_file', what: 'at fd 3', args: [3, PATH, 1], expected: E.BADF },
  { fn: 'poll_oneoff', what: 'no subscriptions', args: [0, 64, 0, 96], expected: E.INVAL },
  { fn: 'poll_oneoff', what: 'stdin is ready at once, with what is left to read', setup: async (s) => {
    await s.call('store64', 0, 7n);
    await s.call('store8', 8, 1);
    await s.call('store32', 16, 0);
  }, args: [0, 64, 1, 96], expected: E.SUCCESS, check: async (s) => {
    expect(await load32(s, 96)).toBe(1);
    expect(await load64(s, 64)).toBe(7n);
    expect(await s.call('load16', 64 + 8)).toBe(E.SUCCESS);
    expect(await s.call('load8', 64 + 10)).toBe(1);
    expect(await load64(s, 64 + 16)).toBe(10n);
  } },
  { fn: 'proc_exit', what: 'ends the instance, not the process', args: [3], expected: 'ERR_REACTOR_EXIT' },
  { fn: 'proc_raise', what: 'sends no signal; ends the instance', args: [15], expected: 'ERR_REACTOR_SIGNAL' },
  { fn: 'sched_yield', what: 'harmless', args: [], expected: E.SUCCESS },
  { fn: 'random_get', what: 'fills the buffer', args: [DATA, 32], expected: E.SUCCESS, check: async (s) => {
    const first = await readBytes(s, DATA, 32);
    expect(await s.call('call_random_get', DATA, 32)).toBe(E.SUCCESS);
    expect(await readBytes(s, DATA, 32)).not.toEqual(first);
  } },
  { fn: 'random_get', what: 'outside memory', args: [65530, 32], expected: E.FAULT },
  { fn: 'sock_accept', what: 'no sockets', args: [3, 0, OUT], expected: E.NOTSUP },
  { fn: 'sock_recv', what: 'no sockets', args: [0, IOV, 1, 0, OUT, OUT + 4], expected: E.NOTSUP },
  { fn: 'sock_send', what: 'no sockets', args: [1, IOV, 1, 0, OUT], expected: E.NOTSUP },
  { fn: 'sock_shutdown', what: 'no sockets', args: [1, 2], expected: E.NOTSUP },
];

describe('the sealed WASI preview1 surface, function by function', () => {
  it('covers every preview1 function, here and in the README table', () => {
    expect(PREVIEW1_FUNCTIONS).toHaveLength(46);
    expect(new Set(ROWS.map((row) => row.fn))).toEqual(new Set(PREVIEW1_FUNCTIONS));
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const name of PREVIEW1_FUNCTIONS) expect(readme).toMatch(new RegExp(`^\\|[^\\n]*\`${name}\``, 'm'));
  });

  it.each(ROWS.map((row, i) => [`${row.fn}: ${row.what}`, i] as const))('%s', async (_, i) => {
    const row = ROWS[i] as Row;
    const output = new OutputCollector();
    const pool = await createPool({
      module: SURFACE, workers: 1, stdout: output.callback, stderr: output.callback,
      wasi: { args: ['a', 'bc'], env: { K: 'v' }, stdin: 'configured' },
    });
    const key = `row-${i}`;
    const session = pool.session(key);
    await row.setup?.(session);
    if (typeof row.expected === 'number') {
      expect(await session.call(`call_${row.fn}`, ...row.args)).toBe(row.expected);
      await row.check?.(session, output, key);
    } else {
      const error = await rejection(session.call(`call_${row.fn}`, ...row.args));
      expect(error.code).toBe(row.expected);
      expect((await rejection(session.call('call_sched_yield'))).code).toBe('ERR_SESSION_LOST');
    }
  });
});
