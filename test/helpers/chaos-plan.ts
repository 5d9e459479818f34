// The chaos test's plan: every session, every round, every call and every worker kill, drawn from
// one seed before anything runs, and the one way an outcome is written down (by the run and the model).

import { seeded } from '../../dist/src/seeded-random.js';

/**
 * `kitchen`: kitchen.wasm under every fault; `hostile`: hostile-chaos.wasm's hostile calls;
 * `careless`: callers that overwrite or detach their lists and bytes right after each call
 * (hostile-chaos.wasm's harmless exports), in a pool of their own so that the other two pools show
 * the promises that hold today whatever the argument handling does.
 */
export type PoolName = 'kitchen' | 'hostile' | 'careless';
export const POOLS: readonly PoolName[] = ['kitchen', 'hostile', 'careless'];

/** Calls on kitchen.wasm, then on hostile-chaos.wasm. `spin` and `sleep` are the runaway calls. */
export type CallKind =
  | 'inc' | 'many' | 'boom' | 'quit' | 'grow' | 'abort' | 'spin'
  | 'absorb' | 'raise' | 'closeFd' | 'renumber' | 'nap' | 'sleep';

/** How a `many` call hands its list to `callMany`. */
export type ListForm = 'typed' | 'values' | 'tuples';

/** What a careless caller does to its list or bytes right after the call returns (same tick). */
export type Mutation = 'overwritten' | 'detached';

export interface PlannedCall {
  readonly kind: CallKind;
  /** The arguments as they are at call time (for `absorb`, the bytes). */
  readonly args: readonly number[];
  /** For `many`: the form of the list. */
  readonly form?: ListForm;
  readonly mutation?: Mutation;
}

export interface PlannedSession {
  readonly pool: PoolName;
  readonly key: string;
}

/** One session's part of a round: a `reset()` first if its session is lost (and `resetIfLost`), then its calls. */
export interface Turn {
  readonly session: number;
  readonly resetIfLost: boolean;
  readonly calls: readonly PlannedCall[];
}

/** A worker thread terminated after a round settled, before the next one starts. */
export interface WorkerKill {
  readonly pool: PoolName;
  readonly worker: number;
}

export interface Round {
  /** In submission order: this is the order of each worker's batch. */
  readonly turns: readonly Turn[];
  readonly kill?: WorkerKill;
}

/** A round while the plan is drawn. */
interface DraftRound {
  turns: Turn[];
  kill?: WorkerKill;
}

export interface Plan {
  readonly seed: number;
  readonly sessions: readonly PlannedSession[];
  readonly rounds: readonly Round[];
}

export interface ChaosShape {
  /** Sessions per pool. */
  readonly sessions: Readonly<Record<PoolName, number>>;
  /** At least 3: the opening round, one or more rounds where anything goes, the final read. */
  readonly rounds: number;
  readonly workers: number;
  /** Whether the hostile calls (signals, stdio descriptors, sleeps) are planned (off: the other faults alone). */
  readonly hostile: boolean;
}

export const INITIAL_PAGES = 2;
export const PAGE_LIMIT = 16;
/** Pages each `grow` adds: the third growth of a fresh instance crosses {@link PAGE_LIMIT}. */
export const GROW = 5;
/** The per-call timeout of the runaway calls (no other call has one). */
export const RUNAWAY_TIMEOUT = 25;
/** What `sleep` asks for: far past its timeout, so only the timeout can end it. */
export const LONG_SLEEP_MS = 60_000;
/** What an overwriting caller writes over its list's values or bytes. */
export const MUTANT = 100;

type Weights = readonly (readonly [CallKind, number])[];
const KITCHEN_CALLS: Weights = [['inc', 0.62], ['many', 0.12], ['boom', 0.04], ['quit', 0.03], ['grow', 0.12], ['abort', 0.06], ['spin', 0.005]];
const HOSTILE_CALLS: Weights = [['inc', 0.43], ['absorb', 0.25], ['raise', 0.04], ['closeFd', 0.1], ['renumber', 0.06], ['nap', 0.08], ['sleep', 0.008]];
const BENIGN_CALLS: Weights = [['inc', 0.6], ['absorb', 0.4]];
const CARELESS_CALLS: Weights = [['inc', 0.2], ['many', 0.4], ['absorb', 0.4]];
const RUNAWAY: ReadonlySet<CallKind> = new Set(['spin', 'sleep']);
/** Signals a reactor raises: each would kill, stop or inspect the host process if it got through. */
const SIGNALS = [2, 9, 10, 15] as const;
/** Chance that a round is followed by a worker kill. */
const KILL_CHANCE = 0.12;

