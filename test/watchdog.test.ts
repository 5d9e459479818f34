// The watchdog, without threads: with a fake clock, fake timers and a fake board of what runs, it
// stops a job exactly when that job's own running time passes its timeout (queue time never counts),
// and otherwise sleeps until the earliest moment a deadline can pass, then looks again.

import { describe, expect, it } from 'vitest';
import type { ReactorPoolError } from '../dist/src/errors.js';
import type { Job } from '../dist/src/job.js';
import type { Op, Status } from '../dist/src/protocol.js';
import { Watchdog, type Running } from '../dist/src/watchdog.js';

class FakeJob implements Job {
  readonly op: Op = { kind: 'open', instanceId: 1, epoch: 0 };
  constructor(readonly timeout: number) {}
  beforeSend(): boolean {
    return true;
  }
  notTaken(): void {}
  settle(_status: Status, _payload: unknown): void {}
  fail(_error: ReactorPoolError, _lost: boolean): void {}
  describe(): string {
    return `job with timeout ${this.timeout}`;
  }
}

interface FakeTimer {
  readonly callback: () => void;
  readonly ms: number;
  cleared: boolean;
}

/** What the watchdog sees: jobs in flight by (batch, index), what runs, a clock and timers, all set by hand. */
class World {
  now = 1_000;
  running: Running | undefined;
  readonly jobs = new Map<string, Job>();
  readonly timers: FakeTimer[] = [];
  readonly timedOut: [Job, number][] = [];
  readonly watchdog = new Watchdog({
    running: () => this.running,
    jobAt: (seq, index) => this.jobs.get(`${seq}:${index}`),
    shortestTimeout: () => {
      let shortest = Number.POSITIVE_INFINITY;
      for (const job of this.jobs.values()) if (job.timeout > 0 && job.timeout < shortest) shortest = job.timeout;
      return shortest;
    },
    timedOut: (job, ranFor) => this.timedOut.push([job, ranFor]),
    now: () => this.now,
    setTimer: (callback, ms) => {
      const timer: FakeTimer = { callback, ms, cleared: false };
      this.timers.push(timer);
      return timer;
    },
    clearTimer: (timer) => {
      (timer as FakeTimer).cleared = true;
    },
  });

  /** Jobs now in flight (batch 1 unless said), indexed in order. */
  send(jobs: readonly Job[], seq = 1): void {
    jobs.forEach((job, index) => this.jobs.set(`${seq}:${index}`, job));
  }

  /** Operation `index` of batch `seq` starts now. */
  start(seq: number, index: number): void {
    this.running = { seq, index, startedAt: this.now };
  }

  /** Timers set and not cleared (nor fired). */
  get armed(): FakeTimer[] {
    return this.timers.filter((timer) => !timer.cleared);
  }

  /** The one armed timer. */
  get timer(): FakeTimer {
    const armed = this.armed;
    expect(armed).toHaveLength(1);
    return armed[0] as FakeTimer;
  }

  /** Moves the clock on by the armed timer's delay and fires it (as a real timer would, once). */
  fire(): void {
    const timer = this.timer;
    timer.cleared = true;
    this.now += timer.ms;
    timer.callback();
  }
}

