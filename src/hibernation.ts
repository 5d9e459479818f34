// When sessions hibernate: after `idleTimeout` without an operation, and, least recently used first,
// when the active sessions pass `maxActiveSessions` or their linear memory `maxActiveMemory`. The
// sessions themselves do the work (snapshot, store, drop; restore on their next operation).

import type { SnapshotStore } from './snapshot-store.js';

/** What the policy needs of a session. */
export interface Hibernatable {
  readonly key: string;
  /** Operations made so far: the policy sees activity as this number changing. */
  readonly ops: number;
  /** Nothing queued or running, awake, not lost or closed: hibernating it costs nobody a wait. */
  readonly idle: boolean;
  /** Snapshots it into the store and drops its instance; true once its instance is gone (hibernated, or lost or closed meanwhile), false if it stayed awake (busy, a store failure). */
  hibernate(): Promise<boolean>;
}

/** The resolved hibernation options. */
export interface HibernationLimits {
  /** Milliseconds without an operation before a session hibernates; `Infinity`: never for idleness. */
  readonly idleTimeout: number;
  /** Active sessions at most before the least recently used hibernate; `Infinity`: no cap. */
  readonly maxActiveSessions: number;
  /** Bytes of linear memory across active instances at most; `Infinity`: no cap. */
  readonly maxActiveMemory: number;
  readonly store: SnapshotStore;
}

/** How often the memory cap is checked (the workers' memory figures are recounted about this often). */
const MEMORY_CHECK_MS = 250;
/**
 * How often the active cap is checked besides each start: sessions busy when a start pushed the count
 * over it (none idle then) are hibernated once idle.
 */
const CAP_CHECK_MS = 50;
/** How far the clock hand looks for victims at most: this many sessions per victim wanted, plus a few. */
const VICTIM_LOOKS_PER_SESSION = 4;
const VICTIM_LOOKS = 64;
/** Hibernations a start pushing the count over its cap begins at most (the periodic check does the rest). */
const EVICT_PER_START = 4;

interface Tracked {
  /** Where the session sits on the clock's ring. */
  slot: number;
  /** `ops` when the clock hand last passed (a change: used since, a second chance). */
  clockOps: number;
  /** `ops` at the last sweep, and when it last changed. */
  sweptOps: number;
  activeSince: number;
}

export class Hibernation {
  readonly limits: HibernationLimits;
  /** Active sessions, and where each sits on {@link #ring}. */
  readonly #active = new Map<Hibernatable, Tracked>();
  /** The clock: active sessions in activation order, holes where one left (compacted when half are holes). */
  #ring: (Hibernatable | undefined)[] = [];
  #holes = 0;
  /** Where the clock hand points on the ring. */
  #hand = 0;
  /** Hibernations under way, by session. */
  readonly #underway = new Map<Hibernatable, Promise<boolean>>();
  readonly #memory: () => number;
  #timer: NodeJS.Timeout | undefined;
  /** The pool is closing: no more hibernations for the policy, only to make room for operations already accepted. */
  #closing = false;
  #stopped = false;
  /**
   * Starts waiting for room at `maxInstances` while every active session is busy: settled at the next
   * chance of room (a session settled its work, or one stopped being active).
   */
  #chance: { readonly promise: Promise<boolean>; readonly resolve: (again: boolean) => void } | undefined;
  /** Store deletes under way, by key: a later set of the key waits for its delete (the store never sees two calls for one key at once). */
  readonly #deletes = new Map<string, Promise<void>>();

  constructor(limits: HibernationLimits, memory: () => number) {
    this.limits = limits;
    this.#memory = memory;
    const every = Math.min(
      Number.isFinite(limits.idleTimeout) ? Math.max(10, Math.min(1000, limits.idleTimeout / 4)) : Number.POSITIVE_INFINITY,
      Number.isFinite(limits.maxActiveMemory) ? MEMORY_CHECK_MS : Number.POSITIVE_INFINITY,
      Number.isFinite(limits.maxActiveSessions) ? CAP_CHECK_MS : Number.POSITIVE_INFINITY,
    );
    if (Number.isFinite(every)) {
      this.#timer = setInterval(() => this.#sweep(), every);
      this.#timer.unref();
    }
  }

