// Durability and runaway calls: the call that times out rejects with ERR_CALL_TIMEOUT and is not
// acknowledged; its session and every other session on the terminated worker are rebuilt to their last
// acknowledged call. None is lost; every value stays exact.

import { describe, expect, it } from 'vitest';
import type { SessionLostEvent } from '../dist/src/index.js';
import { seeded } from '../dist/src/seeded-random.js';
import { durableDir } from './helpers/durable-dir.js';
import { KITCHEN } from './helpers/fixtures.js';
import { IncModel } from './helpers/inc-model.js';
import { createPool, keysOn, rejection } from './helpers/pool.js';

const SEED = 20261208;

describe('durability: a runaway call', () => {
  it('rejects ERR_CALL_TIMEOUT; its session continues from before it, the others on its worker keep exact values, none is lost', async () => {
    const dir = await durableDir();
    const pool = await createPool({ module: KITCHEN, workers: 2, callTimeout: 250, durability: { dir } });
    const lost: SessionLostEvent[] = [];
    pool.on('sessionLost', (event) => lost.push(event));
    const random = seeded(SEED);
    const small = (): number => 1 + Math.floor(random() * 9);
    const [runaway, ...neighbours] = keysOn(pool, 0, 9, 'w0-') as [string, ...string[]];
    const [other] = keysOn(pool, 1, 1, 'w1-') as [string];
    const model = new IncModel();
    // Acknowledged history on every session, some of it idle when the runaway call comes.
    for (const key of [runaway, ...neighbours, other]) for (let i = 0; i < 3; i++) void model.send(pool.session(key), small());
    await model.settle();
    expect(model.mismatches).toEqual([]);
    const resolvedBefore = model.resolved;

    // One batch on worker 0: the runaway call, a call behind it on its own session, calls of half the neighbours.
    const spinning = pool.session(runaway).call('spin');
    void model.send(pool.session(runaway), small());
    for (const key of neighbours.slice(0, 4)) void model.send(pool.session(key), small());
    const error = await rejection(spinning);
    expect(error).toMatchObject({ code: 'ERR_CALL_TIMEOUT', sessionKey: runaway, limit: 250 });

    await model.verify(pool);
    console.log(`runaway call: in-flight calls resolved ${model.resolved - resolvedBefore}, rejected: ${model.describeRejections()}`);
    expect(model.mismatches).toEqual([]);
    // Not lost: no call of any session meets ERR_SESSION_LOST, no event, nothing counted.
    expect(model.rejections.has('ERR_SESSION_LOST')).toBe(false);
    expect(lost).toEqual([]);
    expect(pool.stats().lostSessions).toBe(0);
    expect(pool.session(runaway).lost).toBe(false);
    // The runaway call itself never applied (the model's inc(0) read above): the session continues from its acknowledged calls.
    expect(await pool.session(runaway).call('inc', 1)).toBe(model.valueOf(runaway) + 1);
    // And it can time out again, as often as it likes: still nothing lost.
    expect((await rejection(pool.session(runaway).with({ timeout: 50 }).call('spin'))).code).toBe('ERR_CALL_TIMEOUT');
    expect(await pool.session(runaway).call('inc', 0)).toBe(model.valueOf(runaway) + 1);
    expect(lost).toEqual([]);
  });
});
