// The chaos test's model: from the plan alone, the exact outcome of every operation of a run, as
// the promises of the failure table and the batching of a round (one batch per worker) dictate.

import { placeKey } from '../../dist/src/placement.js';
import {
  GROW, INITIAL_PAGES, PAGE_LIMIT, isRunaway, outcomeLine, rejectedOutcome, resolvedOutcome,
  type Plan, type PlannedCall, type PlannedSession, type PoolName,
} from './chaos-plan.js';

/** WASI errnos: success, a descriptor that is not open, an operation the pool does not support. */
const ESUCCESS = 0;
const EBADF = 8;
const ENOTSUP = 58;

/** What one session holds, as the model sees it. */
interface SessionState {
  total: number;
  pages: number;
  /** Standard descriptors this instance has closed (per instance: a fresh one has all three). */
  closedFds: Set<number>;
  /** The code that lost the instance, until a reset. */
  lostBy: string | undefined;
  /** An operation of the current instance reached its worker: the worker holds an instance to lose. */
  opened: boolean;
}

/** An operation in a worker's batch (`open`: an aborted first call, which only creates the instance), and its outcome's index. */
interface BatchOp {
  readonly session: number;
  readonly call: PlannedCall | 'reset' | 'open';
  readonly line: number;
}

export interface Prediction {
  /** The worker each session is placed on. */
  readonly placement: readonly number[];
  /** One outcome line per operation, in plan order. */
  readonly lines: readonly string[];
  /** `sessionLost` events per session. */
  readonly losses: readonly number[];
}

/** Places each pool's sessions in plan order, as the pool does (rendezvous hashing with a load cap). */
export function placeSessions(sessions: readonly PlannedSession[], workers: number): number[] {
  const loads = new Map<PoolName, number[]>();
  return sessions.map((session) => {
    const load = loads.get(session.pool) ?? new Array<number>(workers).fill(0);
    loads.set(session.pool, load);
    const worker = placeKey(session.key, load);
    load[worker] = (load[worker] ?? 0) + 1;
    return worker;
  });
}

/**
 * The outcomes of `plan`. `durable`: the pools run with durability, where the recovery rule replaces
 * the loss rule: a call that loses its instance (an exit, a signal, a memory limit, a runaway call)
 * rejects with its own code and never applied; its session is rebuilt to just before it and carries
 * on; the other calls of a terminated worker's batch run as if it had not been there; a worker
 * killed between rounds loses nothing. No session is ever lost, so none is reset.
 */
export function predict(plan: Plan, workers: number, durable = false): Prediction {
  const placement = placeSessions(plan.sessions, workers);
  const states: SessionState[] = plan.sessions.map(() => fresh());
  const losses = plan.sessions.map(() => 0);
  const lines: string[] = [];
  const poolOf = (session: number): PoolName => (plan.sessions[session] as PlannedSession).pool;
  const lose = (session: number, code: string): void => {
    const state = states[session] as SessionState;
    if (state.lostBy !== undefined) return;
    state.lostBy = code;
    losses[session] = (losses[session] ?? 0) + 1;
  };
  /** Every session with an instance on the worker is lost, idle ones included. */
  const loseWorker = (worker: string, code: string): void => {
    states.forEach((state, session) => {
      if (state.opened && workerOf(session) === worker) lose(session, code);
    });
  };
  const workerOf = (session: number): string => `${poolOf(session)}/${placement[session]}`;

  plan.rounds.forEach((round, r) => {
    const outcomes: (string | undefined)[] = [];
    const labels: [session: number, call: PlannedCall | 'reset'][] = [];
    const operation = (session: number, call: PlannedCall | 'reset', outcome?: string): number => {
      labels.push([session, call]);
      return outcomes.push(outcome) - 1;
    };
    // Submission: all in one tick. Calls of a lost session and aborts settle at once; the rest
    // join their worker's batch in submission order.
    const batches = new Map<string, BatchOp[]>();
    const join = (session: number, call: BatchOp['call'], line: number): void => {
      const batch = batches.get(workerOf(session)) ?? [];
      batch.push({ session, call, line });
      batches.set(workerOf(session), batch);
      (states[session] as SessionState).opened = true;
    };
    for (const turn of round.turns) {
      if ((states[turn.session] as SessionState).lostBy !== undefined && turn.resetIfLost) {
        states[turn.session] = fresh();
        join(turn.session, 'reset', operation(turn.session, 'reset'));
      }
      for (const call of turn.calls) {
        const state = states[turn.session] as SessionState;
        if (state.lostBy !== undefined) {
          operation(turn.session, call, rejectedOutcome('ERR_SESSION_LOST', state.lostBy));
        } else if (call.kind === 'abort') {
          operation(turn.session, call, 'ERR_ABORTED');
          // An aborted first call still creates the instance: calls behind it count on that.
          if (!state.opened) join(turn.session, 'open', -1);
        } else {
          join(turn.session, call, operation(turn.session, call));
        }
      }
    }

    // Execution: each worker runs its batch in order, unless a runaway call in it gets the thread terminated.
    for (const [worker, batch] of batches) {
      const ran = runBatch(batch, states, durable);
      if ('outcomes' in ran) {
        for (const [line, outcome] of ran.outcomes) outcomes[line] = outcome;
        for (const [session, after] of ran.states) {
          // Every session in a batch was live when it joined: `lose` records a loss once, counting its event.
          const lostBy = after.lostBy;
          states[session] = { ...after, lostBy: undefined };
          if (lostBy !== undefined) lose(session, lostBy);
        }
        continue;
      }
      // The batch's results never come back (not even those of the calls before the runaway one):
      // the runaway call times out, its session's other operations carry that loss, every other
      // operation in the batch fails with the worker.
      const culprit = ran.runaway;
      lose(culprit.session, 'ERR_CALL_TIMEOUT');
      for (const op of batch) {
        if (op.call === 'open') continue;
        outcomes[op.line] = op === culprit ? 'ERR_CALL_TIMEOUT'
          : op.session === culprit.session ? rejectedOutcome('ERR_SESSION_LOST', 'ERR_CALL_TIMEOUT')
          : 'ERR_WORKER_FAILED';
      }
      loseWorker(worker, 'ERR_WORKER_FAILED');
    }
    if (round.kill !== undefined && !durable) loseWorker(`${round.kill.pool}/${round.kill.worker}`, 'ERR_WORKER_FAILED');
    labels.forEach(([session, call], line) => {
      lines.push(outcomeLine(r, (plan.sessions[session] as PlannedSession).key, call, outcomes[line] ?? 'never settled'));
    });
  });
  return { placement, lines, losses };
}

