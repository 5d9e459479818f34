// The `durability` option is validated at create like every other: a wrong value is refused with
// ERR_INVALID_OPTION and a message that shows what was received; nothing is created on disk.

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, ReactorPool } from '../dist/src/index.js';
import { durableDir } from './helpers/durable-dir.js';
import { REACTOR } from './helpers/fixtures.js';
import { rejection } from './helpers/pool.js';

/** Each case: a name, the `durability` value (a directory is filled in for `DIR`), and what the message must show. */
const DIR = Symbol('a fresh directory');
type Given = Record<string, unknown>;
const CASES: [string, unknown, RegExp][] = [
  ['not an object', 'yes', /`durability`.*got `"yes"` \(string\)/],
  ['null', null, /`durability`.*got `null` \(null\)/],
  ['neither dir nor store', {}, /`durability`.*`dir` and `store`/],
  ['both dir and store', { dir: DIR, store: { } }, /`dir`.*`store`|`store`.*`dir`/],
  ['dir a number', { dir: 42 }, /`durability.dir`.*got `42` \(number\)/],
  ['dir empty', { dir: '' }, /`durability.dir`.*got `""` \(string\)/],
  ['store not a store', { store: 7 }, /`durability.store`.*got `7` \(number\)/],
  ['unknown key', { dir: DIR, fsync: false }, /Unknown option `durability.fsync`/],
  ['snapshotEvery not an object', { dir: DIR, snapshotEvery: 10 }, /`durability.snapshotEvery`.*got `10` \(number\)/],
  ['snapshotEvery.calls -5', { dir: DIR, snapshotEvery: { calls: -5 } }, /`durability.snapshotEvery.calls`.*got `-5` \(number\)/],
  ['snapshotEvery.calls 1.5', { dir: DIR, snapshotEvery: { calls: 1.5 } }, /`durability.snapshotEvery.calls`.*got `1.5` \(number\)/],
  ['snapshotEvery.bytes -1', { dir: DIR, snapshotEvery: { bytes: -1 } }, /`durability.snapshotEvery.bytes`.*got `-1` \(number\)/],
  ['snapshotEvery.ms a string', { dir: DIR, snapshotEvery: { ms: '60s' } }, /`durability.snapshotEvery.ms`.*got `"60s"` \(string\)/],
  ['snapshotEvery.ms NaN', { dir: DIR, snapshotEvery: { ms: Number.NaN } }, /`durability.snapshotEvery.ms`.*got `NaN` \(number\)/],
  ['snapshotEvery unknown key', { dir: DIR, snapshotEvery: { seconds: 5 } }, /Unknown option `durability.snapshotEvery.seconds`/],
  ['recover', { dir: DIR, recover: 'sometimes' }, /`durability.recover` to be 'lazy' or 'eager', got `"sometimes"` \(string\)/],
  ['idempotencyKeys -1', { dir: DIR, idempotencyKeys: -1 }, /`durability.idempotencyKeys`.*got `-1` \(number\)/],
  ['idempotencyKeys 2.5', { dir: DIR, idempotencyKeys: 2.5 }, /`durability.idempotencyKeys`.*got `2.5` \(number\)/],
  ['idempotencyKeys a string', { dir: DIR, idempotencyKeys: '1000' }, /`durability.idempotencyKeys`.*got `"1000"` \(string\)/],
];

describe('durability options', () => {
  for (const [name, durability, message] of CASES) {
    it(`refuses ${name} with ERR_INVALID_OPTION`, async () => {
      const dir = await durableDir();
      const given = typeof durability === 'object' && durability !== null
        ? Object.fromEntries(Object.entries(durability as Given).map(([key, value]) => [key, value === DIR ? join(dir, 'store') : value]))
        : durability;
      const error = await rejection(ReactorPool.create({ module: REACTOR, workers: 1, durability: given } as never));
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error.code).toBe('ERR_INVALID_OPTION');
      expect(error.message).toMatch(message);
      // Refused before anything was created.
      expect(await readdir(dir)).toEqual([]);
    });
  }
});
