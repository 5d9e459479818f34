// The cluster chaos test's model on made-up records: it must catch a call applied twice, an
// acknowledged call lost, a wrong final value and a record that makes no sense, and tell which
// unacknowledged calls applied.

import { describe, expect, it } from 'vitest';
import { INITIAL, checkModel, parseClientRecord } from './helpers/cluster-model.js';

/** A record of session `s` whose calls add 1, 2, 4, … with the given outcomes (`ack` values computed as if each applied once). */
function record(outcomes: readonly ('ack' | 'fail' | 'none')[], extra: Partial<Record<number, number>> = {}): string {
  let value = INITIAL;
  const lines: string[] = [];
  outcomes.forEach((outcome, k) => {
    const n = 2 ** k;
    lines.push(`sent s s.${k} ${n} 3 ${k * 10}`);
    value = (value + n + (extra[k] ?? 0)) | 0;
    if (outcome === 'ack') lines.push(`ack s s.${k} ${value} ${k * 10 + 5}`);
    if (outcome === 'fail') lines.push(`fail s s.${k} ERR_CLUSTER_UNAVAILABLE ${k * 10 + 5}`);
  });
  return `${lines.join('\n')}\ndone 999\n`;
}

describe('the cluster chaos model', () => {
  it('accepts a run where every call applied once', () => {
    const verdict = checkModel(parseClientRecord(record(['ack', 'ack', 'ack'])), { s: INITIAL + 7 });
    expect(verdict).toMatchObject({ mismatches: [], acknowledged: 3, unacknowledged: 0, sessions: 1, calls: 3 });
  });

  it('tells which unacknowledged calls applied, in the middle and at the end', () => {
    // Call 1 failed but applied (call 2's value includes it); call 3 failed and did not apply; call 4 never settled but applied.
    const verdict = checkModel(parseClientRecord(record(['ack', 'fail', 'ack', 'fail', 'none'])), { s: INITIAL + 1 + 2 + 4 + 16 });
    expect(verdict).toMatchObject({ mismatches: [], acknowledged: 2, unacknowledged: 3, unacknowledgedApplied: 2, unacknowledgedNotApplied: 1, failures: { ERR_CLUSTER_UNAVAILABLE: 2 } });
  });

  it('catches a call applied twice', () => {
    const verdict = checkModel(parseClientRecord(record(['ack', 'ack', 'ack'], { 1: 2 })), { s: INITIAL + 7 + 2 });
    expect(verdict.mismatches).toEqual([expect.stringContaining('s.1 acknowledged')]);
  });

  it('catches an acknowledged call lost', () => {
    const verdict = checkModel(parseClientRecord(record(['ack', 'ack', 'ack'], { 1: -2 })), { s: INITIAL + 5 });
    expect(verdict.mismatches).toEqual([expect.stringContaining('s.1 acknowledged')]);
    expect(checkModel(parseClientRecord(record(['ack', 'ack'])), { s: INITIAL + 1 }).mismatches).toEqual([expect.stringContaining('final value')]);
  });

  it('catches an unacknowledged call applied twice at the end, and a session that cannot be read', () => {
    expect(checkModel(parseClientRecord(record(['ack', 'fail'])), { s: INITIAL + 1 + 4 }).mismatches).toEqual([expect.stringContaining('final value')]);
    expect(checkModel(parseClientRecord(record(['ack'])), { s: 'ERR_CLUSTER_UNAVAILABLE' }).mismatches).toEqual([expect.stringContaining('ERR_CLUSTER_UNAVAILABLE')]);
  });

  it('reports record lines that make no sense, and a record cut short', () => {
    const parsed = parseClientRecord('ack s s.0 21 5\nsent s s.1 2 3 6\nsent s s.1 2 3 7\nack s s.1 22 8\nack s s.1 22 9\nbogus\nsent s s.2 4 3');
    expect(parsed.problems).toEqual([
      'settled before it was sent: ack s s.0 21 5', 'sent twice: sent s s.1 2 3 7', 'settled twice: ack s s.1 22 9', 'not a record line: bogus',
    ]);
    expect(parsed.done).toBe(false);
    expect(parsed.calls.map((c) => c.id)).toEqual(['s.1', 's.1']);
  });
});
