// Clocks and `poll_oneoff` of the sealed WASI surface, in JavaScript. node:wasi sleeps in native code,
// where terminating the worker cannot reach it; an Atomics.wait here ends when the worker is terminated.

import { Clock, Errno, EVENT_FD_READWRITE_HANGUP, EventType, SIZE, SUBSCRIPTION_CLOCK_ABSTIME } from './wasi-abi.js';

/** Nanoseconds on `clock`, or undefined for an unknown clock id. */
export function clockNow(clock: number): bigint | undefined {
  switch (clock) {
    case Clock.REALTIME: return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
    case Clock.MONOTONIC: return process.hrtime.bigint();
    // Node tells CPU time per process only; a worker's thread is charged the process's time.
    case Clock.PROCESS_CPUTIME:
    case Clock.THREAD_CPUTIME: {
      const { user, system } = process.cpuUsage();
      return BigInt(user + system) * 1000n;
    }
    default: return undefined;
  }
}

/** Nanoseconds between ticks of `clock` (what {@link clockNow} can tell apart), or undefined for an unknown id. */
export function clockResolution(clock: number): bigint | undefined {
  if (clock === Clock.MONOTONIC) return 1n;
  return clock === Clock.REALTIME || clock === Clock.PROCESS_CPUTIME || clock === Clock.THREAD_CPUTIME ? 1000n : undefined;
}

/** A private cell nobody notifies: waiting on it is a sleep that `worker.terminate()` interrupts. Made on first use. */
let sleepCell: Int32Array | undefined;

/** Blocks this thread until the monotonic clock reaches `deadline` (ns). */
function sleepUntil(deadline: bigint): void {
  sleepCell ??= new Int32Array(new SharedArrayBuffer(4));
  for (let left = deadline - process.hrtime.bigint(); left > 0n; left = deadline - process.hrtime.bigint()) {
    Atomics.wait(sleepCell, 0, 0, Number(left) / 1e6);
  }
}

/** How an fd subscription stands now. */
export interface FdReadiness {
  readonly errno: number;
  /** Bytes that can be read without blocking (reads), 0 when not known. */
  readonly nbytes: bigint;
  /** The reading end saw end-of-file. */
  readonly hangup: boolean;
}

/**
 * What `poll_oneoff` answers before it looks at any clock or descriptor: INVAL for no subscriptions or
 * one of no known type, FAULT for records outside memory, else SUCCESS. Deterministic, so a replay
 * (which takes the events from its tape) checks the same.
 */
export function checkPoll(view: DataView, subscriptions: number, events: number, count: number, eventsWritten: number): number {
  if (count === 0) return Errno.INVAL;
  if (subscriptions + count * SIZE.subscription > view.byteLength || events + count * SIZE.event > view.byteLength ||
    eventsWritten + 4 > view.byteLength) {
    return Errno.FAULT;
  }
  for (let i = 0; i < count; i++) {
    const tag = view.getUint8(subscriptions + i * SIZE.subscription + 8);
    if (tag !== EventType.CLOCK && tag !== EventType.FD_READ && tag !== EventType.FD_WRITE) return Errno.INVAL;
  }
  return Errno.SUCCESS;
}

/**
 * Runs `poll_oneoff` over guest memory `view`. `fdReadiness` answers for fd subscriptions (it may use
 * the 32-byte event slot at `scratch` as scratch space). Virtual stdio and files are always ready, so
 * the call sleeps only when every subscription is a clock; then until the earliest deadline.
 */
export function pollOneoff(
  view: DataView, subscriptions: number, events: number, count: number, eventsWritten: number,
  fdReadiness: (fd: number, type: number, scratch: number) => FdReadiness, monotonicOffset = 0n,
): number {
  const refused = checkPoll(view, subscriptions, events, count, eventsWritten);
  if (refused !== Errno.SUCCESS) return refused;
  const monotonicNow = process.hrtime.bigint();
  /** Monotonic deadline of each clock subscription (undefined: an fd subscription, or a clock in error). */
  const deadlines: (bigint | undefined)[] = [];
  let written = 0;
  let earliest: bigint | undefined;
  const emit = (i: number, type: number, errno: number, nbytes: bigint, flags: number): void => {
    const sub = subscriptions + i * SIZE.subscription;
    const event = events + written * SIZE.event;
    view.setBigUint64(event, view.getBigUint64(sub, true), true);
    view.setUint16(event + 8, errno, true);
    view.setUint8(event + 10, type);
    view.setBigUint64(event + 16, nbytes, true);
    view.setUint16(event + 24, flags, true);
    written++;
  };
  for (let i = 0; i < count; i++) {
    const sub = subscriptions + i * SIZE.subscription;
    const tag = view.getUint8(sub + 8);
    if (tag !== EventType.CLOCK) {
      deadlines.push(undefined);
      // Events are written in order and never overtake their subscription, so the slot is free scratch.
      const ready = fdReadiness(view.getUint32(sub + 16, true), tag, events + written * SIZE.event);
      emit(i, tag, ready.errno, ready.nbytes, ready.hangup ? EVENT_FD_READWRITE_HANGUP : 0);
      continue;
    }
    const deadline = clockDeadline(view.getUint32(sub + 16, true), view.getBigUint64(sub + 24, true),
      view.getUint16(sub + 40, true), monotonicNow, monotonicOffset);
    deadlines.push(deadline);
    if (deadline === undefined) emit(i, tag, Errno.INVAL, 0n, 0);
    else if (earliest === undefined || deadline < earliest) earliest = deadline;
  }
  // Nothing ready yet: every subscription is a clock; sleep until the first one fires.
  if (written === 0 && earliest !== undefined) sleepUntil(earliest);
  const now = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const deadline = deadlines[i];
    if (deadline !== undefined && deadline <= now) emit(i, EventType.CLOCK, Errno.SUCCESS, 0n, 0);
  }
  view.setUint32(eventsWritten, written, true);
  return Errno.SUCCESS;
}

/**
 * The host's monotonic time a clock subscription fires at, or undefined when its clock cannot be waited
 * on. `monotonicOffset`: what the instance's monotonic clock is ahead of the host's (a restored instance).
 */
function clockDeadline(clock: number, timeout: bigint, flags: number, monotonicNow: bigint, monotonicOffset: bigint): bigint | undefined {
  if ((flags & SUBSCRIPTION_CLOCK_ABSTIME) === 0) {
    return clock === Clock.REALTIME || clock === Clock.MONOTONIC ? monotonicNow + timeout : undefined;
  }
  if (clock === Clock.MONOTONIC) return timeout - monotonicOffset;
  if (clock === Clock.REALTIME) return monotonicNow + (timeout - (clockNow(Clock.REALTIME) as bigint));
  return undefined;
}
