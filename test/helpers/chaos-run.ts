// Runs a chaos plan against real pools, round by round: every call of a round in one tick (one
// batch per worker, in submission order), then every outcome awaited; worker kills only between rounds.

import { join } from 'node:path';
import { ReactorPool, type Session, type WorkerFailedEvent } from '../../dist/src/index.js';
import {
  LONG_SLEEP_MS, MUTANT, PAGE_LIMIT, POOLS, RUNAWAY_TIMEOUT, countOutcomes, outcomeLine, rejectedOutcome, resolvedOutcome,
  type Mutation, type Plan, type PlannedCall, type PoolName,
} from './chaos-plan.js';
import { KITCHEN, fixture } from './fixtures.js';
import { terminateWorker } from './pool.js';

const HOSTILE_CHAOS = fixture('hostile-chaos.wasm');

export interface RunRecord {
  /** The worker each session was placed on. */
  readonly placement: readonly number[];
  /** One outcome line per operation, in plan order. */
  readonly lines: readonly string[];
  /** `sessionLost` events per session. */
  readonly losses: readonly number[];
  /** Each `sessionLost` event as `key<code of its cause`, in the order they came. */
  readonly lossCauses: readonly string[];
  /** Operations still pending once the last round settled (should be none). */
  readonly pendingAtEnd: number;
}

/** The one-line summary of a run: counts per outcome code, session losses per pool, worker kills. */
export function summarize(plan: Plan, lines: readonly string[], losses: readonly number[]): string {
  const kills = plan.rounds.filter((round) => round.kill !== undefined).length;
  const lossesPerPool: Record<PoolName, number> = { kitchen: 0, hostile: 0, careless: 0 };
  plan.sessions.forEach((session, index) => {
    lossesPerPool[session.pool] += losses[index] ?? 0;
  });
  return `${lines.length} operations in ${plan.rounds.length} rounds; outcomes ${JSON.stringify(countOutcomes(lines))}; ` +
    `session losses ${JSON.stringify(lossesPerPool)}; worker kills ${kills}`;
}

/** Runs `plan` on fresh pools; with `durableDir`, each pool is durable, in a directory of its own under it. */
export async function runChaos(plan: Plan, workers: number, durableDir?: string): Promise<RunRecord> {
  const created: ReactorPool[] = [];
  try {
    for (const pool of POOLS) {
      const options = { workers, stdout: 'ignore', stderr: 'ignore', maxRestarts: 1_000 } as const;
      const durable = durableDir === undefined ? options : { ...options, durability: { dir: join(durableDir, pool) } };
      created.push(await ReactorPool.create(pool === 'kitchen'
        ? { ...durable, module: KITCHEN, memoryLimit: PAGE_LIMIT * 65_536 }
        : { ...durable, module: HOSTILE_CHAOS }));
    }
    const [kitchen, hostile, careless] = created as [ReactorPool, ReactorPool, ReactorPool];
    return await runRounds(plan, { kitchen, hostile, careless });
  } finally {
    await Promise.all(created.map((pool) => pool.close()));
  }
}

async function runRounds(plan: Plan, pools: Readonly<Record<PoolName, ReactorPool>>): Promise<RunRecord> {
  const sessions = plan.sessions.map(({ pool, key }) => pools[pool].session(key));
  const losses = sessions.map(() => 0);
  const lossCauses: string[] = [];
  const indexOf = new Map(sessions.map((session, index) => [session.key, index]));
  for (const name of POOLS) {
    pools[name].on('sessionLost', ({ key, cause }) => {
      lossCauses.push(`${key}<${cause.code}`);
      const index = indexOf.get(key) ?? -1;
      losses[index] = (losses[index] ?? 0) + 1;
    });
  }
  const lines: string[] = [];
  for (const [r, round] of plan.rounds.entries()) {
    const outcomes: Promise<string>[] = [];
    for (const turn of round.turns) {
      const session = sessions[turn.session] as Session;
      if (session.lost && turn.resetIfLost) outcomes.push(outcomeOf(r, session.key, 'reset', session.reset()));
      for (const call of turn.calls) outcomes.push(outcomeOf(r, session.key, call, submit(session, call)));
    }
    lines.push(...await Promise.all(outcomes));
    if (round.kill !== undefined) await killWorker(pools[round.kill.pool], round.kill.worker);
  }
  const pendingAtEnd = POOLS.reduce((sum, name) => sum + pools[name].stats().pending, 0);
  return { placement: sessions.map((session) => session.workerId), lines, losses, lossCauses, pendingAtEnd };
}

