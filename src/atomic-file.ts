// Writing a file whole or not at all: to a fresh temporary name beside it, then renamed over it, so a
// crash or a failed write leaves the old file or the new one, never half of one (and no temporary behind).

import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `bytes` to `path` atomically. `sync` (default true): flushed to the disk before the rename,
 * so the new contents survive a power loss once this resolves.
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
}