/**
 * Runs a batch in order on copies of its sessions' states: each operation's outcome and the states
 * after, or the first runaway call that actually runs (one behind a loss of its session never does).
 * `durable`: a call that loses its instance leaves its session's state as it was before it, and a
 * runaway call times out alone.
 */
function runBatch(batch: readonly BatchOp[], states: readonly SessionState[], durable: boolean):
  { outcomes: Map<number, string>; states: Map<number, SessionState> } | { runaway: BatchOp } {
  const after = new Map<number, SessionState>();
  const outcomes = new Map<number, string>();
  for (const op of batch) {
    let state = after.get(op.session);
    if (state === undefined) {
      const before = states[op.session] as SessionState;
      state = { ...before, closedFds: new Set(before.closedFds) };
      after.set(op.session, state);
    }
    if (op.call === 'open') continue;
    if (op.call === 'reset') {
      outcomes.set(op.line, resolvedOutcome(undefined));
    } else if (state.lostBy !== undefined) {
      outcomes.set(op.line, rejectedOutcome('ERR_SESSION_LOST', state.lostBy));
    } else if (isRunaway(op.call.kind)) {
      if (!durable) return { runaway: op };
      outcomes.set(op.line, 'ERR_CALL_TIMEOUT');
    } else if (durable) {
      const before = { ...state, closedFds: new Set(state.closedFds) };
      outcomes.set(op.line, run(state, op.call));
      if (state.lostBy !== undefined) after.set(op.session, before);
    } else {
      outcomes.set(op.line, run(state, op.call));
    }
  }
  return { outcomes, states: after };
}

function fresh(): SessionState {
  return { total: 20, pages: INITIAL_PAGES, closedFds: new Set(), lostBy: undefined, opened: false };
}

/** Runs one call on a live instance: its outcome; `state` becomes the instance's state after it. */
function run(state: SessionState, call: PlannedCall): string {
  const [first = 0, second = 0] = call.args;
  switch (call.kind) {
    case 'inc':
      state.total += first;
      return resolvedOutcome(state.total);
    case 'many': {
      const results = call.args.map((n) => (state.total += n));
      return resolvedOutcome(call.form === 'typed' ? Int32Array.from(results) : results);
    }
    case 'absorb':
      for (const byte of call.args) state.total += byte;
      return resolvedOutcome(state.total);
    case 'boom':
      state.total += 1000; // its write before the trap persists (onTrap 'keep')
      return 'ERR_REACTOR_TRAP';
    case 'quit':
      return (state.lostBy = 'ERR_REACTOR_EXIT');
    case 'raise':
      return (state.lostBy = 'ERR_REACTOR_SIGNAL');
    case 'grow':
      if (state.pages + GROW > PAGE_LIMIT) return (state.lostBy = 'ERR_MEMORY_LIMIT');
      state.pages += GROW;
      return resolvedOutcome(state.pages - GROW); // the size before
    case 'closeFd': {
      if (first > 2 || state.closedFds.has(first)) return resolvedOutcome(EBADF);
      state.closedFds.add(first);
      return resolvedOutcome(ESUCCESS);
    }
    case 'renumber': {
      // The plan renumbers a standard descriptor to or from one no instance has (no preopens): a
      // standard descriptor this instance closed is EBADF; an open one cannot be moved (no real descriptor behind it).
      const stdio = Math.min(first, second);
      if (stdio > 2 || Math.max(first, second) < 3) throw new RangeError(`unplanned renumber(${first}, ${second})`);
      return resolvedOutcome(state.closedFds.has(stdio) ? EBADF : ENOTSUP);
    }
    case 'nap':
      return resolvedOutcome(ESUCCESS);
    case 'abort': case 'spin': case 'sleep':
      throw new RangeError(`${call.kind} does not run to an outcome`);
  }
}
