// Where hibernated sessions go: a directory (one file per session, gone once stale), any object with
// get/set/delete (called one at a time per key), and what a failing store costs: a failed set keeps
// the session awake, a failed get loses it (ERR_SESSION_LOST, cause ERR_SNAPSHOT_STORE) until reset().
// Hibernation options are checked at create.

import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReactorPool, type ReactorPoolOptions, type Session, type SessionLostEvent } from '../dist/src/index.js';
import { CountingStore, hold } from './helpers/counting-store.js';
import { REACTOR, fixture } from './helpers/fixtures.js';
import { eventually, nextEvent, until } from './helpers/pool-events.js';
import { createPool, rejection } from './helpers/pool.js';

describe('a directory store', () => {
  let directory = '';
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'reactor-pool-store-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('holds one file per hibernated session, named by its key, gone once it wakes or is closed', async () => {
    const store = join(directory, 'snapshots');
    const pool = await createPool({ module: REACTOR, workers: 1, maxActiveSessions: 1, store });
    const [a, b, c] = ['a', 'b', 'c'].map((key) => pool.session(key)) as [Session, Session, Session];
    const fileOf = (key: string): string => `${createHash('sha256').update(key).digest('hex')}.snapshot`;
    const files = async (): Promise<string[]> => (await readdir(store)).sort();

    expect(await a.call('inc', 1)).toBe(21);
    let hibernated = nextEvent(pool, 'sessionHibernated');
    expect(await b.call('inc', 2)).toBe(22);
    const eventA = await hibernated;
    expect(eventA.key).toBe('a');
    expect(await files()).toEqual([fileOf('a')]);
    expect((await stat(join(store, fileOf('a')))).size).toBe(eventA.bytes);

    hibernated = nextEvent(pool, 'sessionHibernated');
    expect(await c.call('inc', 3)).toBe(23);
    const eventB = await hibernated;
    expect(eventB.key).toBe('b');
    expect(await files()).toEqual([fileOf('a'), fileOf('b')].sort());
    expect(pool.stats()).toMatchObject({ hibernatedSessions: 2, hibernatedBytes: eventA.bytes + eventB.bytes });

    // a wakes (its file goes once the wake is done: the call does not wait for the delete), c hibernates.
    hibernated = nextEvent(pool, 'sessionHibernated');
    expect(await a.call('inc', 10)).toBe(31);
    expect((await hibernated).key).toBe('c');
    const expected = [fileOf('b'), fileOf('c')].sort();
    await eventually(async () => JSON.stringify(await files()) === JSON.stringify(expected), 'the files of b and c only');

    // Closing a hibernated session deletes its file before it resolves.
    await b.close();
    expect(await files()).toEqual([fileOf('c')]);
    expect(pool.stats()).toMatchObject({ sessions: 2, hibernatedSessions: 1 });
    expect(await c.call('inc', 0)).toBe(23);
    expect(await pool.session('b').call('inc', 0)).toBe(20);
    await pool.close(); // before the directory goes
  });
});

