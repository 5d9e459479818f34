// Host functions are checked at create, before any worker runs: the option's type, the module's shape,
// and the plug-in's imports against the declared signatures, each with a coded error showing what was got.

import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReactorPool, defineHostFunctions, hostFunction, inspectModule } from '../dist/src/index.js';
import { fixture } from './helpers/fixtures.js';
import { rejection } from './helpers/pool.js';

const HOST = fixture('host-functions.mjs');

async function hostModule(source: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rp-host-'));
  const path = join(dir, 'host.mjs');
  await writeFile(path, source);
  return path;
}

describe('host functions: checks at create', () => {
  it('ERR_HOST_FUNCTION_MISMATCH names every offending import with both signatures', async () => {
    const error = await rejection(ReactorPool.create({ module: fixture('host-mismatch.wasm'), hostFunctions: HOST }));
    expect(error.code).toBe('ERR_HOST_FUNCTION_MISMATCH');
    expect(error.message).toContain('`env.add` is imported as (i64) -> i32 but declared as (i32, i32) -> i32');
    expect(error.message).toContain('`env.missing` (i32) -> () is imported but not supplied');
    expect(error.message).toContain('`other.thing` () -> () is imported but not supplied (it declares no module `other`)');
    expect(error.message).toContain('`env.table` is a table import');
  });

  it('keeps ERR_UNSUPPORTED_IMPORT without the option, naming it', async () => {
    const error = await rejection(ReactorPool.create({ module: fixture('host-functions.wasm') }));
    expect(error.code).toBe('ERR_UNSUPPORTED_IMPORT');
    expect(error.message).toContain('`env.add`');
    expect(error.message).toContain('`hostFunctions`');
    expect(error.message).not.toContain('modules supplied to the pool');
  });

  it('ERR_INVALID_OPTION for an option that is not a path or a file: URL', async () => {
    for (const bad of [42, '', new URL('https://example.com/host.js')]) {
      const error = await rejection(ReactorPool.create({ module: fixture('host-functions.wasm'), hostFunctions: bad as string }));
      expect(error.code).toBe('ERR_INVALID_OPTION');
      expect(error.message).toContain('hostFunctions');
    }
  });

  it('ERR_INVALID_HOST_FUNCTIONS for a module that cannot be imported, or exports no table, showing what it got', async () => {
    const missing = await rejection(ReactorPool.create({ module: fixture('host-functions.wasm'), hostFunctions: fixture('missing-host.mjs') }));
    expect(missing.code).toBe('ERR_INVALID_HOST_FUNCTIONS');
    expect(missing.message).toContain('missing-host.mjs');
    const cases: [string, string][] = [
      ['export const x = 1;', '`undefined` (undefined)'],
      ['export default { env: { add: { params: [\'i32\'], results: [], call: 3 } } };', '.call to be a function, got `3` (number)'],
      ['export default { env: { add: { params: [\'int\'], results: [], call() {} } } };', 'got `["int"]` (array)'],
      ['export default { env: { add: { params: [], results: [], call() {}, extra: 1 } } };', 'Unknown field `extra`'],
      ['export default { env: 5 };', 'got `5` (number)'],
    ];
    for (const [source, shown] of cases) {
      const error = await rejection(ReactorPool.create({ module: fixture('host-functions.wasm'), hostFunctions: await hostModule(source) }));
      expect(error.code, source).toBe('ERR_INVALID_HOST_FUNCTIONS');
      expect(error.message, source).toContain(shown);
    }
  });

  it('defineHostFunctions checks the shape at once and returns the table', () => {
    const table = defineHostFunctions({ env: { add: hostFunction({ params: ['i32', 'i32'], results: ['i32'], call: (_ctx, a, b) => a + b }) } });
    expect(table.env.add.params).toEqual(['i32', 'i32']);
    let error: unknown;
    try {
      defineHostFunctions({ env: { add: { params: ['i32'], results: ['v128'], call: () => 0 } } } as never);
    } catch (thrown) {
      error = thrown;
    }
    expect((error as { code?: string }).code).toBe('ERR_INVALID_HOST_FUNCTIONS');
  });

  it('inspect still reports the imports', async () => {
    const report = await inspectModule(fixture('host-functions.wasm'));
    expect(report.runnable).toBe(false);
    expect(report.problem?.code).toBe('ERR_UNSUPPORTED_IMPORT');
    expect(report.spec.imports.map((i) => `${i.module}.${i.name}`)).toContain('env.greet');
  });
});