export function isRunaway(kind: CallKind): boolean {
  return RUNAWAY.has(kind);
}

/** Draws the whole run from `seed`. */
export function planChaos(seed: number, shape: ChaosShape): Plan {
  if (!Number.isInteger(shape.rounds) || shape.rounds < 3) throw new RangeError(`a chaos run needs at least 3 rounds, got ${shape.rounds}`);
  const next = seeded(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const sessions = POOLS.flatMap((pool) => Array.from({ length: shape.sessions[pool] }, (_, i): PlannedSession => ({ pool, key: `${pool}-${i}` })));
  const weightsOf: Record<PoolName, Weights> = { kitchen: KITCHEN_CALLS, hostile: shape.hostile ? HOSTILE_CALLS : BENIGN_CALLS, careless: CARELESS_CALLS };

  const draw = (session: PlannedSession, allowRunaway: boolean): PlannedCall => {
    const weights = weightsOf[session.pool];
    let roll = next() * weights.reduce((sum, [, weight]) => sum + weight, 0);
    let kind: CallKind = 'inc';
    for (const [candidate, weight] of weights) {
      roll -= weight;
      if (roll < 0) {
        kind = candidate;
        break;
      }
    }
    if (isRunaway(kind) && !allowRunaway) kind = 'inc';
    const call = makeCall(kind, next, pick);
    if (session.pool !== 'careless' || (kind !== 'many' && kind !== 'absorb')) return call;
    // A plain array has no buffer to detach.
    return { ...call, mutation: call.form === 'values' || call.form === 'tuples' ? 'overwritten' : pick(['overwritten', 'detached'] as const) };
  };

  const rounds: DraftRound[] = [];
  const indexes = sessions.map((_, index) => index);
  for (let r = 0; r < shape.rounds - 1; r++) {
    const turns: Turn[] = [];
    for (const index of shuffled(indexes, next)) {
      const count = pick([0, 1, 1, 1, 2, 2, 3, 3]);
      const calls = Array.from({ length: count }, () => draw(sessions[index] as PlannedSession, r > 0));
      turns.push({ session: index, resetIfLost: next() < 0.75, calls });
    }
    const kill: WorkerKill | undefined = r < shape.rounds - 2 && next() < KILL_CHANCE
      ? { pool: pick(['kitchen', 'kitchen', 'hostile', 'careless'] as const), worker: Math.floor(next() * shape.workers) }
      : undefined;
    rounds.push(kill === undefined ? { turns } : { turns, kill });
  }
  openWithEveryFault(rounds[0] as DraftRound, sessions, shape.hostile);
  addSureRunaways(rounds, sessions, shape, next, pick);
  if (!rounds.some((round) => round.kill !== undefined)) {
    const round = rounds[Math.floor(next() * (rounds.length - 1))] as DraftRound;
    round.kill = { pool: 'kitchen', worker: Math.floor(next() * shape.workers) };
  }
  // The final read: every session, reset if lost, reports its state.
  rounds.push({ turns: indexes.map((session) => ({ session, resetIfLost: true, calls: [{ kind: 'inc', args: [0] }] })) });
  return { seed, sessions, rounds };
}

function makeCall(kind: CallKind, next: () => number, pick: <T>(items: readonly T[]) => T): PlannedCall {
  const small = (): number => 1 + Math.floor(next() * 9);
  switch (kind) {
    case 'inc': case 'abort': return { kind, args: [small()] };
    case 'many': return { kind, args: [small(), small(), small()], form: pick(['typed', 'values', 'tuples'] as const) };
    case 'quit': return { kind, args: [Math.floor(next() * 4)] };
    case 'grow': return { kind, args: [GROW] };
    case 'absorb': return { kind, args: Array.from({ length: small() }, () => Math.floor(next() * 256)) };
    case 'raise': return { kind, args: [pick(SIGNALS)] };
    case 'closeFd': return { kind, args: [Math.floor(next() * 4)] };
    // One side is a standard descriptor (0-2), the other a number no instance has open (no preopens).
    case 'renumber': {
      const stdio = Math.floor(next() * 3);
      const absent = 3 + Math.floor(next() * 3);
      return { kind, args: next() < 0.5 ? [stdio, absent] : [absent, stdio] };
    }
    case 'nap': return { kind, args: [1] };
    case 'sleep': return { kind, args: [LONG_SLEEP_MS] };
    case 'boom': case 'spin': return { kind, args: [] };
  }
}

/**
 * Round 0 has no runaway call, so each of these bursts meets exactly the fault it injects: every
 * run sees a trap, an exit, a memory limit crossed, an abort, a call on a lost instance (and the
 * hostile ones), whatever the seed.
 */
function openWithEveryFault(round: DraftRound, sessions: readonly PlannedSession[], hostile: boolean): void {
  const call = (kind: CallKind, args: readonly number[]): PlannedCall => ({ kind, args });
  const bursts: Record<PoolName, PlannedCall[][]> = {
    kitchen: [
      [call('boom', []), call('inc', [1])],
      [call('quit', [3]), call('inc', [1])],
      [call('grow', [GROW]), call('grow', [GROW]), call('grow', [GROW]), call('inc', [1])],
      [call('abort', [1]), call('inc', [2])],
    ],
    hostile: hostile
      ? [
        [call('raise', [9]), call('inc', [1])],
        [call('raise', [10]), call('inc', [1])],
        [call('closeFd', [2]), call('closeFd', [2]), call('closeFd', [1]), call('inc', [1])],
        [call('renumber', [3, 1]), call('nap', [1]), call('inc', [1])],
      ]
      : [],
    careless: [],
  };
  for (const pool of POOLS) {
    const wanted = bursts[pool];
    round.turns = round.turns.map((turn) => {
      const session = sessions[turn.session] as PlannedSession;
      if (session.pool !== pool || wanted.length === 0) return turn;
      return { ...turn, calls: wanted.shift() as PlannedCall[] };
    });
  }
}

/**
 * One runaway call per pool that has one, sure to time out whatever else the seed drew: first in
 * its session's turn, on a session reset first if it is lost. (If another runaway call runs before it
 * on the same worker, that one times out instead.)
 */
function addSureRunaways(
  rounds: DraftRound[], sessions: readonly PlannedSession[], shape: ChaosShape, next: () => number,
  pick: <T>(items: readonly T[]) => T,
): void {
  const pools: [PoolName, CallKind][] = [];
  if (shape.sessions.kitchen > 0) pools.push(['kitchen', 'spin']);
  if (shape.hostile && shape.sessions.hostile > 0) pools.push(['hostile', 'sleep']);
  for (const [pool, kind] of pools) {
    const round = rounds[1 + Math.floor(next() * (rounds.length - 1))] as DraftRound;
    const chosen = pick(round.turns.filter((turn) => (sessions[turn.session] as PlannedSession).pool === pool));
    round.turns = round.turns.map((turn) => turn === chosen
      ? { ...turn, resetIfLost: true, calls: [makeCall(kind, next, pick), ...turn.calls] }
      : turn);
  }
}

function shuffled<T>(items: readonly T[], next: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** How a call is named in an outcome line: `inc(3)`, `many:typed(1,2,3)`, `absorb(7,8) then detached`. */
export function describeCall(call: PlannedCall | 'reset'): string {
  if (call === 'reset') return 'reset()';
  const form = call.form === undefined ? '' : `:${call.form}`;
  return `${call.kind}${form}(${call.args.join(',')})${call.mutation === undefined ? '' : ` then ${call.mutation}`}`;
}

/** One line per operation: `round 3 kitchen-17 inc(3) -> ok 42`. */
export function outcomeLine(round: number, key: string, call: PlannedCall | 'reset', outcome: string): string {
  return `round ${round} ${key} ${describeCall(call)} -> ${outcome}`;
}

/** A resolved value as an outcome: `ok 42`, `ok Int32Array[21,22,23]`, `ok [21,22]`, `ok undefined`. */
export function resolvedOutcome(value: unknown): string {
  if (value instanceof Int32Array) return `ok Int32Array[${value.join(',')}]`;
  if (Array.isArray(value)) return `ok [${value.join(',')}]`;
  return `ok ${String(value)}`;
}

/** A rejection as an outcome: its code, and for a lost session the code of the loss: `ERR_SESSION_LOST<ERR_REACTOR_EXIT`. */
export function rejectedOutcome(code: string, causeCode?: string): string {
  return code === 'ERR_SESSION_LOST' ? `${code}<${causeCode ?? 'none'}` : code;
}

/** Counts per outcome code (`ok` for resolved calls) over outcome lines. */
export function countOutcomes(lines: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of lines) {
    const outcome = line.slice(line.indexOf(' -> ') + 4);
    const code = outcome.startsWith('ok') ? 'ok' : outcome.split('<')[0] as string;
    counts[code] = (counts[code] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}
