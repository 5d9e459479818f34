// Snapshots cross processes and Node.js majors: a child process (another Node.js major when
// REACTOR_POOL_OTHER_NODE names its binary, as CI does for each line) takes snapshots this process
// restores, and restores the ones this process takes; every state continues exactly, Go's included.

import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { MODULES } from './conformance/modules.js';
import { PACKAGE, reportOf, runHost } from './helpers/child-host.js';
import { REACTOR } from './helpers/fixtures.js';
import { createPool } from './helpers/pool.js';

const OTHER_NODE = process.env['REACTOR_POOL_OTHER_NODE'] ?? process.execPath;
const otherVersion = execFileSync(OTHER_NODE, ['--version'], { encoding: 'utf8' }).trim();
const CASES = [{ name: 'reference', path: REACTOR }, ...MODULES.map((m) => ({ name: m.name, path: m.path }))];

/** A child program: restores `input` (base64, if any) into a session, calls inc(n), snapshots it; reports both. */
function childProgram(module: string, input: string | undefined, n: number): string {
  return `
    import { ReactorPool } from ${JSON.stringify(PACKAGE)};
    const pool = await ReactorPool.create({ module: ${JSON.stringify(module)}, workers: 1, stdout: 'ignore', stderr: 'ignore' });
    const s = pool.session('child');
    const input = ${JSON.stringify(input ?? null)};
    if (input !== null) await s.restore(Buffer.from(input, 'base64'));
    const value = await s.call('inc', ${n});
    const bytes = await s.snapshot();
    await pool.close();
    console.log(JSON.stringify({ value, snapshot: Buffer.from(bytes).toString('base64'), node: process.version }));
  `;
}

describe(`snapshots between Node.js ${process.version} (here) and ${otherVersion} (a child process)`, () => {
  it.each(CASES)('$name: there and back again', async ({ path }) => {
    const first = await runHost(childProgram(path, undefined, 1), { node: OTHER_NODE });
    expect(first.exitCode, first.stderr).toBe(0);
    const report = reportOf(first) as { value: number; snapshot: string; node: string };
    expect(report).toMatchObject({ value: 21, node: otherVersion });
    const pool = await createPool({ module: path, workers: 2 });
    const session = pool.session('parent');
    await session.restore(Buffer.from(report.snapshot, 'base64'));
    expect(await session.call('inc', 10)).toBe(31);
    const back = Buffer.from(await session.snapshot()).toString('base64');
    const second = await runHost(childProgram(path, back, 100), { node: OTHER_NODE });
    expect(second.exitCode, second.stderr).toBe(0);
    expect(reportOf(second)).toMatchObject({ value: 131 });
  });
});
