// A replay that cannot end where the journal says is detected and reported, never silently wrong: a
// call record's outcome changed on purpose (its frame's checksum made right), or the pool's WASI `env`
// changed between runs for a module whose state read it. The session rejects ERR_SESSION_LOST with
// cause ERR_REPLAY_DIVERGED, `sessionLost` fires once, every other session is exact.

import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { ReactorPool, ReactorPoolOptions, SessionLostEvent } from '../dist/src/index.js';
import { RecordType, writeValue, type CallRecord } from '../dist/src/journal-record.js';
import { seeded } from '../dist/src/seeded-random.js';
import { durableDir } from './helpers/durable-dir.js';
import { encodedValue, lastSegmentFile, recordsIn, rewriteRecord, valueOf } from './helpers/durable-files.js';
import { REACTOR, fixture } from './helpers/fixtures.js';
import { IncModel } from './helpers/inc-model.js';
import { createPool, rejection } from './helpers/pool.js';

const SEED = 20261305;

interface Watched {
  readonly pool: ReactorPool;
  readonly lost: SessionLostEvent[];
}

async function open(options: Omit<ReactorPoolOptions, 'results'>): Promise<Watched> {
  const pool = await createPool(options);
  const lost: SessionLostEvent[] = [];
  pool.on('sessionLost', (event) => lost.push(event));
  return { pool, lost };
}

/** The session is lost for a divergence (its cause quoting `where`), reported once by `sessionLost`, and stays lost. */
async function expectDiverged({ pool, lost }: Watched, key: string, where: string): Promise<void> {
  const error = await rejection(pool.session(key).call(...firstCallOf(key)));
  expect(error.code).toBe('ERR_SESSION_LOST');
  const cause = error.cause as { code?: string; message?: string } | undefined;
  expect(cause?.code).toBe('ERR_REPLAY_DIVERGED');
  expect(cause?.message).toContain(where);
  expect((await rejection(pool.session(key).call(...firstCallOf(key)))).code).toBe('ERR_SESSION_LOST');
  expect(lost.map((event) => [event.key, event.cause.code])).toEqual([[key, 'ERR_REPLAY_DIVERGED']]);
}

/** A harmless call of each test's module, by the key's prefix. */
function firstCallOf(key: string): [string, ...number[]] {
  return key.startsWith('env') ? ['load32', 4096] : ['inc', 0];
}

describe('durability: a replay that diverges', () => {
  it('a call record whose recorded outcome was changed: that session is lost with ERR_REPLAY_DIVERGED, the others exact', async () => {
    const dir = await durableDir();
    const keys = Array.from({ length: 5 }, (_, i) => `tamper-${i}`);
    const target = 'tamper-2';
    const options: ReactorPoolOptions = { module: REACTOR, workers: 2, durability: { dir } };
    const first = await createPool(options);
    const model = new IncModel();
    const random = seeded(SEED);
    for (let round = 0; round < 5; round++) for (const key of keys) void model.send(first.session(key), 1 + Math.floor(random() * 9));
    await model.settle();
    expect(model.mismatches).toEqual([]);
    await first.close();

    // The target's third call: its outcome said to be 1000 more, the record re-framed so no checksum catches it.
    const path = await lastSegmentFile(dir);
    const bytes = new Uint8Array(await readFile(path));
    const found = recordsIn(bytes).find(({ record }) => record.type === RecordType.Call && record.key === target && record.seq === 3);
    expect(found).toBeDefined();
    const record = found?.record as CallRecord;
    const recorded = valueOf(record.outcome) as number;
    const outcome = encodedValue((out) => writeValue(out, recorded + 1000));
    await writeFile(path, rewriteRecord(bytes, found as NonNullable<typeof found>, { ...record, outcome }));

    const second = await open(options);
    // Listed still (the store holds its state); lost once a rebuild is tried.
    expect([...await second.pool.durableSessions()].sort()).toEqual([...keys].sort());
    await expectDiverged(second, target, 'record seq 3');
    expect(second.lost[0]?.cause.message).toContain(String(recorded + 1000));
    for (const key of keys.filter((other) => other !== target)) expect(await second.pool.session(key).call('inc', 0), key).toBe(model.valueOf(key));
    expect(second.lost).toHaveLength(1);
    // reset() is the way on, as for any lost session: a fresh instance.
    await second.pool.session(target).reset();
    expect(await second.pool.session(target).call('inc', 1)).toBe(21);
  });

  it('a call record whose recorded random bytes were changed: the replay reaches another state, that session is lost', async () => {
    const dir = await durableDir();
    const options: ReactorPoolOptions = { module: fixture('nondeterministic.wasm'), workers: 1, durability: { dir } };
    const first = await createPool(options);
    const [target, other] = ['tape-target', 'tape-other'];
    for (const key of [target, other]) for (let i = 0; i < 3; i++) await first.session(key).call('roll');
    const otherState = await first.session(other).call('state');
    await first.close();

    // The target's second roll: one random byte changed on its tape (entry: u8 kind 2, u32 length 4, the bytes).
    const path = await lastSegmentFile(dir);
    const bytes = new Uint8Array(await readFile(path));
    const found = recordsIn(bytes).find(({ record }) => record.type === RecordType.Call && record.key === target && record.seq === 2);
    const record = found?.record as CallRecord;
    expect([record.tape.byteLength, record.tape[0]]).toEqual([9, 2]);
    const tape = record.tape.slice();
    tape[5] = (tape[5] ?? 0) ^ 0x01;
    await writeFile(path, rewriteRecord(bytes, found as NonNullable<typeof found>, { ...record, tape }));

    const second = await open(options);
    const error = await rejection(second.pool.session(target).call('state'));
    expect(error.code).toBe('ERR_SESSION_LOST');
    expect((error.cause as { code?: string; message?: string } | undefined)?.code).toBe('ERR_REPLAY_DIVERGED');
    expect((error.cause as { message?: string } | undefined)?.message).toContain('record seq 2');
    expect(second.lost.map((event) => [event.key, event.cause.code])).toEqual([[target, 'ERR_REPLAY_DIVERGED']]);
    expect(await second.pool.session(other).call('state')).toBe(otherState);
  });

  it('the WASI env changed between runs for a session whose state read it: that session is lost, one that never read it is exact', async () => {
    const dir = await durableDir();
    const module = fixture('wasi-surface.wasm');
    const withEnv = (env: Record<string, string>): ReactorPoolOptions => ({ module, workers: 1, wasi: { env }, durability: { dir } });
    const first = await createPool(withEnv({ REGION: 'north' }));
    const reader = first.session('env-reader');
    // environ_sizes_get writes the count of variables (1) at 4096: the state now holds it.
    expect(await reader.call('call_environ_sizes_get', 4096, 4100)).toBe(0);
    expect(await reader.call('load32', 4096)).toBe(1);
    const bystander = first.session('env-bystander');
    await bystander.call('store32', 4096, 77);
    expect(await bystander.call('load32', 4096)).toBe(77);
    await first.close();

    const second = await open(withEnv({ REGION: 'north', TIER: 'gold' }));
    await expectDiverged(second, 'env-reader', 'record seq 2');
    expect(await second.pool.session('env-bystander').call('load32', 4096)).toBe(77);
    expect(second.lost).toHaveLength(1);
  });
});
