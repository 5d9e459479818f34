// `reactor-pool run --json`: one JSON object per call with its result (i64 and non-finite floats as
// strings, bytes as { hex } or { base64 }) and the reactor's output; a failed call and any other error
// are JSON too, with their codes and exit codes.

import { describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';
import { KITCHEN, fixture } from './helpers/fixtures.js';

const lines = (stdout: string): unknown[] => stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as unknown);

describe('reactor-pool run --json', () => {
  it('prints one object per call, the output each call made in it (_initialize\'s with the first)', () => {
    const out = cli('run', KITCHEN, '--json', '--call', 'inc:1', '--call', 'say:7', '--call', 'add64:0x7fffffffffffffff',
      '--call', 'scale32:Infinity', '--call', 'nothing');
    expect({ status: out.status, stderr: out.stderr }).toEqual({ status: 0, stderr: '' });
    expect(lines(out.stdout)).toEqual([
      { export: 'inc', args: [1], result: 21, stdout: '', stderr: 's = 20\n' },
      { export: 'say', args: [7], result: null, stdout: 'say 7\n', stderr: 'err 7\n' },
      { export: 'add64', args: ['9223372036854775807'], result: '9223372036854775807', stdout: '', stderr: '' },
      { export: 'scale32', args: ['Infinity'], result: 'Infinity', stdout: '', stderr: '' },
      { export: 'nothing', args: [], result: null, stdout: '', stderr: '' },
    ]);
  });

  it('bytes and strings: arguments and results as { hex }, { base64 } or text', () => {
    const out = cli('run', fixture('buffers.wasm'), '--json', '--call', 'reverse:hex:00ff', '--call', 'reverse:str:ab', '--result', 'bytes', '--bytes', 'base64');
    expect(out.status).toBe(0);
    expect(lines(out.stdout)).toEqual([
      { export: 'reverse', args: [{ base64: 'AP8=' }], result: { base64: '/wA=' }, stdout: '', stderr: '' },
      { export: 'reverse', args: ['ab'], result: { base64: 'YmE=' }, stdout: '', stderr: '' },
    ]);
    const text = cli('run', fixture('buffers.wasm'), '--json', '--call', 'reverse:hex:6162', '--result', 'string');
    expect(lines(text.stdout)).toEqual([{ export: 'reverse', args: [{ hex: '6162' }], result: 'ba', stdout: '', stderr: '' }]);
  });

  it('a failed call is its object with { error: { code, message } }, the calls after it not run, exit 1', () => {
    const out = cli('run', KITCHEN, '--json', '--call', 'inc:1', '--call', 'boom', '--call', 'inc:1');
    expect(out.status).toBe(1);
    expect(out.stderr).toBe('');
    const [first, failed, ...rest] = lines(out.stdout);
    expect(first).toMatchObject({ export: 'inc', result: 21 });
    expect(failed).toEqual({
      export: 'boom', args: [], stdout: '', stderr: '',
      error: { code: 'ERR_REACTOR_TRAP', message: expect.stringMatching(/^session "cli": export `boom` trapped/) as unknown },
    });
    expect(rest).toEqual([]);
  });

  it('usage mistakes and pool errors print { error: { code, message } } on stdout, with their exit codes', () => {
    const cases: [string[], string, number][] = [
      [['run', KITCHEN, '--json', '--call', 'nope'], 'ERR_UNKNOWN_EXPORT', 2],
      [['run', KITCHEN, '--json', '--call', 'inc:x'], 'ERR_INVALID_ARGUMENT', 2],
      [['run', KITCHEN, '--json', '--bogus'], 'ERR_INVALID_OPTION', 2],
      [['run', KITCHEN, '--json'], 'ERR_INVALID_OPTION', 2],
      [['run', fixture('command.wasm'), '--json', '--call', 'inc:1'], 'ERR_NOT_A_REACTOR', 1],
      [['run', fixture('missing.wasm'), '--json', '--call', 'inc:1'], 'ERR_MODULE_NOT_FOUND', 1],
    ];
    for (const [args, code, status] of cases) {
      const out = cli(...args);
      expect({ args, status: out.status, stderr: out.stderr }).toEqual({ args, status, stderr: '' });
      expect(lines(out.stdout)).toEqual([{ error: { code, message: expect.any(String) as unknown } }]);
    }
  }, 60_000);
});
