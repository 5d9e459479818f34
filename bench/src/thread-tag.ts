// Packs a worker thread's id and an i32 result into one number, so the naive piscina baseline
// still returns a single number per task while the main thread can check each thread's total.

const THREAD_UNIT = 2 ** 32;

/** `threadId · 2³² + (value as u32)`: exact while `threadId < 2²⁰`. */
export function tagWithThread(threadId: number, value: number): number {
  return threadId * THREAD_UNIT + (value >>> 0);
}

/** The inverse of {@link tagWithThread}: the thread id and the i32 value. */
export function untagThread(tagged: number): { readonly threadId: number; readonly value: number } {
  const threadId = Math.floor(tagged / THREAD_UNIT);
  return { threadId, value: (tagged - threadId * THREAD_UNIT) | 0 };
}
