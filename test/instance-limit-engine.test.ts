// When V8 itself cannot reserve memory for one more instance (the process's address space is used
// up by wasm memories: another pool, a cap set too high), the start is reported as ERR_INSTANCE_LIMIT
// (retryable, the session not lost), never as a trap in `_initialize` nor as a dead worker thread
// (which is what the engine's failed reservation does on Node 26: the pool refuses before it).

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { engineRefusalEndsThread } from '../dist/src/address-space.js';
import { KITCHEN } from './helpers/fixtures.js';

const SCRIPT = new URL('./helpers/engine-instance-limit.mjs', import.meta.url).pathname;
/**
 * Address-space budgets to try, in GiB: room for Node and one worker thread and a few wasm memories of
 * about 10 GiB each. Node versions need different room to start at all, so a larger one is tried next.
 */
const BUDGETS_GIB = [40, 64, 96];

/** Runs the script under a `ulimit -v` of `gib`; undefined if Node could not even start a pool there. */
async function runWithin(gib: number): Promise<Report | undefined> {
  try {
    const { stdout } = await promisify(execFile)(
      'bash', ['-c', `ulimit -v ${gib * 1024 * 1024} && exec "$0" "$@"`, process.execPath, SCRIPT, KITCHEN],
      { timeout: 60_000 },
    );
    const report = JSON.parse(stdout.trim().split('\n').at(-1) as string) as Report;
    return report.started > 0 ? report : undefined;
  } catch {
    return undefined;
  }
}

interface Report {
  started: number;
  instancesBefore: number;
  code?: string;
  retryable?: boolean;
  message?: string;
  secondCode?: string;
  lost?: boolean;
  lostSessions?: number;
  instancesAfterRefusal?: number;
  retryBeforeRoom?: string;
  instancesAfterClose?: number;
  retryAfterRoom?: unknown;
  instancesAtEnd?: number;
}

describe('the engine out of room for wasm memories', () => {
  it.skipIf(process.platform !== 'linux')('reports ERR_INSTANCE_LIMIT, loses nothing, and starts once room is made', async () => {
    let report: Report | undefined;
    for (const gib of BUDGETS_GIB) {
      report = await runWithin(gib);
      if (report !== undefined) break;
    }
    if (report === undefined) throw new Error(`no pool could start within ${BUDGETS_GIB.join(', ')} GiB of address space`);
    expect(report).toMatchObject({
      instancesBefore: report.started,
      code: 'ERR_INSTANCE_LIMIT',
      retryable: true,
      secondCode: 'ERR_INSTANCE_LIMIT', // the call queued behind the refused start: refused too, not lost
      lost: false,
      lostSessions: 0,
      instancesAfterRefusal: report.started,
      retryBeforeRoom: 'ERR_INSTANCE_LIMIT',
      instancesAfterClose: report.started - 1,
      retryAfterRoom: 21,
      instancesAtEnd: report.started,
    });
    // Where a failed reservation would end the worker thread (V8 14.6, Node 26), the pool refuses before
    // the engine tries; elsewhere the engine's own RangeError is what is reported.
    expect(report.message).toContain(engineRefusalEndsThread(process.versions.v8) ? 'no room for one more instance in the process\'s address space' : 'Out of memory');
  });
});
