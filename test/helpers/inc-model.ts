// The model the durability fault tests check `inc(n)` sessions against: a call either resolved with the
// value right after it applied, exactly once, or rejected and never applied; each session's value
// follows from those outcomes alone, in submission order.

/** What the model needs of a session: its key and `inc` (a pool typed by its exports or not). */
export interface IncSession {
  readonly key: string;
  call(name: 'inc', n: number): Promise<unknown>;
}

/** How one call settled: its value, or its rejection's code. */
export type Settled = { readonly value: unknown } | { readonly code: string };

interface Tracked {
  readonly n: number;
  readonly settled: Promise<Settled>;
}

export class IncModel {
  /** Each session's value as its settled calls say (acknowledged calls only). */
  readonly #values = new Map<string, number>();
  /** Calls sent and not yet folded into `#values`, per session, in submission order. */
  readonly #pending = new Map<string, Tracked[]>();
  /** Every way an outcome broke the model. */
  readonly mismatches: string[] = [];
  /** Rejections seen, per code. */
  readonly rejections = new Map<string, number>();
  resolved = 0;

  constructor(readonly initial = 20) {}

  /** Starts tracking `key` at a value reached before the model looked (by calls it did not send). */
  assume(key: string, value: number): void {
    this.#values.set(key, value);
  }

  /** Calls `inc(n)` on `session` (through `calls` when given, e.g. `session.with(...)`) and tracks it; resolves once it settled. */
  send(session: IncSession, n: number, calls: Pick<IncSession, 'call'> = session): Promise<Settled> {
    const settled = calls.call('inc', n).then(
      (value): Settled => ({ value }),
      (error: { code?: unknown }): Settled => ({ code: String(error.code) }),
    );
    const queue = this.#pending.get(session.key) ?? [];
    queue.push({ n, settled });
    this.#pending.set(session.key, queue);
    return settled;
  }

  /** Waits for every call sent so far and checks each against the model. */
  async settle(): Promise<void> {
    while (this.#pending.size > 0) {
      const batches = [...this.#pending];
      this.#pending.clear();
      await Promise.all(batches.map(async ([key, calls]) => {
        let value = this.#values.get(key) ?? this.initial;
        for (const call of calls) {
          const outcome = await call.settled;
          if ('code' in outcome) {
            this.rejections.set(outcome.code, (this.rejections.get(outcome.code) ?? 0) + 1);
            continue;
          }
          this.resolved++;
          if (outcome.value !== value + call.n) {
            this.mismatches.push(`${key}: inc(${call.n}) after ${value} resolved ${String(outcome.value)}, expected ${value + call.n}`);
          }
          value = typeof outcome.value === 'number' ? outcome.value : value + call.n;
        }
        this.#values.set(key, value);
      }));
    }
  }

  /** The value `key` must have now (after {@link settle}). */
  valueOf(key: string): number {
    return this.#values.get(key) ?? this.initial;
  }

  /** The sessions the model has seen calls on. */
  keys(): string[] {
    return [...this.#values.keys()];
  }

  /** Settles, then reads every session with `inc(0)`: mismatches with the model are added to {@link mismatches}. */
  async verify(pool: { session(key: string): IncSession }): Promise<void> {
    await this.settle();
    await Promise.all(this.keys().map(async (key) => {
      const got = await pool.session(key).call('inc', 0).catch((error: { code?: unknown }) => `rejected ${String(error.code)}`);
      if (got !== this.valueOf(key)) this.mismatches.push(`${key}: inc(0) read ${String(got)}, expected ${this.valueOf(key)}`);
    }));
  }

  /** `ERR_X: 3, ERR_Y: 1` — for logs. */
  describeRejections(): string {
    return [...this.rejections].map(([code, count]) => `${code}: ${count}`).join(', ') || 'none';
  }
}
