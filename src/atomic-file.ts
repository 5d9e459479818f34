// Writing a file whole or not at all: to a fresh temporary name beside it, then renamed over it, so a
// crash or a failed write leaves the old file or the new one, never half of one (and no temporary behind).

import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `bytes` to `path` atomically. `sync` (default true): the file is flushed to the disk before
 * the rename and its directory after it, so the new contents survive a power loss once this resolves
 * (a rename is only durable once the directory holding it is).
 */
export async function writeFileAtomically(path: string, bytes: Uint8Array, { sync = true }: { readonly sync?: boolean } = {}): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const file = await open(temporary, 'wx');
  try {
    try {
      await file.writeFile(bytes);
      if (sync) await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  if (sync) await syncDirectory(dirname(path));
}

/**
 * Flushes a directory's entries (files created, renamed or removed in it) to the disk. A no-op on
 * Windows, where a directory cannot be opened for this and entries are durable with their files.
 */
export async function syncDirectory(directory: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
