// A host function that throws (or returns what its results cannot hold) rejects the guest's call with
// ERR_HOST_FUNCTION_FAILED carrying the host error's message; the instance then follows onTrap, as
// after a trap; other sessions never notice.

import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SessionLostEvent } from '../dist/src/index.js';
import { fixture } from './helpers/fixtures.js';
import { createPool, rejection } from './helpers/pool.js';

const MODULE = fixture('host-functions.wasm');
const HOST = fixture('host-functions.mjs');

describe('host functions: failures', () => {
  it("rejects with ERR_HOST_FUNCTION_FAILED and the host's message; onTrap 'keep' keeps the instance and its writes", async () => {
    const pool = await createPool({ module: MODULE, workers: 1, hostFunctions: HOST });
    const session = pool.session('a');
    const error = await rejection(session.call('fail'));
    expect(error.code).toBe('ERR_HOST_FUNCTION_FAILED');
    expect(error.message).toContain('host function `env.fail` threw: the lookup service is down');
    expect(error.message).toContain('export `fail`');
    expect(error.sessionKey).toBe('a');
    expect(error.exportName).toBe('fail');
    // The guest's write before the host call persists, as before a trap.
    expect(await session.call('state')).toBe(1);
  });

  for (const onTrap of ['lose', 'reset'] as const) {
    it(`onTrap '${onTrap}': the session's instance is discarded; other sessions never notice`, async () => {
      const pool = await createPool({ module: MODULE, workers: 1, onTrap, hostFunctions: HOST });
      const lost: SessionLostEvent[] = [];
      pool.on('sessionLost', (event) => lost.push(event));
      const other = pool.session('other');
      expect(await other.call('fill', 3)).toBeGreaterThan(0);
      const otherState = await other.call('state');
      const error = await rejection(pool.session('a').call('fail'));
      expect(error.code).toBe('ERR_HOST_FUNCTION_FAILED');
      expect(error.message).toContain(`onTrap: '${onTrap}'`);
      expect(lost.map((event) => event.key)).toEqual(['a']);
      if (onTrap === 'lose') expect((await rejection(pool.session('a').call('state'))).code).toBe('ERR_SESSION_LOST');
      else expect(await pool.session('a').call('state')).toBe(0);
      expect(await other.call('state')).toBe(otherState);
    });
  }

  it('refuses a result of the wrong type and a promise (host functions are synchronous)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rp-host-'));
    const host = join(dir, 'host.mjs');
    await writeFile(host, `let mode = 0;
export default { env: {
  add: { params: ['i32', 'i32'], results: ['i32'], call: (_ctx, a) => { mode = a; return mode === 1 ? 'three' : mode === 2 ? Promise.resolve(3) : 3; } },
  noise: { params: [], results: ['i32'], call: () => 0 },
  greet: { params: ['i32', 'i32'], results: ['i64'], call: () => 5 },
  fill: { params: ['i32', 'i32'], results: ['i32'], call: () => 0 },
  fail: { params: [], results: [], call() { throw 'a string'; } },
  key_len: { params: [], results: ['i32'], call: () => 0 },
} };`);
    const pool = await createPool({ module: MODULE, workers: 1, hostFunctions: host });
    const session = pool.session('a');
    const wrong = await rejection(session.call('add', 1, 0));
    expect(wrong.code).toBe('ERR_HOST_FUNCTION_FAILED');
    expect(wrong.message).toContain('returned `"three"` (string), expected a number (i32)');
    const promised = await rejection(session.call('add', 2, 0));
    expect(promised.message).toContain('returned a promise: host functions are synchronous');
    const i64 = await rejection(session.call('greet', 0, 0));
    expect(i64.message).toContain('returned `5` (number), expected a bigint (i64)');
    const thrownString = await rejection(session.call('fail'));
    expect(thrownString.message).toContain('threw: `"a string"` (string)');
    expect(await session.call('add', 3, 0)).toBe(3);
  });
});
