// Conformance: `_initialize` runs once per instance (its output first, captured per session), state
// persists between calls, and sessions are isolated, for every toolchain's reactor.

import { describe, expect, it } from 'vitest';
import { OutputCollector } from '../helpers/fixtures.js';
import { createPool } from '../helpers/pool.js';
import { MODULES } from './modules.js';

describe.each(MODULES)('$name reactor', (module) => {
  it('runs _initialize once per instance, before the first call, with its output captured per session', async () => {
    const out = new OutputCollector();
    const pool = await createPool({ module: module.path, workers: 2, stdout: out.callback });
    const a = pool.session('a');
    const b = pool.session('b');
    expect(await a.call('inits')).toBe(1);
    expect(await a.call('inc', 1)).toBe(21);
    expect(await a.call('inits')).toBe(1);
    expect(out.of('a')).toBe('ready\n');
    expect(out.of('b')).toBe('');
    expect(await b.call('inits')).toBe(1);
    expect(out.of('b')).toBe('ready\n');
    await a.reset();
    expect(await a.call('inits')).toBe(1);
    expect(out.of('a')).toBe('ready\nready\n');
  });

  it('keeps state between calls, and each session its own', async () => {
    const pool = await createPool({ module: module.path, workers: 2 });
    const sessions = Array.from({ length: 6 }, (_, i) => pool.session(`s${i}`));
    const results = await Promise.all(sessions.flatMap((s, i) => [s.call('inc', i), s.call('inc', 1)]));
    expect(results).toEqual(sessions.flatMap((_, i) => [20 + i, 21 + i]));
    expect(await sessions[0]?.call('inc', 21)).toBe(42);
    expect(await sessions[5]?.callMany('inc', [1, 2, 3])).toEqual([27, 29, 32]);
  });
});
