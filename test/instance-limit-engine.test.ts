// When V8 itself cannot reserve memory for one more instance (the process's address space is used
// up by wasm memories: another pool, a cap set too high), the start is reported as ERR_INSTANCE_LIMIT
// (retryable, the session not lost), never as a trap in `_initialize`.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { KITCHEN } from './helpers/fixtures.js';

const SCRIPT = new URL('./helpers/engine-instance-limit.mjs', import.meta.url).pathname;
/** Room for Node and one worker thread, and a few wasm memories of about 10 GiB of address space each. */
const ADDRESS_SPACE_KIB = 40 * 1024 * 1024;

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
    const { stdout } = await promisify(execFile)(
      'bash', ['-c', `ulimit -v ${ADDRESS_SPACE_KIB} && exec "$0" "$@"`, process.execPath, SCRIPT, KITCHEN],
      { timeout: 60_000 },
    );
    const report = JSON.parse(stdout.trim().split('\n').at(-1) as string) as Report;
    expect(report.started).toBeGreaterThan(0);
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
    expect(report.message).toContain('Out of memory');
  });
});
