// Temporary directories for durable pools: each test's are removed after it, once its pools are
// destroyed (a pool still writing to a removed directory would fail on its own).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { destroyPools } from './pool.js';

const made: string[] = [];

afterEach(async () => {
  await destroyPools();
  await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })));
  made.length = 0;
});

/** A fresh empty directory, removed after the test. */
export async function durableDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rp-durable-'));
  made.push(dir);
  return dir;
}
