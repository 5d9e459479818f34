// The files of `run --snapshot-in` / `--snapshot-out`: both checked before a pool starts (a path that
// cannot be read or written is a usage mistake), and a snapshot written whole or not at all.

import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InvalidOptionError } from '../errors.js';

/** The bytes of the `--snapshot-in` file; `ERR_INVALID_OPTION` naming the path when it cannot be read. */
export async function readSnapshotIn(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new InvalidOptionError(`cannot read --snapshot-in ${JSON.stringify(path)}: ${(error as Error).message}`);
  }
}

/** Refuses a `--snapshot-out` path that could not be written (a directory, or in a directory that is missing or read-only). */
export async function checkSnapshotOut(path: string): Promise<void> {
  const refuse = (why: string): never => {
    throw new InvalidOptionError(`cannot write --snapshot-out ${JSON.stringify(path)}: ${why}`);
  };
  if (path.length === 0) refuse('the path is empty');
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory() === true) refuse('it is a directory');
  await access(dirname(path), constants.W_OK).catch((error: unknown) => refuse((error as Error).message));
}

/**
 * Writes `bytes` to `path` through a temporary file in the same directory, flushed to disk, then renamed
 * over `path`: a crash leaves `path` as it was or whole, never half-written.
 */
export async function writeFileAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const file = await open(temporary, 'wx');
  try {
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}