describe('a store object', () => {
  it('is called with the session key: set on hibernation, get and delete on wake, delete on close', async () => {
    const store = new CountingStore();
    const pool = await createPool({ module: REACTOR, workers: 1, maxActiveSessions: 1, store });
    const [a, b] = [pool.session('a'), pool.session('b')];
    expect(await a.call('inc', 1)).toBe(21);
    let hibernated = nextEvent(pool, 'sessionHibernated');
    expect(await b.call('inc', 1)).toBe(21);
    const { bytes } = await hibernated;
    expect(store.calls).toEqual(['set a']);
    expect(store.snapshots.get('a')?.byteLength).toBe(bytes);

    hibernated = nextEvent(pool, 'sessionHibernated');
    expect(await a.call('inc', 1)).toBe(22);
    await hibernated;
    await until(pool, () => store.count('delete', 'a') === 1, 'the stale snapshot of a deleted');
    expect(store.calls).toEqual(['set a', 'get a', 'set b', 'delete a']);
    await b.close();
    expect(store.calls).toEqual(['set a', 'get a', 'set b', 'delete a', 'delete b']);
    expect([...store.snapshots.keys()]).toEqual([]);
    expect(store.overlaps).toEqual([]);
  });

  it('never sees a set of a key while its delete runs', async () => {
    const store = new CountingStore();
    const pool = await createPool({ module: REACTOR, workers: 1, maxActiveSessions: 1, store });
    const [a, b] = [pool.session('a'), pool.session('b')];
    await a.call('inc', 1);
    await b.call('inc', 1); // a hibernates
    const deleting = hold();
    store.interfere('delete', 'a', deleting.promise);
    expect(await a.call('inc', 1)).toBe(22); // a wakes (its stale snapshot's delete is held), b hibernates
    await store.called('delete', 'a');
    const hibernated = nextEvent(pool, 'sessionHibernated', ({ key }) => key === 'a');
    // b wakes and pushes a out again: a's snapshot is taken before b's call runs, its set waits for the delete.
    expect(await b.call('inc', 1)).toBe(22);
    expect(store.count('set', 'a')).toBe(1);
    deleting.release();
    await hibernated;
    expect(store.count('set', 'a')).toBe(2);
    expect(store.overlaps).toEqual([]);
    expect(await a.call('inc', 1)).toBe(23);
  });

  it('keeps a session awake when its set fails (rejects or throws): its calls go on, nothing hibernated', async () => {
    for (const how of ['reject', 'throw'] as const) {
      const store = new CountingStore();
      const pool = await createPool({ module: REACTOR, workers: 1, maxActiveSessions: 1, store });
      const hibernations: string[] = [];
      pool.on('sessionHibernated', ({ key }) => hibernations.push(key));
      const [a, b] = [pool.session('a'), pool.session('b')];
      await a.call('inc', 1);
      store.interfere('set', 'a', how);
      expect(await b.call('inc', 1)).toBe(21); // a is pushed out, its set fails
      await store.called('set', 'a');
      expect(await a.call('inc', 1)).toBe(22);
      expect(a.hibernated).toBe(false);
      expect(hibernations).toEqual([]);
      expect(pool.stats()).toMatchObject({ hibernatedSessions: 0, hibernatedBytes: 0, lostSessions: 0 });
      // The store works again: the next look hibernates one of them.
      await until(pool, () => hibernations.length > 0, `${how}: a hibernation once the store works`);
      expect(await Promise.all([a.call('inc', 0), b.call('inc', 0)])).toEqual([22, 21]);
      expect(store.overlaps).toEqual([]);
    }
  });

  it('keeps every session awake while every set fails', async () => {
    const store = new CountingStore();
    store.failAlways('set');
    const pool = await createPool({ module: REACTOR, workers: 1, maxActiveSessions: 1, idleTimeout: 10, store });
    const hibernations: string[] = [];
    pool.on('sessionHibernated', ({ key }) => hibernations.push(key));
    const sessions = ['a', 'b', 'c'].map((key) => pool.session(key));
    expect(await Promise.all(sessions.map((session) => session.call('inc', 1)))).toEqual([21, 21, 21]);
    await Promise.all(['a', 'b', 'c'].map((key) => store.called('set', key)));
    expect(await Promise.all(sessions.map((session) => session.call('inc', 1)))).toEqual([22, 22, 22]);
    expect(hibernations).toEqual([]);
    expect(pool.stats()).toMatchObject({ activeSessions: 3, hibernatedSessions: 0, instances: 3 });
  });

  it("loses a session whose get fails (rejects, throws or finds nothing): ERR_SESSION_LOST, cause ERR_SNAPSHOT_STORE, until reset()", async () => {
    for (const how of ['reject', 'throw', 'undefined'] as const) {
      const store = new CountingStore();
      const pool = await createPool({ module: REACTOR, workers: 1, maxActiveSessions: 1, store });
      const lost: SessionLostEvent[] = [];
      pool.on('sessionLost', (event) => lost.push(event));
      const [a, b] = [pool.session('a'), pool.session('b')];
      await a.call('inc', 5);
      const hibernated = nextEvent(pool, 'sessionHibernated');
      await b.call('inc', 1);
      expect((await hibernated).key).toBe('a');
      store.interfere('get', 'a', how);
      // Two calls in one tick: both were held behind the wake.
      const [first, second] = await Promise.all([rejection(a.call('inc', 1)), rejection(a.callMany('inc', [1, 2]))]);
      for (const error of [first, second]) {
        expect(error).toMatchObject({ code: 'ERR_SESSION_LOST', sessionKey: 'a' });
        expect((error.cause as { code: string }).code).toBe('ERR_SNAPSHOT_STORE');
      }
      expect(lost.map(({ key, cause }) => `${key} ${cause.code}`)).toEqual(['a ERR_SNAPSHOT_STORE']);
      expect([a.lost, a.hibernated]).toEqual([true, false]);
      expect(pool.stats()).toMatchObject({ lostSessions: 1, hibernatedSessions: 0, hibernatedBytes: 0 });
      expect((await rejection(a.snapshot())).code).toBe('ERR_SESSION_LOST');
      // What the store may still hold for it is stale: deleted.
      await until(pool, () => store.count('delete', 'a') === 1 && !store.snapshots.has('a'), 'the stale snapshot deleted');
      await a.reset();
      expect(await a.call('inc', 1)).toBe(21);
      expect(await b.call('inc', 0)).toBe(21);
      expect(pool.stats().lostSessions).toBe(0);
      expect(store.overlaps).toEqual([]);
    }
  });

  it('forgets the stored snapshot of a hibernated session that is reset or restored', async () => {
    const store = new CountingStore();
    const pool = await createPool({ module: REACTOR, workers: 1, maxActiveSessions: 1, store });
    const [a, b] = [pool.session('a'), pool.session('b')];
    await a.call('inc', 5);
    const bytes = await a.snapshot();
    await a.call('inc', 5);
    let hibernated = nextEvent(pool, 'sessionHibernated');
    await b.call('inc', 1);
    expect((await hibernated).key).toBe('a');
    hibernated = nextEvent(pool, 'sessionHibernated');
    await a.reset();
    expect((await hibernated).key).toBe('b');
    expect(a.hibernated).toBe(false);
    expect(pool.stats()).toMatchObject({ hibernatedSessions: 1, activeSessions: 1 });
    hibernated = nextEvent(pool, 'sessionHibernated');
    await b.restore(bytes);
    expect((await hibernated).key).toBe('a');
    expect(pool.stats()).toMatchObject({ hibernatedSessions: 1, activeSessions: 1 });
    expect(await Promise.all([a.call('inc', 0), b.call('inc', 0)])).toEqual([20, 25]);
    // a's wake made two active sessions: one of them hibernates once idle.
    await until(pool, () => a.hibernated !== b.hibernated && store.count('delete', 'a') === 2, 'one hibernated, the stale snapshots deleted');
    expect(store.calls.filter((call) => call.startsWith('delete'))).toEqual(['delete a', 'delete b', 'delete a']);
    expect([...store.snapshots.keys()]).toEqual([a.hibernated ? 'a' : 'b']);
    expect(pool.stats()).toMatchObject({ hibernatedSessions: 1, activeSessions: 1 });
    expect(store.overlaps).toEqual([]);
  });
});

