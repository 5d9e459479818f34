// Idempotency keys under durability: a key already acknowledged answers its recorded outcome (a value or
// an error) without running again; a new key runs; each session remembers its last `idempotencyKeys`
// keys, the oldest forgotten first, across restarts too. Without durability the option is refused.

import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../dist/src/index.js';
import { durableDir } from './helpers/durable-dir.js';
import { KITCHEN, REACTOR } from './helpers/fixtures.js';
import { createPool, rejection, type Rejection } from './helpers/pool.js';
import { asNumber } from './helpers/results.js';

/** The error `make` throws at once or rejects with. */
async function failure(make: () => Promise<unknown>): Promise<Rejection> {
  let settled: Promise<unknown>;
  try {
    settled = make();
  } catch (error) {
    return error as Rejection;
  }
  return rejection(settled);
}

describe('durability: idempotency keys', () => {
  it('the same key twice answers the recorded result and applies once; a different key applies', async () => {
    const dir = await durableDir();
    const pool = await createPool({ module: REACTOR, workers: 1, durability: { dir } });
    const session = pool.session('idem');
    expect(await session.with({ idempotencyKey: 'k1' }).call('inc', 5)).toBe(25);
    expect(await session.with({ idempotencyKey: 'k1' }).call('inc', 5)).toBe(25);
    expect(await session.call('inc', 0)).toBe(25);
    expect(await session.with({ idempotencyKey: 'k2' }).call('inc', 5)).toBe(30);
    // Still the recorded answer after other calls ran: not the current value.
    expect(await session.with({ idempotencyKey: 'k1' }).call('inc', 5)).toBe(25);
    expect(await session.call('inc', 0)).toBe(30);
    // Keys are per session: another session's k1 is its own.
    expect(await pool.session('other').with({ idempotencyKey: 'k1' }).call('inc', 1)).toBe(21);
  });

  it('two calls with one key in flight at once apply once and both answer the recorded result', async () => {
    const dir = await durableDir();
    const pool = await createPool({ module: REACTOR, workers: 1, durability: { dir } });
    const session = pool.session('twice');
    const keyed = session.with({ idempotencyKey: 'same' });
    expect(await Promise.all([keyed.call('inc', 7), keyed.call('inc', 7)])).toEqual([27, 27]);
    expect(await session.call('inc', 0)).toBe(27);
  });

  it('remembers the last idempotencyKeys keys per session: the oldest is forgotten and applies again', async () => {
    const dir = await durableDir();
    const pool = await createPool({ module: REACTOR, workers: 1, durability: { dir, idempotencyKeys: 2 } });
    const session = pool.session('retention');
    const keyed = (key: string, n: number): Promise<number> => session.with({ idempotencyKey: key }).call('inc', n).then(asNumber);
    expect(await keyed('a', 1)).toBe(21);
    expect(await keyed('b', 2)).toBe(23);
    expect(await keyed('c', 3)).toBe(26);
    // b and c are remembered...
    expect(await keyed('c', 3)).toBe(26);
    expect(await keyed('b', 2)).toBe(23);
    expect(await session.call('inc', 0)).toBe(26);
    // ...a is not: it runs again (and is remembered again, b is now the oldest).
    expect(await keyed('a', 1)).toBe(27);
    expect(await keyed('a', 1)).toBe(27);
    expect(await keyed('b', 2)).toBe(29);
  });

  it('keys survive a restart', async () => {
    const dir = await durableDir();
    const first = await createPool({ module: REACTOR, workers: 1, durability: { dir } });
    expect(await first.session('kept').with({ idempotencyKey: 'k' }).call('inc', 4)).toBe(24);
    await first.close();
    const second = await createPool({ module: REACTOR, workers: 1, durability: { dir } });
    expect(await second.session('kept').with({ idempotencyKey: 'k' }).call('inc', 4)).toBe(24);
    expect(await second.session('kept').call('inc', 0)).toBe(24);
  });

  it('records a failed call\'s outcome too: a trap kept under onTrap \'keep\' answers the same error, without running again', async () => {
    const dir = await durableDir();
    const pool = await createPool({ module: KITCHEN, workers: 1, onTrap: 'keep', durability: { dir } });
    const session = pool.session('trapper');
    expect(await session.call('inc', 0)).toBe(20);
    const first = await rejection(session.with({ idempotencyKey: 'boom' }).call('boom'));
    expect(first.code).toBe('ERR_REACTOR_TRAP');
    // boom adds 1000 before it traps; under 'keep' that write stays.
    expect(await session.call('inc', 0)).toBe(1020);
    const again = await rejection(session.with({ idempotencyKey: 'boom' }).call('boom'));
    expect(again.code).toBe('ERR_REACTOR_TRAP');
    expect(await session.call('inc', 0)).toBe(1020);
  });

  it('is refused without durability (ERR_INVALID_OPTION), and must be a string', async () => {
    const plain = await createPool({ module: REACTOR, workers: 1 });
    const error = await failure(() => plain.session('s').with({ idempotencyKey: 'k1' }).call('inc', 1));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.code).toBe('ERR_INVALID_OPTION');
    expect(error.message).toContain('idempotencyKey');
    expect(await plain.session('s').call('inc', 0)).toBe(20);

    const dir = await durableDir();
    const durable = await createPool({ module: REACTOR, workers: 1, durability: { dir } });
    const bad = await failure(() => durable.session('s').with({ idempotencyKey: 42 as unknown as string }).call('inc', 1));
    expect(bad.code).toBe('ERR_INVALID_OPTION');
    expect(bad.message).toContain('`42` (number)');
    expect(await durable.session('s').call('inc', 0)).toBe(20);
  });
});
