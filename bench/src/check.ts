// Result checking for every scenario: each session (or thread) keeps the running total its reactor
// must have, every returned value is compared with it, and the first mismatch is kept for the report.

/** Expected running totals of numbered sessions, and what the checks found. */
export class RunningTotals {
  readonly #expected: Int32Array;
  #checked = 0;
  #wrong = 0;
  #firstWrong: string | undefined;

  /** `sessions` totals, each starting at `initial` (what `inc(0)` returns on a fresh instance). */
  constructor(sessions: number, readonly initial: number) {
    this.#expected = new Int32Array(sessions).fill(initial);
  }

  /** Number of sessions tracked. */
  get sessions(): number {
    return this.#expected.length;
  }

  /** Results compared so far. */
  get checked(): number {
    return this.#checked;
  }

  /** Results that did not match. */
  get wrong(): number {
    return this.#wrong;
  }

  /** True while no result has been wrong. */
  get ok(): boolean {
    return this.#wrong === 0;
  }

  /** The first mismatch, described, if any. */
  get firstWrong(): string | undefined {
    return this.#firstWrong;
  }

  /** The total `session` must have now. */
  expected(session: number): number {
    return this.#expected[session] as number;
  }

  /** Records a call of `inc(n)` on `session` and returns what it must return (i32 wrap-around, like wasm). */
  advance(session: number, n: number): number {
    const value = ((this.#expected[session] as number) + n) | 0;
    this.#expected[session] = value;
    return value;
  }

  /** Compares one result. */
  check(session: number, want: number, got: unknown): void {
    this.#checked++;
    if (got !== want) this.#mismatch(`session ${session}: expected ${want}, got ${String(got)}`);
  }

  /** Compares the results of a batch of calls whose arguments have running sums `prefix`, starting from `start`. */
  checkBatch(session: number, start: number, prefix: Int32Array, got: ArrayLike<number>): void {
    this.#checked += prefix.length;
    if (got.length !== prefix.length) {
      this.#mismatch(`session ${session}: expected ${prefix.length} results, got ${got.length}`);
      return;
    }
    for (let i = 0; i < prefix.length; i++) {
      if (got[i] !== ((start + (prefix[i] as number)) | 0)) {
        this.#mismatch(`session ${session}, batch item ${i}: expected ${(start + (prefix[i] as number)) | 0}, got ${String(got[i])}`);
        return;
      }
    }
  }

  /** Compares a session's final value (read with `inc(0)`) with its expected total. */
  checkFinal(session: number, got: unknown): void {
    this.check(session, this.expected(session), got);
  }

  /** Counts results checked elsewhere (e.g. by the Go host). */
  record(checked: number, wrong: string | undefined): void {
    this.#checked += checked;
    if (wrong !== undefined) this.#mismatch(wrong);
  }

  #mismatch(description: string): void {
    this.#wrong++;
    this.#firstWrong ??= description;
  }
}

/** Running sums of `args`: what a batch of `inc` calls returns, relative to the total before it. */
export function prefixSums(args: Int32Array): Int32Array {
  const sums = new Int32Array(args.length);
  let sum = 0;
  for (let i = 0; i < args.length; i++) {
    sum = (sum + (args[i] as number)) | 0;
    sums[i] = sum;
  }
  return sums;
}
