// The kill -9 test's model on hand-made records: a call recorded but never acknowledged may have applied
// (at the end of a session's calls too); a recovered value no prefix of the recorded calls explains is a
// mismatch; and a record is read from whole lines only.

import { describe, expect, it } from 'vitest';
import { parseRecord, wholeLines, type VerifyReport } from './helpers/durable-kill.js';
import { bySession, mismatches } from './helpers/durable-kill-model.js';

/** One session's record: eight calls acknowledged (20 → 76), then one sent with `n` 4 and never acknowledged. */
const ACKED = [5, 7, 5, 9, 8, 7, 9, 6];
const LINES = [
  ...ACKED.flatMap((n, i) => [`sent s1 k${i} ${n}`, `ack s1 k${i} ${n} ${20 + ACKED.slice(0, i + 1).reduce((a, b) => a + b, 0)}`]),
  'sent s1 k8 4',
];

/** The verifying child's answers for session s1 when it recovered `before`, retrying the unacknowledged calls. */
function report(before: number, retries: number[], repeats: number[], after: number): VerifyReport {
  return { durable: ['s1'], sessions: { s1: { before, retries, repeats, after } } };
}

describe('the kill -9 model', () => {
  it('accepts an unacknowledged last call that applied before the kill, and one that did not', () => {
    const { calls, problems } = parseRecord(LINES);
    expect(problems).toEqual([]);
    const sessions = bySession(calls);
    // k8 retried answers 80 either way (recorded, or applied now); repeating k7 answers its own 76.
    expect(mismatches(sessions, report(80, [80], [80, 76], 80))).toEqual([]);
    expect(mismatches(sessions, report(76, [80], [80, 76], 80))).toEqual([]);
  });

  it('reports a recovered value that no prefix of the recorded calls explains', () => {
    const { calls } = parseRecord(LINES.slice(0, -1));
    expect(mismatches(bySession(calls), report(80, [], [76], 80))).toEqual([
      's1: recovered 80; acknowledged through call 8 of 8 (value 76), possible: 76',
      's1: after the retries 80, expected 76 (every call exactly once)',
      's1: listed by durableSessions() without any call applied',
    ]);
  });

  it('reports an acknowledged call lost, and an unacknowledged one applied twice', () => {
    const { calls } = parseRecord(LINES);
    const sessions = bySession(calls);
    expect(mismatches(sessions, report(70, [80], [80, 76], 80))).toEqual([
      's1: recovered 70; acknowledged through call 8 of 9 (value 76), possible: 76, 80',
    ]);
    expect(mismatches(sessions, report(80, [84], [84, 76], 84))).toEqual([
      's1 k8 (n 4) retried: got 84, expected 80',
      's1 k8 (n 4) repeated: got 84, expected 80',
      's1: after the retries 84, expected 80 (every call exactly once)',
    ]);
  });

  it('reads whole lines only and reports a call settled before it was sent', () => {
    expect(parseRecord(['ack s1 k0 5 25']).problems).toEqual(['settled before it was sent: ack s1 k0 5 25']);
    expect(parseRecord(['sent s1 k0 5', 'done']).done).toBe(true);
    expect(parseRecord(wholeLines('ready\nsent s1 k0 5\nack s1 k0 5 25\nsent s1 k1')).calls).toEqual([{ id: 's1', key: 'k0', n: 5, acked: 25 }]);
  });
});
