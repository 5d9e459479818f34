// REACTOR_POOL_TEST_DEPTH: unset is full depth, `quick` scales case counts down (never to zero,
// never up), and a misspelt value stops the run instead of silently testing at full or no depth.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseTestDepth } from './helpers/depth.js';

async function depthWith(value: string): Promise<typeof import('./helpers/depth.js')> {
  vi.stubEnv('REACTOR_POOL_TEST_DEPTH', value);
  vi.resetModules();
  return import('./helpers/depth.js');
}

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

describe('REACTOR_POOL_TEST_DEPTH', () => {
  it('is full when unset or empty, and reads full and quick', () => {
    expect(parseTestDepth(undefined)).toBe('full');
    expect(parseTestDepth('')).toBe('full');
    expect(parseTestDepth('full')).toBe('full');
    expect(parseTestDepth('quick')).toBe('quick');
  });

  it('refuses any other value, showing it', () => {
    expect(() => parseTestDepth('Quick')).toThrow('got `Quick` (string)');
    expect(() => parseTestDepth('1')).toThrow(RangeError);
  });

  it('full depth keeps every case', async () => {
    const { depth, TEST_DEPTH } = await depthWith('full');
    expect(TEST_DEPTH).toBe('full');
    expect([depth(500), depth(24, 8), depth(1)]).toEqual([500, 24, 1]);
  });

  it('quick depth takes a fifth by default, the given count otherwise, at least one and never more than full', async () => {
    const { depth, TEST_DEPTH } = await depthWith('quick');
    expect(TEST_DEPTH).toBe('quick');
    expect([depth(500), depth(24, 8), depth(3), depth(1), depth(4, 10)]).toEqual([100, 8, 1, 1, 4]);
  });

  it('refuses a count that is not a positive integer', async () => {
    const { depth } = await depthWith('quick');
    expect(() => depth(0)).toThrow('got `0` (number)');
    expect(() => depth(10, 2.5)).toThrow('`quick` must be a positive integer, got `2.5` (number)');
  });
});
