// The recovery scenario's sessions and calls, shared by the child that makes them and the parent that
// checks each recovered value: session `i` is `recover-<i>`; its call `k` is `inc(recoveryArg(i, k))`.

/** Calls each session makes before the kill. */
export const RECOVERY_CALLS_PER_SESSION = 3;

export function recoveryKey(session: number): string {
  return `recover-${session}`;
}

/** The argument of call `k` of session `session`: 1 to 9. */
export function recoveryArg(session: number, k: number): number {
  return 1 + ((session * 7 + k * 3) % 9);
}
