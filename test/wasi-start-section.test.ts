// A module whose wasm start function prints runs before its instance exists: the write gets EFAULT
// (no memory to read yet) instead of the module being refused at create(); everything after works.

import { describe, expect, it } from 'vitest';
import { fixture, OutputCollector } from './helpers/fixtures.js';
import { createPool } from './helpers/pool.js';

const EFAULT = 21;

describe('a start function that prints', () => {
  it('is accepted at create(); its write gets EFAULT and _initialize prints as usual', async () => {
    const output = new OutputCollector();
    const pool = await createPool({ module: fixture('start-prints.wasm'), workers: 1, stdout: output.callback });
    const session = pool.session('a');
    expect(await session.call('inc', 1)).toBe(21);
    expect(await session.call('start_errno')).toBe(EFAULT);
    expect(output.of('a')).toBe('init\n');
  });
});