describe('hibernation options at create', () => {
  const refusal = async (options: ReactorPoolOptions): Promise<{ code?: string; message: string }> =>
    rejection(ReactorPool.create({ stdout: 'ignore', stderr: 'ignore', ...options }));

  it('refuses a store that is not a directory path or an object with get, set and delete', async () => {
    const stores: [string, unknown][] = [
      ['a number', 42], ['an empty path', ''], ['null', null], ['get only', { get() {} }],
      ['delete not a function', { get() {}, set() {}, delete: 1 }], ['a function', () => {}],
    ];
    for (const [what, store] of stores) {
      const error = await refusal({ module: REACTOR, store: store as never });
      expect(error.code, what).toBe('ERR_INVALID_OPTION');
      expect(error.message).toContain('store');
    }
    expect((await refusal({ module: REACTOR, store: { get() {} } as never })).message).toContain('set, delete');
  });

  it('refuses idleTimeout, maxActiveSessions and maxActiveMemory out of range', async () => {
    const bad: ReactorPoolOptions[] = [
      { module: REACTOR, idleTimeout: -1 },
      { module: REACTOR, idleTimeout: Number.NaN },
      { module: REACTOR, idleTimeout: '30' as never },
      { module: REACTOR, idleTimeout: 2 ** 31 },
      { module: REACTOR, maxActiveSessions: 0 },
      { module: REACTOR, maxActiveSessions: 1.5 },
      { module: REACTOR, maxActiveSessions: -1 },
      { module: REACTOR, maxActiveMemory: 0 },
    ];
    for (const options of bad) {
      const error = await refusal(options);
      expect(error.code, JSON.stringify(options)).toBe('ERR_INVALID_OPTION');
    }
  });

  it('refuses hibernation options for a pool that cannot snapshot, naming why', async () => {
    const startSection = fixture('snapshot/start-section.wasm');
    const cases: ReactorPoolOptions[] = [
      { module: startSection, idleTimeout: 1000 },
      { module: startSection, store: new CountingStore() },
      { module: startSection, maxActiveMemory: 1 << 30 },
      { module: REACTOR, isolation: 'worker', maxActiveSessions: 2 },
      { module: REACTOR, isolation: 'worker', idleTimeout: 10 },
    ];
    for (const options of cases) {
      const error = await refusal(options);
      expect(error.code, JSON.stringify(options)).toBe('ERR_NOT_SNAPSHOTTABLE');
      expect(error.message).toContain('hibernation');
    }
  });

  it('turns hibernation off by itself for a pool that cannot snapshot, and on for one that can', async () => {
    const off = await createPool({ module: fixture('snapshot/start-section.wasm'), workers: 1, maxInstances: 1 });
    await off.session('a').reset(); // its only export is `_initialize`: a reset starts the instance
    expect(off.stats()).toMatchObject({ instances: 1, activeSessions: 0 });
    expect((await rejection(off.session('b').reset())).code).toBe('ERR_INSTANCE_LIMIT');
    expect(off.session('a').hibernated).toBe(false);
    const on = await createPool({ module: REACTOR, workers: 1, maxInstances: 1 });
    expect(await on.session('a').call('inc', 1)).toBe(21);
    expect(await on.session('b').call('inc', 2)).toBe(22);
    expect(on.stats()).toMatchObject({ instances: 1, activeSessions: 1, hibernatedSessions: 1 });
  });
});
