// Fds 0-2 are virtual and private to each instance: a guest that closes, renumbers, re-flags or
// reads them changes nothing of the host process (checked in a child process whose stdin is a pipe
// with data waiting) and nothing of any other instance.

import { describe, expect, it } from 'vitest';
import { PACKAGE, reportOf, runHost } from './helpers/child-host.js';
import { fixture, OutputCollector } from './helpers/fixtures.js';
import { readText, SURFACE, writeBytes, writeIovec } from './helpers/guest-memory.js';
import { ReactorPool } from '../dist/src/index.js';
import { createPool, rejection } from './helpers/pool.js';

const GO = fixture('conformance/go.wasm');
const NONBLOCK_APPEND = 5;

describe('virtual stdio', () => {
  it('leaves the host descriptors, flags and stdin untouched, and new instances still start', async () => {
    const run = await runHost(`
      import { readFileSync } from 'node:fs';
      import { ReactorPool } from ${JSON.stringify(PACKAGE)};
      // Linux: the open flags of the process's own descriptors (octal), e.g. O_NONBLOCK, O_APPEND.
      const flags = () => [0, 1, 2].map((fd) => readFileSync('/proc/self/fdinfo/' + fd, 'utf8').match(/flags:\\s*(\\d+)/)[1]);
      // Node sets O_NONBLOCK on a pipe when it first opens process.stdout/stderr (worker threads do it
      // for stdout): open both first, so that only the guests could change the flags after this.
      process.stderr.write('host stderr before\\n');
      process.stdout.write('');
      const before = flags();
      const pool = await ReactorPool.create({ module: ${JSON.stringify(SURFACE)}, workers: 1, stdout: 'ignore', stderr: 'ignore', wasi: { stdin: 'configured' } });
      const attacker = pool.session('attacker');
      const read = [await attacker.call('read_stdin', 100), await attacker.call('read_stdin', 100)];
      const text = String.fromCharCode(...await attacker.callMany('load8', Int32Array.from({ length: 10 }, (_, i) => 1024 + i)));
      const attacks = [];
      for (const fd of [0, 1, 2]) attacks.push(await attacker.call('call_fd_fdstat_set_flags', fd, ${NONBLOCK_APPEND}));
      attacks.push(await attacker.call('call_fd_renumber', 1, 2), await attacker.call('call_fd_renumber', 2, 0));
      for (const fd of [0, 1, 2]) attacks.push(await attacker.call('call_fd_close', fd));
      // Go's _initialize sets O_NONBLOCK on fds 0-2 (on the host's, were they the host's).
      const go = await ReactorPool.create({ module: ${JSON.stringify(GO)}, workers: 1, stdout: 'ignore', stderr: 'ignore' });
      const goInc = await go.session('g').call('inc', 1);
      const fresh = await pool.session('fresh').call('read_stdin', 100);
      process.stderr.write('host stderr after\\n');
      const after = flags();
      await Promise.all([pool.close(), go.close()]);
      console.log('read host stdin');
      let hostStdin = '';
      for await (const chunk of process.stdin) hostStdin += chunk;
      console.log(JSON.stringify({ read, text, attacks, goInc, fresh, flagsKept: before.join() === after.join(), before, after, hostStdin }));
    `, { stdin: 'HOSTDATA', endStdinOn: 'read host stdin' });
    expect(run.signal).toBeNull();
    expect(run.stderr).toContain('host stderr before\nhost stderr after\n');
    expect(run.exitCode).toBe(0);
    const report = reportOf(run) as Record<string, unknown>;
    expect(report).toMatchObject({
      read: [10, 0],
      text: 'configured',
      attacks: [0, 0, 0, 58, 58, 0, 0, 0],
      goInc: 21,
      fresh: 10,
      hostStdin: 'HOSTDATA',
    });
    expect(report['after']).toEqual(report['before']);
  });

  it('keeps a closed or re-flagged descriptor private to the instance that did it', async () => {
    const output = new OutputCollector();
    const pool = await createPool({ module: SURFACE, workers: 1, stdout: output.callback });
    const [closer, other] = [pool.session('closer'), pool.session('other')];
    for (const session of [closer, other]) {
      await writeBytes(session, 8192, 'hi\n');
      await writeIovec(session, 3072, 8192, 3);
    }
    expect(await closer.call('call_fd_fdstat_set_flags', 1, NONBLOCK_APPEND)).toBe(0);
    expect(await closer.call('call_fd_close', 1)).toBe(0);
    expect(await closer.call('call_fd_write', 1, 3072, 1, 4096)).toBe(8);
    expect(await other.call('call_fd_write', 1, 3072, 1, 4096)).toBe(0);
    expect(await other.call('call_fd_fdstat_get', 1, 4096)).toBe(0);
    expect(await other.call('load16', 4096 + 2)).toBe(0);
    expect(output.keys()).toEqual(['other']);
    expect(output.of('other')).toBe('hi\n');
  });

  it('gives each instance its own copy of stdin, read from the start', async () => {
    const pool = await createPool({ module: SURFACE, workers: 1, wasi: { stdin: new Uint8Array([104, 105]) } });
    const [first, second] = [pool.session('first'), pool.session('second')];
    expect(await first.call('read_stdin', 1)).toBe(1);
    expect(await second.call('read_stdin', 100)).toBe(2);
    expect(await readText(second, 1024, 2)).toBe('hi');
    expect(await first.call('read_stdin', 100)).toBe(1);
    expect(await readText(first, 1024, 1)).toBe('i');
    await first.reset();
    expect(await first.call('read_stdin', 100)).toBe(2);
  });

  it('copies a Uint8Array stdin at create(): later changes to the caller\'s array do not reach instances', async () => {
    const bytes = new Uint8Array([104, 105]);
    const pool = await createPool({ module: SURFACE, workers: 1, wasi: { stdin: bytes } });
    bytes.fill(0);
    expect(await pool.session('a').call('read_stdin', 100)).toBe(2);
    expect(await readText(pool.session('a'), 1024, 2)).toBe('hi');
  });

  it('refuses a stdin that is neither a string nor a Uint8Array', async () => {
    const error = await rejection(ReactorPool.create({ module: SURFACE, wasi: { stdin: [104, 105] as unknown as Uint8Array } }));
    expect(error.code).toBe('ERR_INVALID_OPTION');
    expect(error.message).toContain('wasi.stdin');
    expect(error.message).toContain('[104,105]');
  });

  it('reads end-of-file at once when no stdin is configured', async () => {
    const pool = await createPool({ module: SURFACE, workers: 1 });
    expect(await pool.session('a').call('read_stdin', 100)).toBe(0);
  });
});
