// `reactor-pool bench <module>`, the load test for users' own modules: a bounded run prints a report and
// writes valid JSON; calls cycle per session; failed calls are counted by code and exit 1; usage
// mistakes exit 2 before any load. Never asserts timings.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LoadTestReport } from '../dist/src/cli/load-test-report.js';
import { cli } from './helpers/cli.js';
import { KITCHEN, REACTOR, fixture } from './helpers/fixtures.js';

const out = mkdtempSync(join(tmpdir(), 'reactor-pool-load-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('reactor-pool bench <module>', () => {
  it('a bounded run prints calls/s and latency percentiles and writes the JSON report', () => {
    const json = join(out, 'report.json');
    const run = cli('bench', REACTOR, '--call', 'inc:1', '--call', 'inc:-1', '--calls', '3000', '--sessions', '7',
      '--concurrency', '20', '--workers', '2', '--json', json);
    // Nothing but progress lines, which a run slower than a second (a loaded machine) prints.
    expect(run.stderr).toMatch(/^(?:\[\d+ s\] .*\n)*$/);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^load test: .*reactor\.wasm\n {2}2 workers, 7 sessions, 20 in flight, 3,000 calls; calls: inc:1 inc:-1\n/);
    expect(run.stdout).toContain('\n  pool: isolation session, on trap keep, call timeout none, memory limit none\n');
    expect(run.stdout).toMatch(/\n {2}3,000 calls in \d+\.\d\d s: [\d,]+ calls\/s\n/);
    expect(run.stdout).toMatch(/\n {2}latency \(ms\): p50 [\d.e+-]+ {2}p90 [\d.e+-]+ {2}p99 [\d.e+-]+ {2}max [\d.e+-]+\n {2}failed: none\n/);

    const report = JSON.parse(readFileSync(json, 'utf8')) as LoadTestReport;
    expect(report.command).toBe('reactor-pool bench');
    expect(report.node).toBe(process.version);
    expect(report.machine.cores).toBeGreaterThan(0);
    expect(report.options).toEqual({
      calls: ['inc:1', 'inc:-1'], sessions: 7, concurrency: 20, durationSeconds: null, totalCalls: 3000, workers: 2,
      isolation: 'session', callTimeoutMs: null, memoryLimitBytes: null, onTrap: 'keep', results: { inc: 'number' }, env: [], dirs: {},
    });
    expect({ calls: report.calls, failed: report.failed, errors: report.errors, stoppedBy: report.stoppedBy })
      .toEqual({ calls: 3000, failed: 0, errors: {}, stoppedBy: null });
    expect(report.callsPerSecond).toBeGreaterThan(0);
    const { p50, p90, p99, max } = report.latencyMs;
    expect([p50, p90, p99, max].every((v) => typeof v === 'number' && v > 0)).toBe(true);
    expect((p50 as number) <= (p90 as number) && (p90 as number) <= (p99 as number) && (p99 as number) <= (max as number)).toBe(true);
  });

  it('cycles the --call list per session and counts failed calls by code, exiting 1', () => {
    const json = join(out, 'failed.json');
    // 10 calls over 2 sessions: each session makes inc, boom, inc, boom, inc — 4 traps in all
    // (cycling over all calls instead would send every boom to one session: 5).
    const run = cli('bench', KITCHEN, '--call', 'inc:1', '--call', 'boom', '--calls', '10', '--sessions', '2', '--json', json);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('\n  failed: 4 (ERR_REACTOR_TRAP ×4)\n');
    expect(run.stderr).toMatch(/^error: 4 of 10 calls failed: ERR_REACTOR_TRAP ×4 \(first: session "load-\d": export `boom` trapped/m);
    const report = JSON.parse(readFileSync(json, 'utf8')) as LoadTestReport;
    expect({ calls: report.calls, failed: report.failed, codes: Object.keys(report.errors), traps: report.errors['ERR_REACTOR_TRAP']?.count, stoppedBy: report.stoppedBy })
      .toEqual({ calls: 10, failed: 4, codes: ['ERR_REACTOR_TRAP'], traps: 4, stoppedBy: null });
  });

  it('takes string and bytes arguments, reads results as --result says, and grants --env and --dir', () => {
    const buffers = cli('bench', fixture('buffers.wasm'), '--call', 'reverse:str:abc', '--call', 'total:hex:0102', '--result', 'reverse=bytes',
      '--calls', '40', '--sessions', '2', '--workers', '1', '--json', join(out, 'buffers.json'));
    expect(buffers.status).toBe(0);
    expect(buffers.stdout).toContain('calls: reverse:str:abc total:hex:0102\n');
    const report = JSON.parse(readFileSync(join(out, 'buffers.json'), 'utf8')) as LoadTestReport;
    expect(report.options).toMatchObject({ results: { reverse: 'bytes', total: 'number' }, env: [], dirs: {} });
    // `bad` names bytes outside memory: read as bytes, every call fails; read as a number, none would.
    const bytes = cli('bench', fixture('buffers.wasm'), '--call', 'bad', '--result', 'bytes', '--calls', '6', '--sessions', '2', '--workers', '1');
    expect(bytes.status).toBe(1);
    expect(bytes.stdout).toContain('\n  failed: 6 (ERR_OUT_OF_BOUNDS ×6)\n');
    expect(cli('bench', fixture('buffers.wasm'), '--call', 'bad', '--calls', '6', '--workers', '1').status).toBe(0);
    // `preopen` traps without a preopened directory.
    const granted = cli('bench', fixture('wasi-grants.wasm'), '--call', 'preopen', '--result', 'string', '--dir', `${out}:/data`, '--env', 'A=1',
      '--calls', '6', '--sessions', '2', '--workers', '1', '--json', join(out, 'granted.json'));
    expect(granted.status).toBe(0);
    expect((JSON.parse(readFileSync(join(out, 'granted.json'), 'utf8')) as LoadTestReport).options)
      .toMatchObject({ results: { preopen: 'string' }, env: ['A'], dirs: { '/data': out } });
    expect(cli('bench', fixture('wasi-grants.wasm'), '--call', 'preopen', '--result', 'string', '--calls', '2', '--workers', '1').stdout)
      .toContain('\n  failed: 2 (ERR_REACTOR_TRAP ×2)\n');
    const mistakes: [string[], RegExp][] = [
      [['--result', 'inc=string'], /^error \[ERR_INVALID_ARGUMENT\]: result 'string' needs an export returning one i64/],
      [['--env', 'A'], /^error \[ERR_INVALID_OPTION\]: Expected --env to be KEY=VALUE/],
      [['--dir', join(out, 'missing')], /^error \[ERR_INVALID_OPTION\]: Expected --dir to name an existing host directory/],
    ];
    for (const [args, message] of mistakes) {
      const run = cli('bench', REACTOR, '--call', 'inc:1', ...args);
      expect({ args, status: run.status, stdout: run.stdout }).toEqual({ args, status: 2, stdout: '' });
      expect(run.stderr).toMatch(message);
    }
  }, 60_000);

  it('--duration bounds the run and progress goes to stderr once a second', () => {
    const run = cli('bench', REACTOR, '--call', 'inc:1', '--duration', '2', '--workers', '1', '--sessions', '2');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/, 2 s; calls: inc:1\n/);
    expect(run.stderr).toMatch(/^\[1 s\] [\d,]+ calls, [\d,]+ calls\/s, 0 failed$/m);
  });

  it('usage mistakes exit 2 with a coded error, before any load', () => {
    const cases: [string[], RegExp][] = [
      [['bench', REACTOR], /bench needs at least one --call/],
      [['bench', '--call', 'inc:1'], /bench needs a module path/],
      [['bench', REACTOR, '--call', 'inc:1', '--calls', '5', '--duration', '1'], /--duration or --calls, not both/],
      [['bench', REACTOR, '--call', 'inc:1', '--concurrency', '0'], /Expected --concurrency to be an integer from 1 to 10000, got `"0"`/],
      [['bench', REACTOR, '--call', 'inc:1', '--sessions', '10001'], /Expected --sessions to be an integer from 1 to 10000/],
      [['bench', REACTOR, '--call', 'inc:1', '--duration', '1.5'], /Expected --duration to be an integer from 1 to 86400/],
      [['bench', REACTOR, '--call', 'inc:1', '--calls=-3'], /Expected --calls to be an integer/],
      [['bench', REACTOR, '--call', 'inc:1', '--json', join(out, 'missing', 'r.json')], /Expected --json to be a file in an existing directory/],
      [['bench', REACTOR, '--call', 'inc:1', '--json', ''], /Expected --json to be a file path/],
      [['bench', REACTOR, '--call', 'inc:1', '--frobnicate'], /ERR_INVALID_OPTION/],
      [['bench', REACTOR, '--call', 'inc:1', '--timeout', '0'], /Expected --timeout to be an integer from 1 to 2147483647, got `"0"`/],
      [['bench', REACTOR, '--call', 'inc:1', '--timeout', '1s'], /Expected --timeout to be an integer .*, got `"1s"`/],
      [['bench', REACTOR, '--call', 'inc:1', '--memory-limit', '64MB'], /Expected --memory-limit to be a whole number of bytes .*, got `"64MB"`/],
      [['bench', REACTOR, '--call', 'inc:1', '--memory-limit', '1.5GiB'], /Expected --memory-limit .*, got `"1.5GiB"`/],
      [['bench', REACTOR, '--call', 'inc:1', '--memory-limit', '0'], /Expected --memory-limit .*, got `"0"`/],
      [['bench', REACTOR, '--call', 'inc:1', '--memory-limit', '9000000GiB'], /Expected --memory-limit .*, got `"9000000GiB"`/],
      [['bench', REACTOR, '--call', 'inc:1', '--isolation', 'thread'], /Expected `--isolation` to be 'session' or 'worker', got `"thread"`/],
      [['bench', REACTOR, '--call', 'inc:1', '--on-trap', 'ignore'], /Expected `--on-trap` to be 'keep' or 'lose' or 'reset', got `"ignore"`/],
      [['bench', REACTOR, '--call', 'nope'], /^error \[ERR_UNKNOWN_EXPORT\]/],
      [['bench', REACTOR, '--call', 'inc:x'], /^error \[ERR_INVALID_ARGUMENT\]: argument 0 of `inc` must be an integer/],
    ];
    for (const [args, message] of cases) {
      const run = cli(...args);
      expect({ args, status: run.status, stdout: run.stdout }).toEqual({ args, status: 2, stdout: '' });
      expect(run.stderr, args.join(' ')).toMatch(message);
    }
    const help = cli('bench', '--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: reactor-pool bench <module> --call NAME\[:ARG,ARG\.\.\.\]/);
    for (const flag of ['--result MODE', '--env KEY=VALUE', '--dir HOST[:GUEST]', 'str:TEXT', 'hex:00ff']) expect(help.stdout).toContain(flag);
    // Twenty-odd processes, each starting Node: slow on a loaded machine.
  }, 60_000);
});