  /** Snapshot bytes in the store, by hibernated session. */
  readonly #stored = new Map<string, number>();
  #storedBytes = 0;

  /** Active sessions now (awake with an instance, or starting one). */
  get active(): number {
    return this.#active.size;
  }

  /** Hibernated sessions now. */
  get hibernated(): number {
    return this.#stored.size;
  }

  /** Bytes of their snapshots in the store. */
  get storedBytes(): number {
    return this.#storedBytes;
  }

  /** Bytes of `key`'s snapshot in the store, if it is hibernated. */
  bytesOf(key: string): number | undefined {
    return this.#stored.get(key);
  }

  /** `key`'s snapshot of `bytes` is in the store. */
  stored(key: string, bytes: number): void {
    this.unstored(key);
    this.#stored.set(key, bytes);
    this.#storedBytes += bytes;
  }

  /** `key`'s snapshot in the store is stale (woken, reset, closed): true if there was one. */
  unstored(key: string): boolean {
    const bytes = this.#stored.get(key);
    if (bytes === undefined) return false;
    this.#stored.delete(key);
    this.#storedBytes -= bytes;
    return true;
  }

  /**
   * `key`'s snapshot in the store is stale (woken, reset, restored, closed): forgotten now, and deleted
   * from the store (a failure ignored). Resolves once the delete is done.
   */
  discard(key: string): Promise<void> {
    if (!this.unstored(key)) return this.deleted(key);
    const { store } = this.limits;
    // Called through a promise: a store whose delete throws, or returns no promise, fails nothing here.
    const deleted = this.deleted(key).then(() => store.delete(key)).then(() => {}, () => {});
    this.#deletes.set(key, deleted);
    void deleted.then(() => {
      if (this.#deletes.get(key) === deleted) this.#deletes.delete(key);
    });
    return deleted;
  }

  /** Resolves once no delete of `key` is under way (a set of it waits for this). */
  deleted(key: string): Promise<void> {
    return this.#deletes.get(key) ?? Promise.resolve();
  }

  /**
   * Whether a start at the pool's hard cap is to wait for {@link makeRoom} rather than be refused:
   * hibernation by count is on and some session is active (an idle one hibernates now, a busy one
   * once its work is done).
   */
  canMakeRoom(): boolean {
    return Number.isFinite(this.limits.maxActiveSessions) && !this.#stopped && this.#active.size > 0;
  }

  /** A session's instance started (or is starting): it counts as active, and may push another out. */
  activated(session: Hibernatable): void {
    if (!this.#active.has(session)) {
      this.#active.set(session, { slot: this.#ring.length, clockOps: session.ops, sweptOps: session.ops, activeSince: performance.now() });
      this.#ring.push(session);
    }
    const over = this.#active.size - this.#underway.size - this.limits.maxActiveSessions;
    // A few per start; the periodic check catches up with the rest.
    if (over > 0) this.#evict(Math.min(over, EVICT_PER_START));
  }

  /** A session stopped being active (hibernated, lost, closed): its place is room for a waiting start. */
  deactivated(session: Hibernatable): void {
    const tracked = this.#active.get(session);
    if (tracked === undefined) return;
    this.#active.delete(session);
    this.#ring[tracked.slot] = undefined;
    if (++this.#holes > this.#ring.length / 2) this.#compact();
    this.#nextChance();
  }

  /** A session settled the last of its work: it may be idle now, and hibernate to make room for a waiting start. */
  settledWork(): void {
    this.#nextChance();
  }

  /** Drops the ring's holes, keeping its order and the hand on the same session. */
  #compact(): void {
    const ring: Hibernatable[] = [];
    let hand = 0;
    this.#ring.forEach((session, slot) => {
      if (slot === this.#hand) hand = ring.length;
      if (session === undefined) return;
      (this.#active.get(session) as Tracked).slot = ring.length;
      ring.push(session);
    });
    this.#ring = ring;
    this.#hand = hand;
    this.#holes = 0;
  }

  /**
   * Room for one more instance when live instances have reached the pool's hard cap: resolves true
   * once the caller should look again (a hibernation made room, or a session may have become idle),
   * false when the hibernation waited for failed; undefined when none can make room (no active
   * session, `maxActiveSessions` is `Infinity`, the pool stopped): the caller then refuses the start.
   */
  makeRoom(): Promise<boolean> | undefined {
    if (!this.canMakeRoom()) return undefined;
    const underway = this.#underway.values().next();
    if (!underway.done) return underway.value;
    const [victim] = this.#victims(1);
    if (victim !== undefined) return this.#hibernate(victim);
    // Every active session is busy (or starting, or waking): one will be idle once its work is done.
    this.#chance ??= withResolvers();
    return this.#chance.promise;
  }

  /** Resolves once no hibernation or store delete is under way (the pool waits for this before it stops). */
  async settled(): Promise<void> {
    while (this.#underway.size > 0 || this.#deletes.size > 0) {
      await Promise.all([...this.#underway.values(), ...this.#deletes.values()]);
    }
  }

  /** The pool is closing: sessions hibernate no more for idleness or the caps, only to make room for operations already accepted. */
  closing(): void {
    this.#closing = true;
    clearInterval(this.#timer);
  }

  /** No more hibernations start, and starts waiting for room stop waiting (the pool is stopping). */
  stop(): void {
    this.closing();
    this.#stopped = true;
    this.#nextChance();
  }

  /** Starts waiting for room look again. */
  #nextChance(): void {
    const chance = this.#chance;
    if (chance === undefined) return;
    this.#chance = undefined;
    chance.resolve(true);
  }

  #evict(count: number): void {
    if (this.#closing) return;
    for (const victim of this.#victims(count)) void this.#hibernate(victim);
  }

  /**
   * Up to `count` idle sessions, least recently used first: the clock algorithm. The hand goes round
   * the ring; a session used since it last passed gets a second chance (and a busy one is passed
   * over), so each look moves the hand on. A look that does not `turn` changes nothing.
   */
  #victims(count: number, turn = true): Hibernatable[] {
    const victims: Hibernatable[] = [];
    const ring = this.#ring;
    if (ring.length === 0) return victims;
    let budget = Math.min(ring.length, VICTIM_LOOKS_PER_SESSION * count + VICTIM_LOOKS);
    let hand = this.#hand;
    for (; budget > 0 && victims.length < count; budget--) {
      if (hand >= ring.length) hand = 0;
      const session = ring[hand++];
      if (session === undefined || this.#underway.has(session)) continue;
      const tracked = this.#active.get(session) as Tracked;
      if (tracked.clockOps !== session.ops) {
        if (turn) tracked.clockOps = session.ops;
        else if (session.idle) victims.push(session);
      } else if (session.idle) {
        victims.push(session);
      }
    }
    if (turn) this.#hand = hand;
    return victims;
  }

  #hibernate(session: Hibernatable): Promise<boolean> {
    const underway = this.#underway.get(session);
    if (underway !== undefined) return underway;
    if (this.#stopped) return Promise.resolve(false);
    const done = session.hibernate().finally(() => this.#underway.delete(session));
    this.#underway.set(session, done);
    return done;
  }

  /** Hibernates sessions idle past `idleTimeout`, and the least recently used while memory is over its cap. */
  #sweep(): void {
    const now = performance.now();
    const { idleTimeout, maxActiveMemory } = this.limits;
    if (Number.isFinite(idleTimeout)) {
      for (const session of this.#ring) {
        if (session === undefined) continue;
        const tracked = this.#active.get(session) as Tracked;
        if (tracked.sweptOps !== session.ops) {
          tracked.sweptOps = session.ops;
          tracked.activeSince = now;
        } else if (now - tracked.activeSince >= idleTimeout && session.idle) {
          void this.#hibernate(session);
        }
      }
    }
    const over = this.#active.size - this.#underway.size - this.limits.maxActiveSessions;
    if (over > 0) this.#evict(over);
    if (Number.isFinite(maxActiveMemory) && this.#underway.size === 0) {
      const memory = this.#memory();
      const active = this.#active.size;
      if (memory > maxActiveMemory && active > 0) this.#evict(Math.ceil((memory - maxActiveMemory) / (memory / active)));
    }
  }
}

function withResolvers(): { promise: Promise<boolean>; resolve: (again: boolean) => void } {
  let resolve: (again: boolean) => void = () => {};
  const promise = new Promise<boolean>((settle) => { resolve = settle; });
  return { promise, resolve };
}
