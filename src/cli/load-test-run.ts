// The measuring part of the load test: a fixed number of lanes, each making one call at a time on the
// sessions in turn, until the bound is reached or the pool stops; latencies in a histogram, failures by code.

import { performance } from 'node:perf_hooks';
import { ReactorPoolError } from '../errors.js';
import type { PoolFailedEvent, ReactorPool } from '../pool.js';
import type { Session } from '../session.js';
import type { CallSpec } from './arguments.js';
import { LatencyHistogram } from '../latency-histogram.js';

/** Codes after which the pool takes no more calls: the run stops making them instead of counting rejections. */
const POOL_STOPPED: ReadonlySet<string> = new Set(['ERR_POOL_CLOSED', 'ERR_RESTART_LIMIT']);

/** What to run: the calls each session cycles through, how many at once, and until when. */
export interface LoadPlan {
  readonly calls: readonly CallSpec[];
  readonly sessions: number;
  readonly concurrency: number;
  /** Stop making calls after this long (calls in flight then finish); undefined: no time bound. */
  readonly durationSeconds: number | undefined;
  /** Stop after this many calls; undefined: no count bound. */
  readonly totalCalls: number | undefined;
}

/** Where the run is, as progress reports it once a second. */
export interface LoadProgress {
  readonly seconds: number;
  readonly made: number;
  readonly failed: number;
}

/** Failed calls of one error code, with the first message seen as an example. */
export interface ErrorTally {
  count: number;
  readonly example: string;
}

/** Why the run stopped before its bound: the pool stopped (its `failed` event, or calls refused as closed). */
export interface PoolStop {
  readonly code: string;
  readonly message: string;
}

/** What a run measured. */
export interface LoadOutcome {
  readonly seconds: number;
  /** Calls made (each either succeeded or failed). */
  readonly calls: number;
  /** Latencies of the calls that succeeded. */
  readonly latency: LatencyHistogram;
  readonly errors: ReadonlyMap<string, ErrorTally>;
  readonly stoppedBy: PoolStop | undefined;
}

/** Hands out the next call: sessions in turn, each session's calls cycling through the `--call` list. */
class CallPlan {
  #made = 0;
  #stopped = false;
  readonly #turn: number[];

  constructor(
    private readonly sessions: readonly Session[],
    private readonly calls: readonly CallSpec[],
    private readonly more: (made: number) => boolean,
  ) {
    this.#turn = new Array<number>(sessions.length).fill(0);
  }

  get made(): number {
    return this.#made;
  }

  /** Makes no more calls. */
  stop(): void {
    this.#stopped = true;
  }

  next(): { session: Session; call: CallSpec } | undefined {
    if (this.#stopped || !this.more(this.#made)) return undefined;
    const s = this.#made++ % this.sessions.length;
    const turn = this.#turn[s] as number;
    this.#turn[s] = turn + 1;
    return { session: this.sessions[s] as Session, call: this.calls[turn % this.calls.length] as CallSpec };
  }
}

/**
 * Runs `plan` on `pool` (sessions `load-0`, `load-1`, ...). A failed call is counted and the run goes on;
 * once the pool stops (its `failed` event) no more calls are made, those in flight settle, and the
 * outcome says why. `onProgress` is told where the run is once a second.
 */
export async function runLoad(pool: ReactorPool, plan: LoadPlan, onProgress: (progress: LoadProgress) => void): Promise<LoadOutcome> {
  const sessions = Array.from({ length: plan.sessions }, (_, i) => pool.session(`load-${i}`));
  const latency = new LatencyHistogram();
  const errors = new Map<string, ErrorTally>();
  const started = performance.now();
  const deadline = plan.durationSeconds === undefined ? Number.POSITIVE_INFINITY : started + plan.durationSeconds * 1000;
  const limit = plan.totalCalls ?? Number.POSITIVE_INFINITY;
  const calls = new CallPlan(sessions, plan.calls, (made) => made < limit && performance.now() < deadline);
  let stoppedBy: PoolStop | undefined;
  const stop = (cause: ReactorPoolError): void => {
    stoppedBy ??= { code: cause.code, message: cause.message };
    calls.stop();
  };
  const onFailed = ({ cause }: PoolFailedEvent): void => stop(cause);
  pool.on('failed', onFailed);

  const lane = async (): Promise<void> => {
    for (let job = calls.next(); job !== undefined; job = calls.next()) {
      const sent = performance.now();
      try {
        const { name, args, result } = job.call;
        await (result === 'value' ? job.session : job.session.with({ result })).call(name, ...args);
        latency.record(performance.now() - sent);
      } catch (error) {
        tally(errors, error);
        // A closed pool refuses every call at once: stop rather than count a flood of refusals.
        if (error instanceof ReactorPoolError && POOL_STOPPED.has(error.code)) stop(poolCause(error));
      }
    }
  };
  const progress = setInterval(() => {
    onProgress({ seconds: (performance.now() - started) / 1000, made: calls.made, failed: failures(errors) });
  }, 1000);
  try {
    await Promise.all(Array.from({ length: plan.concurrency }, lane));
  } finally {
    clearInterval(progress);
    pool.off('failed', onFailed);
  }
  return { seconds: (performance.now() - started) / 1000, calls: calls.made, latency, errors, stoppedBy };
}

/** What stopped the pool: a call refused as closed carries the pool's own failure as its cause. */
function poolCause(error: ReactorPoolError): ReactorPoolError {
  return error.code === 'ERR_POOL_CLOSED' && error.cause instanceof ReactorPoolError ? error.cause : error;
}

/** Counts a failed call under its code. */
function tally(errors: Map<string, ErrorTally>, error: unknown): void {
  const code = error instanceof ReactorPoolError ? error.code : 'ERR_INTERNAL';
  const seen = errors.get(code);
  if (seen === undefined) errors.set(code, { count: 1, example: error instanceof Error ? error.message : String(error) });
  else seen.count++;
}

/** Failed calls, over all codes. */
export function failures(errors: ReadonlyMap<string, ErrorTally>): number {
  let count = 0;
  for (const { count: n } of errors.values()) count += n;
  return count;
}
