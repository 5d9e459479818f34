// `reactor-pool run` with string and bytes arguments (`str:`, JSON strings, `hex:`, `b64:`, `file:`) and
// results read as numbers, bytes or strings (`--result`, `--bytes`); bad syntax is refused, coded, exit 2.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';
import { REACTOR, fixture } from './helpers/fixtures.js';
import { useTempDirectory } from './helpers/temp-directory.js';

const BUFFERS = fixture('buffers.wasm');
const temp = useTempDirectory('cli-buffers');

describe('reactor-pool run with strings and bytes', () => {
  it('passes str:, JSON strings, hex:, b64: and file: arguments, each as a (pointer, length) pair', () => {
    const file = join(temp(), 'input.bin');
    writeFileSync(file, Uint8Array.of(1, 2, 250));
    const out = cli('run', BUFFERS,
      '--call', 'total:str:AB', '--call', 'total:"A,\\u0001"', '--call', 'total:hex:0102ff', '--call', 'total:b64:AQL/',
      '--call', `total:file:${file}`, '--call', 'total:str:', '--call', 'weigh:str:abc, 2 ,hex:00ff');
    expect(out).toEqual({
      status: 0, stderr: '',
      stdout: ['total("AB") = 131', 'total("A,\\u0001") = 110', 'total(hex:0102ff) = 258', 'total(hex:0102ff) = 258',
        'total(hex:0102fa) = 253', 'total("") = 0', 'weigh("abc", 2, hex:00ff) = 8', ''].join('\n'),
    });
  });

  it('--result reads a buffer result as bytes or a string, for every call or one export; --bytes base64', () => {
    // Bytes reversed: a two-byte UTF-8 character would not survive, so ASCII only.
    expect(cli('run', BUFFERS, '--call', 'reverse:"hi, you"', '--result', 'string')).toMatchObject({ status: 0, stdout: 'reverse("hi, you") = uoy ,ih\n' });
    const perExport = cli('run', BUFFERS, '--call', 'reverse:hex:00ff10', '--call', 'total:hex:0102', '--result', 'reverse=bytes');
    expect(perExport).toMatchObject({ status: 0, stdout: 'reverse(hex:00ff10) = hex:10ff00\ntotal(hex:0102) = 3\n' });
    const base64 = cli('run', BUFFERS, '--call', 'reverse:b64:AP8Q', '--result', 'bytes', '--bytes', 'base64');
    expect(base64).toMatchObject({ status: 0, stdout: 'reverse(b64:AP8Q) = b64:EP8A\n' });
    // Without --result the i64 is what the export returned: pointer << 32 | length.
    const packed = cli('run', BUFFERS, '--call', 'reverse:str:ab');
    expect(packed.stdout).toMatch(/^reverse\("ab"\) = \d+\n$/);
    expect(BigInt(packed.stdout.split(' = ')[1] as string) & 0xffffffffn).toBe(2n);
  });

  it('refuses bad argument syntax and mismatched result modes with a coded error, exit 2, before any call', () => {
    const cases: [string[], string, RegExp][] = [
      [['--call', 'reverse:hex:0'], 'ERR_INVALID_ARGUMENT', /argument 0 of `reverse` must be hex:HEX with an even number of hexadecimal digits, got "hex:0"/],
      [['--call', 'reverse:hex:zz'], 'ERR_INVALID_ARGUMENT', /must be hex:HEX/],
      [['--call', 'reverse:b64:abc'], 'ERR_INVALID_ARGUMENT', /must be b64:BASE64 .*, got "b64:abc"/],
      [['--call', 'reverse:"abc'], 'ERR_INVALID_ARGUMENT', /argument 0 of `reverse` starts a JSON string that never ends, got "\\"abc"/],
      [['--call', 'reverse:"a"b'], 'ERR_INVALID_ARGUMENT', /must be a JSON string/],
      [['--call', `reverse:file:${join('/nonexistent', 'x')}`], 'ERR_INVALID_ARGUMENT', /must be file:PATH naming a readable file \(ENOENT\)/],
      [['--call', 'weigh:str:a,str:b,str:c'], 'ERR_INVALID_ARGUMENT', /a buffer fills two i32 parameters/],
      [['--call', 'total:str:a', '--result', 'string'], 'ERR_INVALID_ARGUMENT', /result 'string' needs an export returning one i64/],
      [['--call', 'reverse:str:a', '--result', 'text'], 'ERR_INVALID_OPTION', /Expected --result to be number, bytes or string, or EXPORT=MODE for one export, got `"text"`/],
      [['--call', 'reverse:str:a', '--result', 'reverse=bytes', '--result', 'reverse=string'], 'ERR_INVALID_OPTION', /--result is given twice for `reverse`/],
      [['--call', 'reverse:str:a', '--result', 'nope=bytes'], 'ERR_UNKNOWN_EXPORT', /cannot call `nope`/],
      [['--call', 'reverse:str:a', '--bytes', 'octal'], 'ERR_INVALID_OPTION', /Expected --bytes to be hex or base64, got `"octal"`/],
    ];
    for (const [args, code, message] of cases) {
      const out = cli('run', BUFFERS, '--call', 'total:str:first', ...args);
      expect({ args, status: out.status, stdout: out.stdout }).toEqual({ args, status: 2, stdout: '' });
      expect(out.stderr, args.join(' ')).toMatch(new RegExp(`^error \\[${code}\\]: `));
      expect(out.stderr, args.join(' ')).toMatch(message);
    }
    // A string for an (i32) parameter: no (pointer, length) pair starts there.
    expect(cli('run', REACTOR, '--call', 'inc:str:x')).toMatchObject({ status: 2, stderr: expect.stringMatching(/^error \[ERR_INVALID_ARGUMENT\]: .*a buffer fills two i32 parameters/) });
  }, 60_000);
});
