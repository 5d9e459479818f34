// The instance table without threads: identity and epochs, the loss rule (once per lost instance, the
// cause carried by later calls), thread loss (a start sent is lost, one never sent is not), shared
// instances under isolation 'worker', the maxInstances cap, reset, close, and moving an entry.

import { describe, expect, it } from 'vitest';
import {
  CallTimeoutError, ReactorExitError, ReactorPoolError, ReactorTrapError, SessionLostError, WorkerFailedError,
} from '../dist/src/index.js';
import {
  InstanceTable, type InstanceEntry, type InstanceIsolation, type InstanceRecord,
} from '../dist/src/instance-table.js';
import type { Op } from '../dist/src/protocol.js';

interface Loss {
  readonly key: string;
  readonly cause: ReactorPoolError;
}

function tableOf(isolation: InstanceIsolation, maxInstances = Number.POSITIVE_INFINITY, onLost?: (entry: InstanceEntry) => void) {
  const losses: Loss[] = [];
  const table = new InstanceTable({
    isolation,
    maxInstances,
    onLost: (entry, cause) => {
      losses.push({ key: entry.key, cause });
      onLost?.(entry);
    },
  });
  return { table, losses };
}

/** The operation a session's call would queue now: it creates the instance if it is the first of its epoch. */
function callOf(table: InstanceTable, entry: InstanceEntry): Op {
  const open = table.claimStart(entry);
  return { kind: 'call', instanceId: entry.instanceId, epoch: entry.epoch, open, exportIndex: 0, args: [] };
}

/** A call queued and sent to the worker's thread. */
function sentCallOf(table: InstanceTable, entry: InstanceEntry): Op {
  const op = callOf(table, entry);
  table.sending(entry, op);
  return op;
}

/** detach and attach are internal (stripped from the published types); the table's own tests reach them here. */
interface Movable {
  detach(entry: InstanceEntry): InstanceRecord;
  attach(record: InstanceRecord, workerId: number): InstanceEntry;
}
const movable = (table: InstanceTable): Movable => table as unknown as Movable;

const exit = (): ReactorExitError => new ReactorExitError('the reactor called proc_exit(3)', { exitCode: 3 });
const threadDied = (): WorkerFailedError => new WorkerFailedError('worker 0 stopped unexpectedly; its instances are gone', { workerId: 0 });

