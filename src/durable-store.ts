// Where durable sessions live between restarts: the store interface (journal segments and snapshot
// files) and the embedded default, a local directory written with real fsync and held by one process.

import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { link, mkdir, open, readFile, readdir, rename, rm, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDirectory, writeFileAtomically } from './atomic-file.js';
import { DurableStoreError, describeValue } from './errors.js';

/**
 * The durable state of a pool's sessions: an append-only journal cut into numbered segments, and
 * named snapshot files. The pool calls `open` once before anything else and `close` last; every
 * method reports failure by rejecting (never by throwing), and a rejection of `append` or
 * `writeSnapshot` means the bytes may or may not have reached the storage, in part or whole (the
 * journal marks such ranges void, so a later reader ignores them).
 */
export interface DurableStore {
  /**
   * Makes the store ready and takes it for this process. Must reject if another live process holds
   * it, or if it holds state written for another `identity` (the SHA-256 hex of the module's bytes:
   * a journal replays only on the module that wrote it). A store with no state takes `identity`.
   */
  open(identity: string): Promise<void>;
  /** The numbers of every journal segment held, ascending. */
  segments(): Promise<number[]>;
  /** The bytes of segment `segment` as they are on the storage now; rejects if there is no such segment. */
  readSegment(segment: number): Promise<Uint8Array>;
  /**
   * Appends `bytes` to the end of segment `segment` (created by its first append) and resolves only
   * once they are on stable storage: they survive a crash or a power loss from then on. Never called
   * again before the previous call settled. The store may keep `bytes`: the caller does not reuse them.
   */
  append(segment: number, bytes: Uint8Array): Promise<void>;
  /** Removes segment `segment` (resolves if there is none). */
  deleteSegment(segment: number): Promise<void>;
  /** Stores `bytes` as snapshot `name`, replacing any before, atomically (a reader sees the old bytes or the new) and durably. */
  writeSnapshot(name: string, bytes: Uint8Array): Promise<void>;
  /** The bytes of snapshot `name`, or undefined if there is none. */
  readSnapshot(name: string): Promise<Uint8Array | undefined>;
  /** Removes snapshot `name` (resolves if there is none). */
  deleteSnapshot(name: string): Promise<void>;
  /** The names of every snapshot held, in no particular order. */
  snapshots(): Promise<string[]>;
  /** Lets the store go (another process may open it now); nothing else is called after it. */
  close(): Promise<void>;
}

/** `O_DSYNC` where the platform has it (not on Windows): a write returns once it is on stable storage. */
const DSYNC = fsConstants.O_DSYNC ?? 0;
/** Flags of a segment file opened for appending: new (it must not exist), or existing. */
const APPEND_NEW = fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT | fsConstants.O_EXCL | DSYNC;
const APPEND = fsConstants.O_WRONLY | fsConstants.O_APPEND | DSYNC;

/** The lock file, holding the pid of the process that has the directory open. */
const LOCK = 'LOCK';
/** The module identity the directory's state was written for. */
const IDENTITY = 'IDENTITY';
const JOURNAL = 'journal';
const SNAPSHOTS = 'snapshots';
const SEGMENT_NAME = /^(\d{16})\.journal$/;
const SNAPSHOT_SUFFIX = '.snapshot';

/**
 * The embedded durable store: a local directory (created if missing) holding `LOCK`, `IDENTITY`,
 * `journal/<segment>.journal` and `snapshots/<name>.snapshot`. Appends are written and
 * fdatasynced (and a new segment's directory fsynced) before they resolve; snapshots are written to
 * a temporary file, fsynced, renamed into place and the directory fsynced. A lock left by a process
 * that died (even by `kill -9`) is taken over. Meant for a local file system: the lock checks that
 * its pid is alive on this host.
 */
export class DirectoryDurableStore implements DurableStore {
  readonly directory: string;
  readonly #journal: string;
  readonly #snapshots: string;
  /** One open file per segment appended to, kept between appends. */
  readonly #segmentFiles = new Map<number, FileHandle>();
  #state: 'new' | 'opening' | 'open' | 'closed' = 'new';