describe('Watchdog', () => {
  it('arms nothing while no job in flight has a timeout', () => {
    const world = new World();
    world.watchdog.check();
    expect(world.timers).toEqual([]);
    world.send([new FakeJob(0), new FakeJob(0)]);
    world.start(1, 0);
    world.now += 1_000_000;
    world.watchdog.check();
    expect(world.timers).toEqual([]);
    expect(world.timedOut).toEqual([]);
  });

  it('sleeps until the running job can pass its timeout, and stops it once when the timer finds it past', () => {
    const world = new World();
    const job = new FakeJob(100);
    world.send([job]);
    world.start(1, 0);
    world.now += 30;
    world.watchdog.check();
    expect(world.timer.ms).toBe(70);
    expect(world.timedOut).toEqual([]);

    world.fire();
    expect(world.timedOut).toEqual([[job, 100]]);
    // Nothing is left to fire again.
    expect(world.armed).toEqual([]);
  });

  it('stops a job found past its timeout at once, told how long it ran', () => {
    const world = new World();
    const job = new FakeJob(50);
    world.send([new FakeJob(0), job]);
    world.start(1, 1);
    world.now += 80;
    world.watchdog.check();
    expect(world.timedOut).toEqual([[job, 80]]);
    expect(world.timers).toEqual([]);
  });

  it('wakes for the earliest deadline that can pass: a job yet to start may pass its own before the running one', () => {
    const world = new World();
    const running = new FakeJob(1_000);
    const next = new FakeJob(40);
    world.send([running, next]);
    world.start(1, 0);
    world.now += 10;
    world.watchdog.check();
    // The next job cannot start before now, so cannot pass its 40 ms before now + 40.
    expect(world.timer.ms).toBe(40);

    // The timer finds the first job still running: nothing to stop, sleep on.
    world.fire();
    expect(world.timedOut).toEqual([]);
    expect(world.timer.ms).toBe(40);

    // The next job starts; it is stopped once its own 40 ms have passed.
    world.start(1, 1);
    world.now += 5;
    world.watchdog.check();
    expect(world.timer.ms).toBe(35);
    world.fire();
    expect(world.timedOut).toEqual([[next, 40]]);
    expect(world.armed).toEqual([]);
  });

  it('never counts queue time: a job that started late is measured from its own start', () => {
    const world = new World();
    const late = new FakeJob(100);
    world.send([new FakeJob(0), late]);
    // The first job (no timeout) runs for long while the second waits behind it.
    world.start(1, 0);
    world.watchdog.check();
    expect(world.timer.ms).toBe(100);
    world.now += 500;
    world.start(1, 1);
    world.now += 60;
    world.watchdog.check();
    expect(world.timedOut).toEqual([]);
    expect(world.timer.ms).toBe(40);
    world.fire();
    expect(world.timedOut).toEqual([[late, 100]]);
  });

  it('rounds a fractional wait up, so that the timer never fires before the deadline', () => {
    const world = new World();
    const job = new FakeJob(100);
    world.send([job]);
    world.start(1, 0);
    world.now += 30.25;
    world.watchdog.check();
    expect(world.timer.ms).toBe(70);
    world.fire();
    expect(world.timedOut).toEqual([[job, 100.25]]);
  });

  it('waits at least a millisecond, even with a deadline a fraction of one away', () => {
    const world = new World();
    const job = new FakeJob(10);
    world.send([job]);
    world.start(1, 0);
    world.now += 9.999;
    world.watchdog.check();
    expect(world.timer.ms).toBe(1);
  });

  it('ignores what runs between operations or outside the batches it watches, waiting for the shortest timeout', () => {
    const world = new World();
    world.send([new FakeJob(70), new FakeJob(90)]);
    world.running = undefined;
    world.watchdog.check();
    expect(world.timer.ms).toBe(70);
    // A batch it does not watch (the board names one no job is known for).
    world.running = { seq: 9, index: 0, startedAt: world.now - 10_000 };
    world.watchdog.check();
    expect(world.timedOut).toEqual([]);
    expect(world.timer.ms).toBe(70);
  });

  it('keeps one timer at a time: a new check replaces the one armed', () => {
    const world = new World();
    world.send([new FakeJob(100)]);
    world.start(1, 0);
    world.watchdog.check();
    const first = world.timer;
    world.now += 20;
    world.watchdog.check();
    expect(first.cleared).toBe(true);
    expect(world.timer.ms).toBe(80);
  });

  it('clears its timer on stop, and a stop with none armed does nothing', () => {
    const world = new World();
    world.watchdog.stop();
    expect(world.timers).toEqual([]);
    world.send([new FakeJob(100)]);
    world.start(1, 0);
    world.watchdog.check();
    const timer = world.timer;
    world.watchdog.stop();
    expect(timer.cleared).toBe(true);
    expect(world.armed).toEqual([]);
    world.watchdog.stop();
    expect(world.timers).toHaveLength(1);
  });
});