describe("instance table, isolation 'session'", () => {
  it('binds each session to its own instance id and epoch; counts an instance once its start is queued', () => {
    const { table } = tableOf('session');
    const a = table.bind('a', 0);
    const b = table.bind('b', 0);
    expect(a.instanceId).toBeGreaterThan(0);
    expect(b.instanceId).not.toBe(a.instanceId);
    expect(b.epoch).not.toBe(a.epoch);
    expect(table.boundTo(0)).toBe(2);
    expect(table.live).toBe(0);

    const first = callOf(table, a);
    expect(first).toMatchObject({ open: true, epoch: a.epoch });
    expect(callOf(table, a)).toMatchObject({ open: false });
    expect(a).toMatchObject({ startQueued: true, startSent: false });
    expect(table.live).toBe(1);
    table.sending(a, first);
    expect(a.startSent).toBe(true);
  });

  it('applies the loss rule once: the cause is kept, later calls carry it, a drop still runs', () => {
    const { table, losses } = tableOf('session');
    const a = table.bind('a', 0);
    const op = sentCallOf(table, a);
    const behind = callOf(table, a);
    table.operationFailed(a, op, exit(), true);
    expect(a.lostCause?.code).toBe('ERR_REACTOR_EXIT');
    expect(a.lostCause?.sessionKey).toBe('a');
    expect(losses.map((loss) => loss.key)).toEqual(['a']);
    expect(table.live).toBe(0);

    const carried = table.lostErrorFor(a, behind);
    expect(carried).toBeInstanceOf(SessionLostError);
    expect(carried?.cause).toBe(a.lostCause);
    expect(table.lostErrorFor(a, { kind: 'drop', instanceId: a.instanceId, epoch: a.epoch })).toBeUndefined();

    // The worker answers the calls behind with ERR_SESSION_LOST (lost): no second event.
    table.operationFailed(a, behind, new SessionLostError('lost', {}, exit()), true);
    expect(losses).toHaveLength(1);
  });

  it("takes the cause out of a worker-side ERR_SESSION_LOST; a trap that keeps the instance loses nothing", () => {
    const { table, losses } = tableOf('session');
    const a = table.bind('a', 0);
    const op = sentCallOf(table, a);
    table.operationFailed(a, op, new ReactorTrapError('unreachable', { exportName: 'boom' }), false);
    expect(a.lostCause).toBeUndefined();
    table.operationFailed(a, op, new SessionLostError('lost', {}, exit()), true);
    expect(a.lostCause?.code).toBe('ERR_REACTOR_EXIT');
    expect(losses).toHaveLength(1);
  });

  it('loses the runaway call by its own timeout; its other calls carry that cause, other sessions their own error', () => {
    const { table, losses } = tableOf('session');
    const a = table.bind('a', 0);
    const b = table.bind('b', 0);
    const runaway = sentCallOf(table, a);
    const other = callOf(table, a);
    const bystander = sentCallOf(table, b);
    const timeout = new CallTimeoutError('ran too long', { limit: 10, workerId: 0 });
    const cause = threadDied();
    expect(table.operationDropped(a, runaway, timeout, true)).toBe(timeout);
    const carried = table.operationDropped(a, other, cause, false);
    expect(carried).toBeInstanceOf(SessionLostError);
    expect(carried.cause).toBe(timeout);
    const own = table.operationDropped(b, bystander, cause, false);
    expect(own).toMatchObject({ code: 'ERR_WORKER_FAILED', sessionKey: 'b' });
    expect(cause.sessionKey).toBeUndefined(); // shared by many calls: copied, never changed
    table.threadLost(0, cause);
    expect(losses.map((loss) => [loss.key, loss.cause.code])).toEqual([['a', 'ERR_CALL_TIMEOUT'], ['b', 'ERR_WORKER_FAILED']]);
  });

  it('loses with its thread every session whose start was sent, idle or not; not one whose start never got there', () => {
    const { table, losses } = tableOf('session');
    const sent = table.bind('sent', 0);
    const queued = table.bind('queued', 0);
    const idle = table.bind('idle', 0);
    const elsewhere = table.bind('elsewhere', 1);
    sentCallOf(table, sent);
    callOf(table, queued);
    sentCallOf(table, elsewhere);
    table.threadLost(0, threadDied());
    expect(losses.map((loss) => loss.key)).toEqual(['sent']);
    expect([sent.lostCause?.code, queued.lostCause, idle.lostCause, elsewhere.lostCause]).toEqual(['ERR_WORKER_FAILED', undefined, undefined, undefined]);
    expect(table.live).toBe(2); // queued (its start goes to the new thread) and elsewhere
    expect(table.lost).toBe(1);
  });

  it('a start in a batch the dying thread never took is not lost: the next operation sent carries it again', () => {
    const { table, losses } = tableOf('session');
    const a = table.bind('a', 0);
    const start = sentCallOf(table, a);
    expect(start).toMatchObject({ open: true });
    const behind = callOf(table, a);
    expect(behind).toMatchObject({ open: false });
    table.notTaken(a, start);
    expect([a.startSent, a.startReturned]).toEqual([false, true]);
    table.threadLost(0, threadDied());
    expect(losses).toHaveLength(0);
    expect(table.live).toBe(1);
    // The next operation sent must create the instance on the new thread; only once.
    expect(table.sending(a, behind)).toBe(true);
    expect([a.startSent, a.startReturned]).toEqual([true, false]);
    expect(table.sending(a, callOf(table, a))).toBe(false);
    table.threadLost(0, threadDied());
    expect(losses.map((loss) => loss.key)).toEqual(['a']);
  });

  it('a sent start of an older epoch does not mark the current one sent', () => {
    const { table, losses } = tableOf('session');
    const a = table.bind('a', 0);
    const old = callOf(table, a);
    table.reset(a);
    table.sending(a, old);
    expect(a.startSent).toBe(false);
    table.threadLost(0, threadDied());
    expect(losses).toHaveLength(0);
  });

  it('reset: a new epoch, the loss forgotten, its start queued and counted again', () => {
    const { table } = tableOf('session');
    const a = table.bind('a', 0);
    const op = sentCallOf(table, a);
    table.operationFailed(a, op, exit(), true);
    const lostEpoch = a.epoch;
    table.reset(a);
    expect(a.epoch).toBeGreaterThan(lostEpoch);
    expect(a).toMatchObject({ lostCause: undefined, startQueued: true, startSent: false });
    expect(table.live).toBe(1);
    expect(callOf(table, a)).toMatchObject({ open: false, epoch: a.epoch });
    // A loss reported for the old epoch no longer touches it.
    table.instanceLost(a, lostEpoch, exit());
    expect(a.lostCause).toBeUndefined();
  });

  it('caps live instances: a start past maxInstances throws ERR_INSTANCE_LIMIT and changes nothing; a reset replaces; a close frees', () => {
    const { table } = tableOf('session', 2);
    const [a, b, c] = ['a', 'b', 'c'].map((key) => table.bind(key, 0)) as [InstanceEntry, InstanceEntry, InstanceEntry];
    callOf(table, a);
    callOf(table, b);
    let refused: unknown;
    try {
      table.claimStart(c);
    } catch (error) {
      refused = error;
    }
    expect(refused).toMatchObject({ code: 'ERR_INSTANCE_LIMIT', limit: 2, sessionKey: 'c', retryable: true });
    expect(c.startQueued).toBe(false);
    const epoch = c.epoch;
    expect(() => table.reset(c)).toThrow(expect.objectContaining({ code: 'ERR_INSTANCE_LIMIT' }));
    expect(c).toMatchObject({ epoch, startQueued: false });
    table.reset(b); // one out, one in
    expect(table.live).toBe(2);
    expect(table.forget(a)).toBe(true); // its worker holds an instance to drop
    expect(table.live).toBe(1);
    expect(table.claimStart(c)).toBe(true);
    expect(table.live).toBe(2);
    table.releaseAll();
    expect(table.live).toBe(0);
  });

  it('a start the engine refused is not a loss: not counted, the next call starts again, a close still drops', () => {
    const { table, losses } = tableOf('session');
    const a = table.bind('a', 0);
    const op = sentCallOf(table, a);
    table.operationFailed(a, op, new ReactorPoolError('ERR_INSTANCE_LIMIT', 'engine out of address space'), false);
    expect(losses).toHaveLength(0);
    expect(a).toMatchObject({ lostCause: undefined, startQueued: false, startSent: false, startRefused: true });
    expect(table.live).toBe(0);
    table.threadLost(0, threadDied());
    expect(a.lostCause).toBeUndefined();
    expect(callOf(table, a)).toMatchObject({ open: true });
    expect(table.live).toBe(1);
    expect(table.forget(a)).toBe(true);
  });

  it('close: the entry leaves the table; a drop is needed only if a start was queued or refused', () => {
    const { table, losses } = tableOf('session');
    const idle = table.bind('idle', 0);
    const used = table.bind('used', 0);
    sentCallOf(table, used);
    expect(table.forget(idle)).toBe(false);
    expect(table.forget(used)).toBe(true);
    expect([table.holds(idle), table.holds(used), table.boundTo(0), table.live]).toEqual([false, false, 0, 0]);
    table.threadLost(0, threadDied());
    expect(losses).toHaveLength(0);
    // The key is free for a new session.
    expect(table.bind('used', 0).epoch).toBeGreaterThan(used.epoch);
  });

  it('detaches an instance from one worker and attaches it to another: same identity, counted again, lost with its new thread only', () => {
    const { table, losses } = tableOf('session', 1);
    const a = table.bind('a', 0);
    sentCallOf(table, a);
    const record = movable(table).detach(a);
    expect(record).toMatchObject({ key: 'a', instanceId: a.instanceId, epoch: a.epoch, startQueued: true, startSent: true, live: true });
    expect([table.holds(a), table.boundTo(0), table.live]).toEqual([false, 0, 0]);

    // Meanwhile its place was taken: attaching needs room again.
    const b = table.bind('b', 0);
    callOf(table, b);
    expect(() => movable(table).attach(record, 1)).toThrow(expect.objectContaining({ code: 'ERR_INSTANCE_LIMIT' }));
    expect(table.boundTo(1)).toBe(0);
    table.forget(b);

    const moved = movable(table).attach(record, 1);
    expect(moved).toMatchObject({ key: 'a', workerId: 1, instanceId: a.instanceId, epoch: a.epoch, startQueued: true, startSent: true });
    expect([table.holds(moved), table.boundTo(1), table.live]).toEqual([true, 1, 1]);
    table.threadLost(0, threadDied());
    expect(losses).toHaveLength(0);
    table.threadLost(1, threadDied());
    expect(losses.map((loss) => loss.key)).toEqual(['a']);
    expect(() => movable(table).attach(movable(table).detach(moved), 0)).not.toThrow();
    // An entry no longer bound (detached already, or replaced under its key) cannot be detached.
    expect(() => movable(table).detach(moved)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });

  it('a loss listener may reset the session it is told of', () => {
    const { table, losses } = tableOf('session', Number.POSITIVE_INFINITY, (entry) => table.reset(entry));
    const a = table.bind('a', 0);
    sentCallOf(table, a);
    table.threadLost(0, threadDied());
    expect(losses).toHaveLength(1);
    expect(a).toMatchObject({ lostCause: undefined, startQueued: true, startSent: false });
    expect(table.live).toBe(1);
  });
});

describe("instance table, isolation 'worker'", () => {
  it("binds a worker's sessions to its shared instance (id 0, one epoch) and counts it once", () => {
    const { table } = tableOf('worker');
    const a = table.bind('a', 0);
    const b = table.bind('b', 0);
    const c = table.bind('c', 1);
    expect([a.instanceId, b.instanceId, c.instanceId]).toEqual([0, 0, 0]);
    expect(b.epoch).toBe(a.epoch);
    expect(c.epoch).not.toBe(a.epoch);
    callOf(table, a);
    callOf(table, b);
    expect(table.live).toBe(1);
    callOf(table, c);
    expect(table.live).toBe(2);
  });

  it('losing the shared instance loses every session bound to it; the next one gets a new epoch', () => {
    const { table, losses } = tableOf('worker');
    const a = table.bind('a', 0);
    table.bind('b', 0);
    const op = sentCallOf(table, a);
    table.operationFailed(a, op, exit(), true);
    expect(losses.map((loss) => loss.key)).toEqual(['a', 'b']);
    expect(table.live).toBe(0);
    const later = table.bind('later', 0);
    expect(later.epoch).toBeGreaterThan(a.epoch);
    expect(later.lostCause).toBeUndefined();
    table.reset(a);
    expect(a.epoch).toBe(later.epoch);
    expect(table.live).toBe(1);
  });

  it('a shared instance stays counted while a session there has a start queued', () => {
    const { table } = tableOf('worker');
    const sent = table.bind('sent', 0);
    sentCallOf(table, sent);
    table.threadLost(0, threadDied());
    expect(table.live).toBe(0);
    expect(sent.lostCause?.code).toBe('ERR_WORKER_FAILED');

    const queued = table.bind('queued', 0);
    callOf(table, queued);
    const other = table.bind('other', 0);
    sentCallOf(table, other);
    table.threadLost(0, threadDied());
    expect(other.lostCause?.code).toBe('ERR_WORKER_FAILED');
    expect(queued.lostCause).toBeUndefined(); // its start never reached the dead thread
    expect(table.live).toBe(1);
  });

  it('caps shared instances per worker, and does not move them', () => {
    const { table } = tableOf('worker', 1);
    const a = table.bind('a', 0);
    const b = table.bind('b', 1);
    callOf(table, a);
    expect(() => table.claimStart(b)).toThrow(expect.objectContaining({ code: 'ERR_INSTANCE_LIMIT', sessionKey: 'b' }));
    expect(table.forget(a)).toBe(false); // a shared instance outlives its sessions: nothing to drop
    expect(table.live).toBe(1);
    expect(() => movable(table).detach(b)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});
