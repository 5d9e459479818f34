import { describe, expect, it } from 'vitest';
import { InvalidOptionError, ReactorPool, ReactorPoolError } from '../dist/src/index.js';
import { REACTOR } from './helpers/fixtures.js';
import { createPool, rejection } from './helpers/pool.js';

describe('ERR_INVALID_OPTION', () => {
  const cases: [string, unknown, RegExp][] = [
    ['workers 0', { module: REACTOR, workers: 0 }, /`workers` to be an integer from 1 to 256, got `0` \(number\)/],
    ['workers 1.5', { module: REACTOR, workers: 1.5 }, /got `1.5` \(number\)/],
    ['workers string', { module: REACTOR, workers: '2' }, /got `"2"` \(string\)/],
    ['isolation', { module: REACTOR, isolation: 'process' }, /`isolation` to be 'session' or 'worker', got `"process"`/],
    ['stdout', { module: REACTOR, stdout: 1 }, /`stdout` to be 'inherit', 'ignore' or a function/],
    ['unknown option', { module: REACTOR, worker: 2 }, /Unknown option `worker`/],
    ['missing module', {}, /`module` to be given/],
    ['module number', { module: 42 }, /`module` to be a file path.*got `42` \(number\)/],
    ['module http URL', { module: new URL('https://example.invalid/x.wasm') }, /got `"https:\/\/example.invalid\/x.wasm"`/],
    ['wasi.env', { module: REACTOR, wasi: { env: { A: 1 } } }, /`wasi.env` to be an object of strings/],
    ['options null', null, /options to be an object, got `null` \(null\)/],
    ['resourceLimits value', { module: REACTOR, resourceLimits: { maxOldGenerationSizeMb: 0 } }, /`resourceLimits.maxOldGenerationSizeMb` to be a positive number of MB, got `0`/],
    ['resourceLimits key', { module: REACTOR, resourceLimits: { heapMb: 8 } }, /Unknown option `resourceLimits.heapMb`/],
    ['onTrap', { module: REACTOR, onTrap: 'ignore' }, /`onTrap` to be 'keep' or 'lose' or 'reset', got `"ignore"`/],
  ];
  for (const [name, options, message] of cases) {
    it(`refuses ${name}`, async () => {
      const error = await rejection(ReactorPool.create(options as never));
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error).toBeInstanceOf(ReactorPoolError);
      expect(error.code).toBe('ERR_INVALID_OPTION');
      expect(error.message).toMatch(message);
    });
  }

  it('never mutates the options object', async () => {
    const options = Object.freeze({ module: REACTOR, workers: 1, wasi: Object.freeze({ args: Object.freeze(['x']) }) });
    const pool = await createPool(options);
    expect(await pool.session('k').call('inc', 1)).toBe(21);
    expect(options).toEqual({ module: REACTOR, workers: 1, wasi: { args: ['x'] } });
  });
});
