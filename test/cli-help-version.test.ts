// `reactor-pool --version`, `help <command>` and unknown commands: the version comes from the package's
// own package.json at run time (also from an installed copy), each command's help is reachable two ways,
// and a mistyped command says what the commands are.

import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';
import { useTempDirectory } from './helpers/temp-directory.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
const temp = useTempDirectory('cli-version');

describe('reactor-pool --version and help', () => {
  it('--version and -v print the version in package.json', () => {
    expect(cli('--version')).toEqual({ status: 0, stdout: `${version}\n`, stderr: '' });
    expect(cli('-v')).toEqual({ status: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('--version reads the package.json of an installed copy, not of the checkout', () => {
    // The layout npm installs: node_modules/reactor-pool/{package.json,dist/src,dist/workers}.
    const modules = join(temp(), 'node_modules');
    const installed = join(modules, 'reactor-pool');
    mkdirSync(installed, { recursive: true });
    cpSync(join(root, 'dist', 'src'), join(installed, 'dist', 'src'), { recursive: true });
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(installed, 'package.json'), JSON.stringify({ ...manifest, version: '9.8.7-installed' }));
    for (const dependency of ['piscina', 'comlink']) symlinkSync(join(root, 'node_modules', dependency), join(modules, dependency), 'dir');
    const run = spawnSync(process.execPath, [join(installed, 'dist', 'src', 'cli.js'), '--version'], { encoding: 'utf8', timeout: 25_000 });
    expect({ status: run.status, stdout: run.stdout, stderr: run.stderr }).toEqual({ status: 0, stdout: '9.8.7-installed\n', stderr: '' });
  });

  it('help <command> prints the same text as <command> --help', () => {
    for (const command of ['run', 'inspect', 'demo', 'bench', 'member', 'status']) {
      const viaHelp = cli('help', command);
      expect({ command, status: viaHelp.status, stderr: viaHelp.stderr }).toEqual({ command, status: 0, stderr: '' });
      expect(viaHelp.stdout).toMatch(new RegExp(`^Usage: reactor-pool ${command} `));
      expect(cli(command, '--help').stdout).toBe(viaHelp.stdout);
    }
    const main = cli('help');
    expect(main.status).toBe(0);
    expect(main.stdout).toMatch(/^Usage: reactor-pool <command>/);
    expect(main.stdout).toContain('-v, --version');
    expect(cli('--help').stdout).toBe(main.stdout);
  }, 60_000);

  it('an unknown command, or help for one, exits 2 naming the commands', () => {
    for (const args of [['frobnicate'], ['help', 'frobnicate'], ['--bogus']]) {
      const out = cli(...args);
      expect({ args, status: out.status, stdout: out.stdout }).toEqual({ args, status: 2, stdout: '' });
      expect(out.stderr).toMatch(/^error \[ERR_INVALID_OPTION\]: unknown command ".+"; the commands are run, inspect, types, demo, bench, member, status \(see reactor-pool --help\)\n$/);
    }
    expect(cli('help', 'run', 'demo')).toMatchObject({ status: 2, stderr: 'error [ERR_INVALID_OPTION]: help takes one command, got 2: run demo\n' });
  });
});
