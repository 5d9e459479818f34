// `reactor-pool run --env KEY=VALUE --dir HOST[:GUEST]`: what the reactor's WASI environment is granted,
// nothing else; bad or repeated grants are usage mistakes, refused before a pool starts.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';
import { fixture } from './helpers/fixtures.js';
import { useTempDirectory } from './helpers/temp-directory.js';

const GRANTS = fixture('wasi-grants.wasm');
const temp = useTempDirectory('cli-grants');

describe('reactor-pool run --env and --dir', () => {
  it('--env sets exactly the variables given, values taken verbatim after the first =', () => {
    const out = cli('run', GRANTS, '--env', 'GREETING=hello world', '--env', 'EQUATION=a=b', '--env', 'EMPTY=', '--call', 'environ', '--result', 'string');
    expect(out).toEqual({ status: 0, stderr: '', stdout: 'environ() = GREETING=hello world\nEQUATION=a=b\nEMPTY=\n\n' });
    // Nothing of this process's environment leaks in.
    expect(cli('run', GRANTS, '--call', 'environ', '--result', 'string')).toEqual({ status: 0, stderr: '', stdout: 'environ() = \n' });
  });

  it('--dir preopens a host directory under a guest name, or under its own path', () => {
    const data = join(temp(), 'data');
    mkdirSync(data);
    writeFileSync(join(data, 'note.txt'), 'from the host');
    const mapped = cli('run', GRANTS, '--dir', `${data}:/srv`, '--call', 'preopen', '--call', 'read_file:str:note.txt', '--result', 'string');
    expect(mapped).toEqual({ status: 0, stderr: '', stdout: 'preopen() = /srv\nread_file("note.txt") = from the host\n' });
    expect(cli('run', GRANTS, '--dir', data, '--call', 'preopen', '--result', 'string').stdout).toBe(`preopen() = ${data}\n`);
    // With no --dir there is no preopened directory: the guest's fd_prestat_get fails and it traps.
    expect(cli('run', GRANTS, '--call', 'preopen', '--result', 'string')).toMatchObject({ status: 1, stderr: expect.stringMatching(/^error \[ERR_REACTOR_TRAP\]/) });
  });

  it('refuses bad or repeated grants with ERR_INVALID_OPTION, exit 2, before any call', () => {
    const file = join(temp(), 'plain.txt');
    writeFileSync(file, 'x');
    const missing = join(temp(), 'missing');
    const cases: [string[], RegExp][] = [
      [['--env', 'NOVALUE'], /Expected --env to be KEY=VALUE \(a non-empty KEY without `=`\), got `"NOVALUE"`/],
      [['--env', '=value'], /Expected --env to be KEY=VALUE .*, got `"=value"`/],
      [['--env', 'A=1', '--env', 'A=2'], /--env sets "A" twice, got `"A=2"` \(string\) after "A=1"/],
      [['--dir', missing], /Expected --dir to name an existing host directory, got `".*missing"` \(string\): ".*missing" does not exist/],
      [['--dir', `${file}:/f`], /Expected --dir to name an existing host directory, got .*: ".*plain\.txt" is not a directory/],
      [['--dir', `${temp()}:`], /Expected --dir to be HOST or HOST:GUEST, both non-empty/],
      [['--dir', `${temp()}:/a`, '--dir', `${temp()}:/a`], /--dir preopens the guest path "\/a" twice/],
    ];
    for (const [args, message] of cases) {
      const out = cli('run', GRANTS, '--call', 'environ', ...args);
      expect({ args, status: out.status, stdout: out.stdout }).toEqual({ args, status: 2, stdout: '' });
      expect(out.stderr, args.join(' ')).toMatch(/^error \[ERR_INVALID_OPTION\]: /);
      expect(out.stderr, args.join(' ')).toMatch(message);
    }
  }, 60_000);
});
