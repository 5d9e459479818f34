// The cluster chaos test's model: the client child's record (every call in the order each session made
// it, what its acknowledgement said or how it failed) and each session's final value read through a
// fresh client, checked against the promises: every acknowledged call applied exactly once, in order;
// every unacknowledged one once or not at all. A session's k-th call adds a distinct power of two
// (see cluster-client-child.mjs), so the bits of a difference say which unacknowledged calls applied.

/** What `inc(0)` returns on a fresh instance of the reference reactor. */
export const INITIAL = 20;

/** One call the client child made. Times are milliseconds on the machine's monotonic clock. */
export interface ClusterCall {
  readonly session: string;
  readonly id: string;
  readonly n: number;
  readonly partition: number;
  readonly sentAt: number;
  acked?: number;
  ackedAt?: number;
  failed?: string;
  failedAt?: number;
}

export interface ClientRecord {
  /** Every call, in the order the child sent them. */
  readonly calls: readonly ClusterCall[];
  /** Whether the child recorded `done` (it stopped issuing and every call had settled). */
  readonly done: boolean;
  /** Lines that make no sense (settled before sent, twice, or not a record line). */
  readonly problems: readonly string[];
}

/** Parses the record file's text; a last line without its newline (cut short) is left out. */
export function parseClientRecord(text: string): ClientRecord {
  const lines = text.split('\n');
  lines.pop();
  const calls: ClusterCall[] = [];
  const byId = new Map<string, ClusterCall>();
  const problems: string[] = [];
  let done = false;
  for (const line of lines) {
    const fields = line.split(' ');
    const [what = '', session = '', id = '', third = ''] = fields;
    const at = Number(fields.at(-1));
    if (what === 'sent' && fields.length === 6) {
      const call: ClusterCall = { session, id, n: Number(third), partition: Number(fields[4]), sentAt: at };
      if (byId.has(id)) problems.push(`sent twice: ${line}`);
      calls.push(call);
      byId.set(id, call);
    } else if ((what === 'ack' || what === 'fail') && fields.length === 5) {
      const call = byId.get(id);
      if (call === undefined || call.session !== session) problems.push(`settled before it was sent: ${line}`);
      else if (call.acked !== undefined || call.failed !== undefined) problems.push(`settled twice: ${line}`);
      else if (what === 'ack') {
        call.acked = Number(third);
        call.ackedAt = at;
      } else {
        call.failed = third;
        call.failedAt = at;
      }
    } else if (what === 'done' && fields.length === 2) {
      done = true;
    } else {
      problems.push(`not a record line: ${line}`);
    }
  }
  return { calls, done, problems };
}

/** Each session's calls, in the order it made them (one in flight per session: its order of execution). */
export function bySession(calls: readonly ClusterCall[]): Map<string, ClusterCall[]> {
  const sessions = new Map<string, ClusterCall[]>();
  for (const call of calls) {
    const list = sessions.get(call.session);
    if (list === undefined) sessions.set(call.session, [call]);
    else list.push(call);
  }
  return sessions;
}

/** What the model found, in counts; `mismatches` lists every broken promise (empty when none was). */
export interface ModelVerdict {
  readonly mismatches: readonly string[];
  readonly sessions: number;
  readonly calls: number;
  readonly acknowledged: number;
  readonly unacknowledged: number;
  /** Unacknowledged calls that applied (once), and that did not. */
  readonly unacknowledgedApplied: number;
  readonly unacknowledgedNotApplied: number;
  /** Unacknowledged calls whose increments repeat within one gap between acknowledgements (not decodable). */
  readonly undecided: number;
  /** Rejections per code. */
  readonly failures: Readonly<Record<string, number>>;
}

/** An i32 sum as the reactor computes it (wrapping). */
function wrap(value: number): number {
  return value | 0;
}

/**
 * Which of `pending` (unacknowledged calls, each adding a distinct power of two) make up the unsigned
 * difference `difference`: the applied ones, or a description of why no subset applied once can.
 */
function decode(difference: number, pending: readonly ClusterCall[]): { applied: number } | { wrong: string } | { undecided: true } {
  let mask = 0;
  for (const call of pending) {
    if ((mask & call.n) !== 0) return { undecided: true };
    mask |= call.n;
  }
  const outside = (difference & ~mask) >>> 0;
  if (outside !== 0) {
    const known = pending.map((call) => `${call.id}(+${call.n})`).join(', ') || 'none';
    return { wrong: `differs by ${difference | 0} (bits 0x${outside.toString(16)} match no unacknowledged call; unacknowledged since: ${known}): a call applied twice or an acknowledged one lost` };
  }
  let applied = 0;
  for (const call of pending) if ((difference & call.n) !== 0) applied++;
  return { applied };
}

/**
 * Checks every session's record and final value (`finals[session]`: its `inc(0)` through a fresh
 * client, or a rejection's code) against the model.
 */
export function checkModel(record: ClientRecord, finals: Readonly<Record<string, number | string>>): ModelVerdict {
  const mismatches: string[] = [];
  const failures: Record<string, number> = {};
  let acknowledged = 0;
  let unacknowledged = 0;
  let applied = 0;
  let undecided = 0;
  const sessions = bySession(record.calls);
  const judge = (session: string, what: string, difference: number, pending: readonly ClusterCall[]): void => {
    const outcome = decode(difference >>> 0, pending);
    if ('wrong' in outcome) mismatches.push(`${session} ${what}: ${outcome.wrong}`);
    else if ('undecided' in outcome) undecided += pending.length;
    else applied += outcome.applied;
  };
  for (const [session, calls] of sessions) {
    let value = INITIAL;
    let pending: ClusterCall[] = [];
    for (const call of calls) {
      if (call.acked === undefined) {
        unacknowledged++;
        if (call.failed !== undefined) failures[call.failed] = (failures[call.failed] ?? 0) + 1;
        pending.push(call);
        continue;
      }
      acknowledged++;
      // Acknowledged: the value after every earlier acknowledged call, this one, and some of the
      // unacknowledged ones since the last acknowledgement (each once).
      judge(session, `${call.id} acknowledged ${call.acked} after ${value} + ${call.n}`, wrap(call.acked - wrap(value + call.n)), pending);
      value = call.acked;
      pending = [];
    }
    const final = finals[session];
    if (typeof final !== 'number') {
      mismatches.push(`${session}: the fresh client's inc(0) got ${String(final)}, expected a value`);
      continue;
    }
    judge(session, `final value ${final} after ${value} (last acknowledged)`, wrap(final - value), pending);
  }
  return {
    mismatches,
    sessions: sessions.size,
    calls: record.calls.length,
    acknowledged,
    unacknowledged,
    unacknowledgedApplied: applied,
    unacknowledgedNotApplied: unacknowledged - applied - undecided,
    undecided,
    failures,
  };
}