  constructor(directory: string) {
    this.directory = directory;
    this.#journal = join(directory, JOURNAL);
    this.#snapshots = join(directory, SNAPSHOTS);
  }

  async open(identity: string): Promise<void> {
    if (this.#state !== 'new') throw new DurableStoreError(`the durable store in ${this.directory} was already opened`);
    if (typeof identity !== 'string' || identity.length === 0 || /[\r\n]/.test(identity)) {
      throw new DurableStoreError(`Expected a module identity (a non-empty one-line string), got ${describeValue(identity)}`);
    }
    this.#state = 'opening';
    try {
      await mkdir(this.#journal, { recursive: true });
      await mkdir(this.#snapshots, { recursive: true });
      await takeLock(this.directory);
    } catch (error) {
      this.#state = 'closed';
      throw error;
    }
    try {
      await this.#checkIdentity(identity);
    } catch (error) {
      this.#state = 'closed';
      await releaseLock(this.directory);
      throw error;
    }
    this.#state = 'open';
  }

  async segments(): Promise<number[]> {
    this.#ensureOpen();
    const numbers: number[] = [];
    for (const name of await readdir(this.#journal)) {
      const match = SEGMENT_NAME.exec(name);
      if (match?.[1] !== undefined) numbers.push(Number(match[1]));
    }
    return numbers.sort((a, b) => a - b);
  }

  async readSegment(segment: number): Promise<Uint8Array> {
    this.#ensureOpen();
    return new Uint8Array(await readFile(this.#segmentPath(segment)));
  }

  async append(segment: number, bytes: Uint8Array): Promise<void> {
    this.#ensureOpen();
    let file = this.#segmentFiles.get(segment);
    if (file === undefined) {
      const path = this.#segmentPath(segment);
      try {
        file = await open(path, APPEND_NEW);
        this.#segmentFiles.set(segment, file);
        // The new file's name must be durable too, or a crash could lose the whole segment.
        await syncDirectory(this.#journal);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        file = await open(path, APPEND);
        this.#segmentFiles.set(segment, file);
      }
    }
    for (let written = 0; written < bytes.byteLength;) {
      const { bytesWritten } = await file.write(bytes, written, bytes.byteLength - written);
      written += bytesWritten;
    }
    // With O_DSYNC each write returned once its bytes were on stable storage: one trip to the thread
    // pool per append instead of two (under load, each trip waits for this thread's next turn).
    if (DSYNC === 0) await file.datasync();
  }

  async deleteSegment(segment: number): Promise<void> {
    this.#ensureOpen();
    const path = this.#segmentPath(segment);
    const file = this.#segmentFiles.get(segment);
    this.#segmentFiles.delete(segment);
    await file?.close();
    await rm(path, { force: true });
    await syncDirectory(this.#journal);
  }

  async writeSnapshot(name: string, bytes: Uint8Array): Promise<void> {
    this.#ensureOpen();
    await writeFileAtomically(this.#snapshotPath(name), bytes, { sync: true });
  }

  async readSnapshot(name: string): Promise<Uint8Array | undefined> {
    this.#ensureOpen();
    try {
      return new Uint8Array(await readFile(this.#snapshotPath(name)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async deleteSnapshot(name: string): Promise<void> {
    this.#ensureOpen();
    await rm(this.#snapshotPath(name), { force: true });
    await syncDirectory(this.#snapshots);
  }

  async snapshots(): Promise<string[]> {
    this.#ensureOpen();
    return (await readdir(this.#snapshots))
      .filter((file) => file.endsWith(SNAPSHOT_SUFFIX) && !file.startsWith('.'))
      .map((file) => decodeURIComponent(file.slice(0, -SNAPSHOT_SUFFIX.length)));
  }

  async close(): Promise<void> {
    if (this.#state !== 'open') {
      this.#state = 'closed';
      return;
    }
    this.#state = 'closed';
    const files = [...this.#segmentFiles.values()];
    this.#segmentFiles.clear();
    const closed = await Promise.allSettled(files.map((file) => file.close()));
    await releaseLock(this.directory);
    const failure = closed.find((result) => result.status === 'rejected');
    if (failure !== undefined) throw failure.reason;
  }

  async #checkIdentity(identity: string): Promise<void> {
    const path = join(this.directory, IDENTITY);
    let held: string;
    try {
      held = (await readFile(path, 'utf8')).trim();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await writeFileAtomically(path, new TextEncoder().encode(`${identity}\n`), { sync: true });
      return;
    }
    if (held !== identity) {
      throw new DurableStoreError(`the durable store in ${this.directory} was written for module ${held}, not for this module (${identity})`);
    }
  }

  #ensureOpen(): void {
    if (this.#state !== 'open') throw new DurableStoreError(`the durable store in ${this.directory} is ${this.#state === 'closed' ? 'closed' : 'not open yet'}`);
  }

  #segmentPath(segment: number): string {
    if (!Number.isSafeInteger(segment) || segment < 0) throw new DurableStoreError(`Expected a segment number (a non-negative integer), got ${describeValue(segment)}`);
    return join(this.#journal, `${String(segment).padStart(16, '0')}.journal`);
  }

  #snapshotPath(name: string): string {
    if (typeof name !== 'string' || name.length === 0) throw new DurableStoreError(`Expected a snapshot name (a non-empty string), got ${describeValue(name)}`);
    return join(this.#snapshots, `${fileNameOf(name)}${SNAPSHOT_SUFFIX}`);
  }
}

/** A name as a file name: letters, digits, `-` and `_` as they are, every other UTF-8 byte as `%XX` (so no `.`, `/` or `..`). */
function fileNameOf(name: string): string {
  return encodeURIComponent(name).replace(/[.!~*'()]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Takes the directory's lock: a file holding our pid, made whole under a temporary name and linked
 * into place (a link fails if the lock exists, so two processes cannot both take it, and no one ever
 * reads a half-written lock). A lock whose pid is dead is moved aside and taken over.
 */
async function takeLock(directory: string): Promise<void> {
  const lock = join(directory, LOCK);
  const mine = join(directory, `.${LOCK}.${process.pid}.${randomBytes(6).toString('hex')}`);
  await writeFile(mine, `${process.pid}\n`, { flag: 'wx' });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(mine, lock);
        await syncDirectory(directory);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = await lockHolder(lock);
      if (holder === undefined) continue; // gone in between: try again
      if (isAlive(holder) || attempt >= 3) {
        throw new DurableStoreError(`the durable store in ${directory} is held by another live process (pid ${holder}; its lock file is ${lock})`);
      }
      await takeOverStale(lock, holder);
    }
  } finally {
    await unlink(mine).catch(() => undefined);
  }
}

/** Moves a dead process's lock aside; if what was moved turns out to be a fresh lock (a race), puts it back. */
async function takeOverStale(lock: string, deadPid: number): Promise<void> {
  const aside = `${lock}.stale.${randomBytes(6).toString('hex')}`;
  try {
    await rename(lock, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = await lockHolder(aside);
  if (!Object.is(moved, deadPid)) await link(aside, lock).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

/** The pid in a lock file (undefined if there is no such file; NaN if it holds no pid). */
async function lockHolder(lock: string): Promise<number | undefined> {
  try {
    const text = (await readFile(lock, 'utf8')).trim();
    return /^\d+$/.test(text) ? Number(text) : Number.NaN;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Whether a process with this pid exists (a lock with no readable pid counts as dead: it was never whole). */
function isAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes our lock (only if it is still ours). */
async function releaseLock(directory: string): Promise<void> {
  const lock = join(directory, LOCK);
  if ((await lockHolder(lock).catch(() => undefined)) === process.pid) await unlink(lock).catch(() => undefined);
}
