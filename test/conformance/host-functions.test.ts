// Conformance: a plug-in built by each toolchain imports functions from its host (the `hostFunctions`
// option), passes them numbers and memory, and gets back bytes the host placed with its own allocator;
// under durability, a rebuilt instance is where it was without asking the host again.

import { describe, expect, it } from 'vitest';
import { durableDir } from '../helpers/durable-dir.js';
import { fixture } from '../helpers/fixtures.js';
import { createPool, terminateWorker } from '../helpers/pool.js';
import { MODULES } from './modules.js';

const HOST = fixture('conformance/host/host.mjs');

describe.each(MODULES)('$name host-function plug-in', (module) => {
  it('calls host functions with numbers and through guest memory', async () => {
    const pool = await createPool({ module: module.hostPlugin, workers: 1, hostFunctions: HOST });
    expect(pool.allocator).toBe(module.allocator);
    const session = pool.session('ada');
    expect(await session.call('sum3', 1, 2, 3)).toBe(6);
    expect(await session.call('sum3', 0x7fffffff, 1, 0)).toBe(-0x80000000);
    const describe = session.with({ result: 'string' });
    expect(await describe.call('describe', 'colour')).toBe('colour for ada');
    expect(await describe.call('describe', 'Zoë 🌍')).toBe('Zoë 🌍 for ada');
    expect(await pool.session('bob').with({ result: 'string' }).call('describe', 'x')).toBe('x for bob');
    expect(await session.call('count')).toBe(6);
  });

  it('is rebuilt after a crash from its journal, the host calls fed back', async () => {
    const pool = await createPool({ module: module.hostPlugin, workers: 1, hostFunctions: HOST, durability: { dir: await durableDir() } });
    const lost: string[] = [];
    pool.on('sessionLost', (event) => lost.push(event.key));
    const session = pool.session('ada');
    expect(await session.call('sum3', 1, 2, 3)).toBe(6);
    expect(await session.with({ result: 'string' }).call('describe', 'colour')).toBe('colour for ada');
    await terminateWorker(pool, 0);
    expect(await session.call('count')).toBe(3);
    expect(await session.with({ result: 'string' }).call('describe', 'shape')).toBe('shape for ada');
    expect(lost).toEqual([]);
  });
});
