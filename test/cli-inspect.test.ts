// `reactor-pool inspect`: exit 0 for a module the pool can run, 3 for one it would refuse (the report
// printed all the same), 1 when the file is not WebAssembly or missing, 2 for a usage mistake; with
// --json the report carries the allocator and the snapshot verdict, and errors are JSON too.

import { describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';
import { REACTOR, fixture } from './helpers/fixtures.js';

interface JsonReport {
  readonly runnable: boolean;
  readonly problem?: { code: string; message: string };
  readonly allocator: string | null;
  readonly spec: { snapshot: { possible: boolean; reasons: { code: string }[] } };
}

describe('reactor-pool inspect', () => {
  it('exits 3 on a module the pool would refuse, with the reason in the report', () => {
    const refused: [string, string][] = [
      ['command.wasm', 'ERR_NOT_A_REACTOR'],
      ['env-import.wasm', 'ERR_UNSUPPORTED_IMPORT'],
      ['no-memory.wasm', 'ERR_INVALID_MODULE'],
    ];
    for (const [name, code] of refused) {
      const text = cli('inspect', fixture(name));
      expect({ name, status: text.status, stderr: text.stderr }).toEqual({ name, status: 3, stderr: '' });
      expect(text.stdout).toMatch(new RegExp(`^reactor: no — ${code}: `, 'm'));
      const json = cli('inspect', fixture(name), '--json');
      expect({ name, status: json.status }).toEqual({ name, status: 3 });
      const report = JSON.parse(json.stdout) as JsonReport;
      expect(report).toMatchObject({ runnable: false, problem: { code } });
    }
    expect(cli('inspect', REACTOR).status).toBe(0);
  }, 60_000);

  it('the report names the allocator (or none) and the snapshot verdict, in text and JSON', () => {
    expect(cli('inspect', fixture('buffers.wasm')).stdout).toContain('\nallocator: malloc + free\n');
    expect(cli('inspect', fixture('alloc-dealloc.wasm')).stdout).toContain('\nallocator: alloc + dealloc\n');
    expect(cli('inspect', REACTOR).stdout).toContain('\nallocator: none (calls cannot pass or return strings and bytes)\n');
    const buffers = JSON.parse(cli('inspect', fixture('buffers.wasm'), '--json').stdout) as JsonReport;
    expect(buffers).toMatchObject({ runnable: true, allocator: 'malloc', spec: { snapshot: { possible: true, reasons: [] } } });
    const reactor = JSON.parse(cli('inspect', REACTOR, '--json').stdout) as JsonReport;
    expect(reactor.allocator).toBeNull();
    const blocked = cli('inspect', fixture('snapshot/shared-memory.wasm'), '--json');
    const report = JSON.parse(blocked.stdout) as JsonReport;
    expect(report.spec.snapshot.possible).toBe(false);
    expect(report.spec.snapshot.reasons.map((r) => r.code)).toContain('shared-memory');
  });

  it('errors exit 1 (unreadable, not WebAssembly) or 2 (usage), as JSON with --json', () => {
    const cases: [string[], string, number][] = [
      [['inspect', fixture('not-wasm.wasm')], 'ERR_INVALID_MODULE', 1],
      [['inspect', fixture('missing.wasm')], 'ERR_MODULE_NOT_FOUND', 1],
      [['inspect'], 'ERR_INVALID_OPTION', 2],
      [['inspect', REACTOR, '--bogus'], 'ERR_INVALID_OPTION', 2],
    ];
    for (const [args, code, status] of cases) {
      const text = cli(...args);
      expect({ args, status: text.status, stdout: text.stdout }).toEqual({ args, status, stdout: '' });
      expect(text.stderr).toMatch(new RegExp(`^error \\[${code}\\]: .+\\n$`));
      const json = cli(...args, '--json');
      expect({ args, status: json.status, stderr: json.stderr }).toEqual({ args, status, stderr: '' });
      expect(JSON.parse(json.stdout)).toEqual({ error: { code, message: expect.any(String) as unknown } });
    }
  }, 60_000);
});
