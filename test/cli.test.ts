import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KITCHEN, REACTOR, fixture } from './helpers/fixtures.js';

const CLI = fileURLToPath(new URL('../dist/src/cli.js', import.meta.url));

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the reactor-pool command', () => {
  it('run prints the reactor output and one line per call', () => {
    const out = cli('run', REACTOR, '--call', 'inc:1', '--call', 'inc:21');
    expect(out).toEqual({ status: 0, stdout: 'inc(1) = 21\ninc(21) = 42\n', stderr: 's = 20\n' });
  });

  it('run reads i64 arguments as big integers and floats as numbers', () => {
    const out = cli('run', KITCHEN, '--session', 'x', '--call', 'add64:9007199254740993', '--call', 'mix:1,0.5', '--call', 'nothing');
    expect(out.stdout).toBe('add64(9007199254740993) = 9007199254740993\nmix(1, 0.5) = 1.5\nnothing()\n');
    expect(out.status).toBe(0);
  });

  it('run --timeout and --memory-limit stop a runaway call or a greedy instance with their codes', () => {
    const runaway = cli('run', KITCHEN, '--call', 'inc:1', '--call', 'spin', '--timeout', '100');
    expect(runaway.stdout).toBe('inc(1) = 21\n');
    expect(runaway.stderr).toMatch(/^error \[ERR_CALL_TIMEOUT\]: session "cli": `spin` ran for \d+ ms, over its timeout of 100 ms/m);
    expect(runaway.status).toBe(1);
    const greedy = cli('run', KITCHEN, '--call', 'grow:10', '--memory-limit', '300000');
    expect(greedy.stderr).toMatch(/^error \[ERR_MEMORY_LIMIT\]: .*over the memoryLimit of 300000/m);
    expect(greedy.status).toBe(1);
    expect(cli('run', KITCHEN, '--call', 'inc:1', '--timeout', '0').status).toBe(2);
    const suffixed = cli('run', KITCHEN, '--call', 'grow:1', '--memory-limit', '160KiB');
    expect(suffixed.stderr).toMatch(/^error \[ERR_MEMORY_LIMIT\]: .*over the memoryLimit of 163840/m);
    const badSize = cli('run', KITCHEN, '--call', 'inc:1', '--memory-limit', '64MB');
    expect(badSize.status).toBe(2);
    expect(badSize.stderr).toMatch(/Expected --memory-limit to be a whole number of bytes.*, got `"64MB"`/);
    expect(cli('run', KITCHEN, '--call', 'inc:1', '--isolation', 'thread').stderr).toMatch(/Expected `--isolation` to be 'session' or 'worker', got `"thread"`/);
  });

  it('demo prints the reference scenario first, then a checked summary, with no warnings', () => {
    const out = cli('demo', '--sessions', '50', '--calls', '5', '--workers', '2');
    expect(out.status).toBe(0);
    expect(out.stderr).toBe('s = 20\n');
    expect(out.stdout.startsWith('inc(1) = 21\ninc(21) = 42\n')).toBe(true);
    expect(out.stdout).toMatch(/50 sessions × 5 interleaved inc calls/);
    expect(out.stdout).toMatch(/250 calls in .* calls\/s\), 50 instances initialized/);
    expect(out.stdout).toMatch(/all results correct/);
  });

  it('inspect prints exports with signatures, imports, memory and the verdict', () => {
    const out = cli('inspect', KITCHEN);
    expect(out.status).toBe(0);
    expect(out.stdout).toContain('reactor: yes');
    expect(out.stdout).toContain('  add64: function (i64) -> i64');
    expect(out.stdout).toContain('  quit: function (i32) -> ()');
    expect(out.stdout).toContain('  wasi_snapshot_preview1.proc_exit: function (i32) -> ()');
    expect(out.stdout).toMatch(/memory: \d+ pages initial/);
    const command = cli('inspect', fixture('command.wasm'));
    expect(command.stdout).toMatch(/reactor: no — ERR_NOT_A_REACTOR/);
    const json = JSON.parse(cli('inspect', REACTOR, '--json').stdout) as { runnable: boolean };
    expect(json.runnable).toBe(true);
  });

  it('errors print `error [CODE]: message` and exit non-zero', () => {
    const cases: [string[], string, number][] = [
      [['run', fixture('missing.wasm'), '--call', 'inc:1'], 'ERR_MODULE_NOT_FOUND', 1],
      [['run', fixture('command.wasm'), '--call', 'inc:1'], 'ERR_NOT_A_REACTOR', 1],
      [['run', REACTOR, '--call', 'dec:1'], 'ERR_UNKNOWN_EXPORT', 2],
      [['run', REACTOR, '--call', 'inc:x'], 'ERR_INVALID_ARGUMENT', 2],
      [['run', REACTOR, '--call', 'inc:1,2'], 'ERR_INVALID_ARGUMENT', 2],
      [['run', REACTOR, '--call', 'inc:1', '--session', ''], 'ERR_INVALID_ARGUMENT', 2],
      [['run', KITCHEN, '--call', 'quit:4'], 'ERR_REACTOR_EXIT', 1],
      [['run', REACTOR], 'ERR_INVALID_OPTION', 2],
      [['run', REACTOR, '--call', 'inc:1', '--bogus'], 'ERR_INVALID_OPTION', 2],
      [['frobnicate'], 'ERR_INVALID_OPTION', 2],
      [['inspect', fixture('not-wasm.wasm')], 'ERR_INVALID_MODULE', 1],
    ];
    for (const [args, code, status] of cases) {
      const out = cli(...args);
      expect(out.stderr).toMatch(new RegExp(`^error \\[${code}\\]: .+\\n$`, 'm'));
      expect(out.status).toBe(status);
    }
  }, 60_000);

  it('run --call takes decimal and 0x integers alike for i32 and i64, and refuses other syntaxes with exit 2', () => {
    const out = cli('run', KITCHEN, '--call', 'inc:0x10', '--call', 'inc:-0x6', '--call', 'add64:0x10', '--call', 'add64:-0x8000000000000000',
      '--call', 'add64:+007', '--call', 'mix:0x2,-2.5e-1', '--call', 'scale32:-Infinity');
    expect(out.stdout).toBe([
      'inc(16) = 36', 'inc(-6) = 30', 'add64(16) = 16', 'add64(-9223372036854775808) = -9223372036854775792',
      'add64(7) = -9223372036854775785', 'mix(2, -0.25) = 1.75', 'scale32(-Infinity) = -Infinity', '',
    ].join('\n'));
    expect(out.status).toBe(0);
    for (const bad of ['inc:1.0', 'inc:1e3', 'inc:0b1', 'inc:0o7', 'inc:1_000', 'inc:', 'inc:0x', 'add64:1.5', 'add64:0x1p3', 'mix:1,0x1.8', 'mix:1,1e', 'inc:4294967296']) {
      const refused = cli('run', KITCHEN, '--call', 'inc:1', '--call', bad);
      // Checked before anything runs: not even the first call's line is printed.
      expect({ bad, ...refused }).toMatchObject({ bad, status: 2, stdout: '', stderr: expect.stringMatching(/^error \[ERR_INVALID_ARGUMENT\]: /) });
    }
    expect(cli('run', '--help').stdout).toContain('decimal or 0x hexadecimal');
    // Fourteen processes, each starting Node: slow on a loaded machine.
  }, 60_000);

  it('--help works for the command and each subcommand', () => {
    expect(cli('--help').stdout).toMatch(/^Usage: reactor-pool <command>/);
    expect(cli('run', '--help').stdout).toMatch(/^Usage: reactor-pool run <module>/);
    expect(cli('inspect', '-h').stdout).toMatch(/^Usage: reactor-pool inspect/);
    expect(cli('demo', '--help').stdout).toMatch(/^Usage: reactor-pool demo/);
  });
});
