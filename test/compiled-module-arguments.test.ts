// A compiled module carries no signatures, so argument types reach the worker unchecked: the engine's
// refusal to convert one (a bigint for an i32, a number for an i64) is ERR_INVALID_ARGUMENT, nothing
// ran, and the session is not lost, whatever `onTrap` says. A real trap is still a trap.

import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../dist/src/index.js';
import { KITCHEN } from './helpers/fixtures.js';
import { createPool, rejection } from './helpers/pool.js';

const compiled = async (): Promise<WebAssembly.Module> => WebAssembly.compile(await readFile(KITCHEN));

describe('a compiled module given a value of the wrong type', () => {
  for (const onTrap of ['keep', 'lose', 'reset'] as const) {
    it(`refuses a bigint for an i32 and a number for an i64 with ERR_INVALID_ARGUMENT (onTrap: '${onTrap}')`, async () => {
      const pool = await createPool({ module: await compiled(), workers: 1, onTrap });
      const lost: string[] = [];
      pool.on('sessionLost', ({ key }) => lost.push(key));
      const session = pool.session('typed');
      const bigForI32 = await rejection(session.call('inc', 1n));
      expect(bigForI32).toBeInstanceOf(InvalidArgumentError);
      expect(bigForI32.message).toMatch(/`inc`: an argument does not fit its parameter type .*nothing ran/);
      expect(bigForI32['exportName']).toBe('inc');
      const numberForI64 = await rejection(session.call('add64', 1));
      expect(numberForI64.code).toBe('ERR_INVALID_ARGUMENT');
      expect(session.lost).toBe(false);
      expect(await session.call('inc', 1)).toBe(21);
      expect(await session.call('add64', 5n)).toBe(5n);
      // In a list: the calls before the bad one ran, the bad one did not.
      const many = await rejection(session.callMany('add64', [1n, 2, 4n]));
      expect(many.code).toBe('ERR_INVALID_ARGUMENT');
      expect(many['completed']).toBe(1);
      expect(await session.call('add64', 0n)).toBe(6n);
      expect(lost).toEqual([]);
    });
  }

  it('still treats a trap as a trap (onTrap: lose loses the session)', async () => {
    const pool = await createPool({ module: await compiled(), workers: 1, onTrap: 'lose' });
    const session = pool.session('trap');
    expect((await rejection(session.call('boom'))).code).toBe('ERR_REACTOR_TRAP');
    expect(session.lost).toBe(true);
  });
});
