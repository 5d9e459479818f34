import { describe, expect, it } from 'vitest';
import { KITCHEN, OutputCollector } from './helpers/fixtures.js';
import { createPool } from './helpers/pool.js';

describe('reactor stdout and stderr', () => {
  it('go to callbacks that are told the session key', async () => {
    const stdout = new OutputCollector();
    const stderr = new OutputCollector();
    const pool = await createPool({ module: KITCHEN, workers: 2, stdout: stdout.callback, stderr: stderr.callback });
    await Promise.all([pool.session('a').call('say', 7), pool.session('b').call('say', -12)]);
    expect(stdout.of('a')).toBe('say 7\n');
    expect(stdout.of('b')).toBe('say -12\n');
    expect(stderr.of('a')).toBe('s = 20\nerr 7\n');
    expect(stderr.of('b')).toBe('s = 20\nerr -12\n');
  });

  it("is dropped with 'ignore'", async () => {
    const stderr = new OutputCollector();
    const pool = await createPool({ module: KITCHEN, workers: 1, stdout: 'ignore', stderr: stderr.callback });
    await pool.session('a').call('say', 1);
    expect(stderr.of('a')).toBe('s = 20\nerr 1\n');
  });

  it('is delivered before the call that wrote it resolves', async () => {
    const stdout = new OutputCollector();
    const pool = await createPool({ module: KITCHEN, workers: 1, stdout: stdout.callback });
    const s = pool.session('a');
    for (let i = 0; i < 5; i++) {
      await s.call('say', i);
      expect(stdout.of('a').endsWith(`say ${i}\n`)).toBe(true);
    }
  });
});
