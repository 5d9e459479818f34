// How many seeded cases the property, fuzz and chaos runs try: all of them by default, fewer with
// REACTOR_POOL_TEST_DEPTH=quick (CI's passes on the other Node.js lines: every test still runs).

/** `full`: every case the suite was written with; `quick`: fewer cases of each property, same tests. */
export type TestDepth = 'full' | 'quick';

/** Reads a `REACTOR_POOL_TEST_DEPTH` value: unset or empty is `full`; anything else but `full`/`quick` throws. */
export function parseTestDepth(value: string | undefined): TestDepth {
  if (value === undefined || value === '' || value === 'full') return 'full';
  if (value === 'quick') return 'quick';
  throw new RangeError(`REACTOR_POOL_TEST_DEPTH must be \`full\` or \`quick\`, got \`${value}\` (string)`);
}

/** This run's depth, from the environment. */
export const TEST_DEPTH: TestDepth = parseTestDepth(process.env['REACTOR_POOL_TEST_DEPTH']);

/**
 * A count of cases (fast-check `numRuns`, chaos rounds, cuts) at this run's depth: `full` as it is,
 * at quick depth `quick`, which defaults to a fifth of `full` (at least 1). With a fixed seed, a
 * quick run checks the first cases a full run checks.
 *
 * @example fc.assert(property, { seed: SEED, numRuns: depth(500) })
 * @example const ROUNDS = Number(process.env['CHAOS_ROUNDS'] ?? depth(24, 8))
 */
export function depth(full: number, quick: number = Math.max(1, Math.ceil(full / 5))): number {
  for (const [name, n] of [['full', full], ['quick', quick]] as const) {
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`depth(): \`${name}\` must be a positive integer, got \`${String(n)}\` (${typeof n})`);
  }
  return TEST_DEPTH === 'quick' ? Math.min(quick, full) : full;
}
