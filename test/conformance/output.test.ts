// Conformance: what a reactor writes to stdout and stderr during a call reaches the pool's stdout
// and stderr targets, told the session key, before that call settles, for every toolchain.

import { describe, expect, it } from 'vitest';
import { OutputCollector } from '../helpers/fixtures.js';
import { createPool } from '../helpers/pool.js';
import { MODULES } from './modules.js';

describe.each(MODULES)('$name reactor', (module) => {
  it('captures stdout and stderr per session', async () => {
    const out = new OutputCollector();
    const err = new OutputCollector();
    const pool = await createPool({ module: module.path, workers: 2, stdout: out.callback, stderr: err.callback });
    await Promise.all([pool.session('x').call('say', 1), pool.session('y').call('say', 22)]);
    await pool.session('x').call('say', -3);
    expect(out.of('x')).toBe('ready\nout 1\nout -3\n');
    expect(err.of('x')).toBe('err 1\nerr -3\n');
    expect(out.of('y')).toBe('ready\nout 22\n');
    expect(err.of('y')).toBe('err 22\n');
  });
});