function outcomeOf(round: number, key: string, call: PlannedCall | 'reset', settled: Promise<unknown>): Promise<string> {
  return settled.then(
    (value) => outcomeLine(round, key, call, resolvedOutcome(value)),
    (error: { code?: string; cause?: { code?: string } }) => outcomeLine(round, key, call, rejectedOutcome(String(error.code), error.cause?.code)),
  );
}

/** Makes the planned call; a careless caller changes its list or bytes right after it returns, before anything is sent. */
function submit(session: Session, call: PlannedCall): Promise<unknown> {
  const [first = 0, second = 0] = call.args;
  switch (call.kind) {
    case 'inc': return session.call('inc', first);
    case 'many': return callMany(session, call);
    case 'boom': return session.call('boom');
    case 'quit': return session.call('quit', first);
    case 'grow': return session.call('grow', first);
    case 'abort': {
      const controller = new AbortController();
      const settled = session.with({ signal: controller.signal }).call('inc', first);
      controller.abort();
      return settled;
    }
    case 'spin': return session.with({ timeout: RUNAWAY_TIMEOUT }).call('spin');
    case 'absorb': {
      const bytes = Uint8Array.from(call.args);
      const settled = session.call('absorb', bytes);
      mutate(bytes, call.mutation);
      return settled;
    }
    case 'raise': return session.call('raise', first);
    case 'closeFd': return session.call('close_fd', first);
    case 'renumber': return session.call('renumber', first, second);
    case 'nap': return session.call('sleep_ms', first);
    case 'sleep': return session.with({ timeout: RUNAWAY_TIMEOUT }).call('sleep_ms', LONG_SLEEP_MS);
  }
}

function callMany(session: Session, call: PlannedCall): Promise<unknown> {
  switch (call.form) {
    case 'typed': {
      const list = Int32Array.from(call.args);
      const settled = session.callMany('inc', list);
      mutate(list, call.mutation);
      return settled;
    }
    case 'tuples': {
      const list = call.args.map((n) => [n]);
      const settled = session.callMany('inc', list);
      if (call.mutation !== undefined) {
        (list[0] as number[])[0] = MUTANT;
        list.pop();
      }
      return settled;
    }
    default: {
      const list = [...call.args];
      const settled = session.callMany('inc', list);
      if (call.mutation !== undefined) {
        list[0] = MUTANT;
        list.push(MUTANT);
      }
      return settled;
    }
  }
}

/** Overwrites a typed array's values, or detaches its buffer (as transferring it to another thread would). */
function mutate(view: Uint8Array | Int32Array, mutation: Mutation | undefined): void {
  if (mutation === 'overwritten') view.fill(MUTANT);
  else if (mutation === 'detached') structuredClone(view.buffer, { transfer: [view.buffer] });
}

/** Terminates a worker thread as a crash would, and waits until the pool has applied the loss rule. */
async function killWorker(pool: ReactorPool, worker: number): Promise<void> {
  const failed = new Promise<void>((resolve) => {
    const onFailed = (event: WorkerFailedEvent): void => {
      if (event.workerId !== worker) return;
      pool.off('workerFailed', onFailed);
      resolve();
    };
    pool.on('workerFailed', onFailed);
  });
  await Promise.all([terminateWorker(pool, worker), failed]);
}
