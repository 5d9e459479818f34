// `--host-functions PATH` on the command line: `run` and `bench` give the module its host functions,
// `inspect` judges the module's imports against them (exit 0 when they match, 3 when they do not).

import { describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';
import { fixture } from './helpers/fixtures.js';

const PLUGIN = fixture('host-functions.wasm');
const HOST = fixture('host-functions.mjs');

describe('reactor-pool --host-functions', () => {
  it('run calls a plug-in through its host functions, strings included', () => {
    const run = cli('run', PLUGIN, '--host-functions', HOST, '--session', 'ada', '--call', 'add:2,40', '--call', 'greet:str:you', '--result', 'greet=string');
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
    expect(run.stdout).toBe('add(2, 40) = 42\ngreet("you") = hello you from ada\n');
  });

  it('run without the flag refuses the plug-in, naming the option', () => {
    const run = cli('run', PLUGIN, '--call', 'add:2,40');
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/ERR_UNSUPPORTED_IMPORT.*hostFunctions/s);
  });

  it('inspect judges the imports against the host functions', () => {
    expect(cli('inspect', PLUGIN).status).toBe(3);
    const matched = cli('inspect', PLUGIN, '--host-functions', HOST);
    expect({ status: matched.status, stderr: matched.stderr }).toEqual({ status: 0, stderr: '' });
    expect(matched.stdout).toMatch(/^reactor: yes$/m);
    const mismatched = cli('inspect', fixture('host-mismatch.wasm'), '--host-functions', HOST, '--json');
    expect(mismatched.status).toBe(3);
    expect(JSON.parse(mismatched.stdout)).toMatchObject({ runnable: false, problem: { code: 'ERR_HOST_FUNCTION_MISMATCH' } });
  });

  it('a host-function module that cannot be imported is an error with its code', () => {
    const missing = cli('inspect', PLUGIN, '--host-functions', fixture('no-such-host.mjs'), '--json');
    expect(missing.status).toBe(1);
    expect(JSON.parse(missing.stdout)).toMatchObject({ error: { code: 'ERR_INVALID_HOST_FUNCTIONS' } });
    const empty = cli('run', PLUGIN, '--host-functions', '', '--call', 'add:1,2');
    expect(empty.status).toBe(2);
    expect(empty.stderr).toMatch(/ERR_INVALID_OPTION.*--host-functions/);
  });

  it('bench load-tests a plug-in with its host functions', () => {
    const bench = cli('bench', PLUGIN, '--host-functions', HOST, '--call', 'add:1,2', '--calls', '200', '--sessions', '4', '--workers', '1');
    expect({ status: bench.status }).toEqual({ status: 0 });
    expect(bench.stdout).toMatch(/calls\/s/);
  });
});
