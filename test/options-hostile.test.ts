// Options objects an attacker (or a careless caller) could pass: getters and Proxies that throw,
// values that change between reads. Each is refused with ERR_INVALID_OPTION, never a bare error.
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, ReactorPool } from '../dist/src/index.js';
import { REACTOR } from './helpers/fixtures.js';
import { createPool, rejection } from './helpers/pool.js';

const throwing = (): never => {
  throw new Error('boom');
};

describe('hostile options objects', () => {
  const cases: [string, () => unknown][] = [
    ['a throwing getter', () => ({ module: REACTOR, get workers(): number { return throwing(); } })],
    ['a Proxy whose traps throw', () => new Proxy({ module: REACTOR }, { ownKeys: throwing })],
    ['a throwing getter in wasi', () => ({ module: REACTOR, wasi: { get env(): never { return throwing(); } } })],
    ['a throwing getter in wasi.env', () => ({ module: REACTOR, wasi: { env: { get A(): never { return throwing(); } } } })],
    ['a Proxy as wasi.args', () => ({ module: REACTOR, wasi: { args: new Proxy(['x'], { get: throwing }) } })],
    ['a throwing getter in resourceLimits', () => ({ module: REACTOR, resourceLimits: { get stackSizeMb(): never { return throwing(); } } })],
    ['a throwing getter in results', () => ({ module: REACTOR, results: { get inc(): never { return throwing(); } } })],
  ];
  for (const [name, options] of cases) {
    it(`create() refuses ${name} with ERR_INVALID_OPTION`, async () => {
      const error = await rejection(ReactorPool.create(options() as never));
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error.message).toMatch(/Could not read `[^`]+`: boom|Expected `wasi.args`/);
    });
  }

  it('reads each option once: a getter cannot pass the check with one value and be used with another', async () => {
    let reads = 0;
    // Straight to create(): a helper that spreads the options would read the getter itself.
    const pool = await ReactorPool.create({
      module: REACTOR,
      stderr: 'ignore',
      get workers(): number {
        reads++;
        return reads === 1 ? 1 : 0;
      },
    });
    try {
      expect(reads).toBe(1);
      expect(pool.workers).toBe(1);
    } finally {
      await pool.destroy();
    }
  });

  it('session.with() refuses throwing call options with ERR_INVALID_OPTION', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1 });
    const session = pool.session('k');
    expect(() => session.with({ get timeout(): number { return throwing(); } })).toThrow(InvalidOptionError);
    expect(() => session.with(new Proxy({}, { ownKeys: throwing }))).toThrow(/Could not read `call options`: boom/);
    expect(await session.call('inc', 1)).toBe(21);
  });
});
