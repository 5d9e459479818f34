// The files of `run --snapshot-in` / `--snapshot-out`: both checked before a pool starts (a path that
// cannot be read or written is a usage mistake), and a snapshot written whole or not at all.

import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InvalidOptionError } from '../errors.js';
export { writeFileAtomically } from '../atomic-file.js';

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

