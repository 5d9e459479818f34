// A durable store directory belongs to one process at a time: a second open (another store object
// in this process, or another process) is refused with ERR_DURABLE_STORE naming the directory and
// the holder's pid, until the holder closes or dies; a lock left by a killed process is taken over.
// A directory written for one module is refused to another, naming both.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DirectoryDurableStore } from '../dist/src/durable-store.js';
import { rejection } from './helpers/pool.js';
import { useTempDirectory } from './helpers/temp-directory.js';

const MODULE_A = 'a'.repeat(64);
const MODULE_B = 'b'.repeat(64);
const STORE_MODULE = pathToFileURL(fileURLToPath(new URL('../dist/src/durable-store.js', import.meta.url))).href;
const directory = useTempDirectory('lock');

const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** A child process that opens the store in `dir` and holds it; resolves once it has (with its pid). */
function childHolding(dir: string): Promise<ChildProcessWithoutNullStreams> {
  const source = `
    import { DirectoryDurableStore } from ${JSON.stringify(STORE_MODULE)};
    await new DirectoryDurableStore(${JSON.stringify(dir)}).open(${JSON.stringify(MODULE_A)});
    console.log('open');
    process.stdin.resume();
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text; });
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      if (text.includes('open')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`the child exited (${code}) before opening the store: ${stderr}`)));
  });
}

const exited = (child: ChildProcessWithoutNullStreams): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

describe('the directory lock', () => {
  it('refuses a second store object in this process until the first closes', async () => {
    const first = new DirectoryDurableStore(directory());
    await first.open(MODULE_A);
    const second = new DirectoryDurableStore(directory());
    const error = await rejection(second.open(MODULE_A));
    expect(error.code).toBe('ERR_DURABLE_STORE');
    expect(error.message).toContain(directory());
    expect(error.message).toContain(`pid ${process.pid}`);
    // The refused store is unusable; the first still works.
    expect((await rejection(second.segments())).code).toBe('ERR_DURABLE_STORE');
    await first.append(1, new Uint8Array([1, 2, 3]));
    await first.close();

    const third = new DirectoryDurableStore(directory());
    await third.open(MODULE_A);
    expect(await third.readSegment(1)).toEqual(new Uint8Array([1, 2, 3]));
    await third.close();
  });

  it('refuses while another live process holds it, and takes it over once that process is killed', async () => {
    const child = await childHolding(directory());
    expect(await readFile(join(directory(), 'LOCK'), 'utf8')).toBe(`${child.pid}\n`);
    const store = new DirectoryDurableStore(directory());
    const error = await rejection(store.open(MODULE_A));
    expect(error.code).toBe('ERR_DURABLE_STORE');
    expect(error.message).toContain(`pid ${child.pid}`);

    child.kill('SIGKILL');
    await exited(child);
    const after = new DirectoryDurableStore(directory());
    await after.open(MODULE_A);
    expect(await readFile(join(directory(), 'LOCK'), 'utf8')).toBe(`${process.pid}\n`);
    await after.close();
  });

  it('takes over a lock holding no pid (never written whole)', async () => {
    const store = new DirectoryDurableStore(directory());
    await store.open(MODULE_A);
    await store.close();
    await writeFile(join(directory(), 'LOCK'), '');
    const again = new DirectoryDurableStore(directory());
    await again.open(MODULE_A);
    await again.close();
  });
});

describe('the module identity', () => {
  it('refuses a directory written for another module, naming both, and leaves it unlocked', async () => {
    const first = new DirectoryDurableStore(directory());
    await first.open(MODULE_A);
    await first.close();

    const other = new DirectoryDurableStore(directory());
    const error = await rejection(other.open(MODULE_B));
    expect(error.code).toBe('ERR_DURABLE_STORE');
    expect(error.message).toContain(MODULE_A);
    expect(error.message).toContain(MODULE_B);

    const same = new DirectoryDurableStore(directory());
    await same.open(MODULE_A);
    await same.close();
  });

  it('refuses an identity that is not a one-line string, with the value received', async () => {
    const error = await rejection(new DirectoryDurableStore(directory()).open('two\nlines'));
    expect(error.code).toBe('ERR_DURABLE_STORE');
    expect(error.message).toContain('"two\\nlines"');
  });
});
