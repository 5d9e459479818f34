// `reactor-pool demo` on other modules and other sizes: --calls is bounded by the pool's per-session
// queue up front; a module without a running-sum `inc(i32) -> i32` is refused saying what the demo needs;
// one whose _initialize prints nothing still passes.

import { describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';
import { fixture } from './helpers/fixtures.js';

describe('reactor-pool demo', () => {
  it('refuses --calls past the per-session queue, and other bad sizes, before any call (exit 2)', () => {
    const cases: [string[], RegExp][] = [
      [['--calls', '10001'], /Expected --calls to be an integer from 1 to 10000, got `"10001"`/],
      [['--calls', '0'], /Expected --calls to be an integer from 1 to 10000, got `"0"`/],
      [['--sessions', '1000001'], /Expected --sessions to be an integer from 1 to 1000000/],
      [['--workers', '0'], /Expected --workers to be an integer from 1 to 256/],
    ];
    for (const [args, message] of cases) {
      const out = cli('demo', ...args);
      expect({ args, status: out.status, stdout: out.stdout }).toEqual({ args, status: 2, stdout: '' });
      expect(out.stderr).toMatch(/^error \[ERR_INVALID_OPTION\]: /);
      expect(out.stderr).toMatch(message);
    }
  });

  it('the most calls per session a queue holds run and check out', () => {
    const out = cli('demo', '--calls', '10000', '--sessions', '2', '--workers', '1');
    expect(out.stderr).toBe('s = 20\n');
    expect(out.stdout).toMatch(/2 sessions × 10000 interleaved inc calls\n {2}20000 calls in .*\n {2}all results correct\n$/);
    expect(out.status).toBe(0);
  });

  it('refuses a module without inc(i32) -> i32, or whose inc keeps no running sum, saying what it needs (exit 2)', () => {
    const missing = cli('demo', fixture('buffers.wasm'));
    expect({ status: missing.status, stdout: missing.stdout }).toEqual({ status: 2, stdout: '' });
    expect(missing.stderr).toMatch(/^error \[ERR_INVALID_OPTION\]: demo needs a module exporting `inc\(i32\) -> i32` that adds its argument to a running sum .*buffers\.wasm" has no export `inc`; see `reactor-pool bench`/);
    const stateless = cli('demo', fixture('inc-double.wasm'));
    expect(stateless.status).toBe(2);
    // The reference scenario's two calls ran and are shown: they are how the demo found out.
    expect(stateless.stdout).toBe('inc(1) = 2\ninc(21) = 42\n');
    expect(stateless.stderr).toMatch(/^error \[ERR_INVALID_OPTION\]: demo needs `inc\(n\)` to add n to a running sum and return it, but ".*inc-double\.wasm" answered inc\(1\) = 2, then inc\(21\) = 42 \(not 23\)/);
  });

  it('runs on a module whose _initialize prints nothing', () => {
    const out = cli('demo', fixture('no-init.wasm'), '--sessions', '30', '--calls', '4', '--workers', '2');
    expect(out).toMatchObject({ status: 0, stderr: '' });
    expect(out.stdout).toMatch(/^inc\(1\) = 21\ninc\(21\) = 42\n\npool demo: 2 workers, 30 sessions × 4 interleaved inc calls\n.*30 instances initialized\n {2}all results correct\n$/);
  });
});
