// One clock reading per tick for the per-call metrics: the first reading of a run of synchronous code
// (and the microtasks queued before it) is reused by every later one, so a call costs a comparison.

let now = -1;
const expire = (): void => {
  now = -1;
};

/**
 * `performance.now()` as of the first reading since the last microtask checkpoint: calls made,
 * sent or settled together share one reading (precise to a tick, not to a call).
 */
export function tickNow(): number {
  if (now < 0) {
    now = performance.now();
    queueMicrotask(expire);
  }
  return now;
}

/** A {@link tickNow} reading as wall-clock milliseconds since the epoch. */
export function wallClockOf(reading: number): number {
  return performance.timeOrigin + reading;
}
