// REACTOR_POOL_FRESH_FIXTURES: a rebuilt fixture left there (by a toolchain whose bytes are not
// compared) is what fixture() hands the tests; any other fixture is still the committed one.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { useTempDirectory } from './helpers/temp-directory.js';

async function fixtureWith(fresh: string): Promise<(name: string) => string> {
  vi.stubEnv('REACTOR_POOL_FRESH_FIXTURES', fresh);
  vi.resetModules();
  return (await import('./helpers/fixtures.js')).fixture;
}

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

describe('REACTOR_POOL_FRESH_FIXTURES', () => {
  const temp = useTempDirectory('fresh-fixtures');

  it('takes a fresh build where there is one, the committed file otherwise', async () => {
    const fresh = temp();
    mkdirSync(join(fresh, 'conformance'));
    writeFileSync(join(fresh, 'conformance', 'c.wasm'), 'fresh');
    const fixture = await fixtureWith(fresh);
    expect(fixture('conformance/c.wasm')).toBe(join(fresh, 'conformance', 'c.wasm'));
    expect(fixture('conformance/go.wasm')).toMatch(/test[/\\]fixtures[/\\]conformance[/\\]go\.wasm$/);
  });

  it('unset or empty, is the committed file', async () => {
    const fixture = await fixtureWith('');
    expect(fixture('kitchen.wasm')).toMatch(/test[/\\]fixtures[/\\]kitchen\.wasm$/);
  });
});
