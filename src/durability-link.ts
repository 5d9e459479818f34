// What ties a pool's sessions to its durable store: each session's journal side, which losses are
// recovered rather than applied, where hibernated sessions' snapshots go, what the journal asks of sessions.

import { DurableSession, THREAD_LOSSES } from './durable-session.js';
import { Durability } from './durability.js';
import type { ResolvedDurability } from './durability-options.js';
import type { ReactorPoolError } from './errors.js';
import type { InstanceEntry } from './instance-table.js';
import type { SessionDirectory } from './session-directory.js';
import type { SnapshotStore } from './snapshot-store.js';

/** Causes no rebuild can get past: the session is lost for real. */
const FATAL: ReadonlySet<string> = new Set(['ERR_REPLAY_DIVERGED', 'ERR_DURABLE_STORE', 'ERR_INVALID_SNAPSHOT', 'ERR_SNAPSHOT_MISMATCH']);

export class DurabilityLink {
  readonly durability: Durability;
  readonly #directory: SessionDirectory;

  private constructor(durability: Durability, directory: SessionDirectory) {
    this.durability = durability;
    this.#directory = directory;
  }

  /** Opens the store (its journal read back) and starts the compaction policy. */
  static async open(options: ResolvedDurability, identity: string, directory: SessionDirectory): Promise<DurabilityLink> {
    const link = new DurabilityLink(await Durability.open(options, identity), directory);
    link.durability.start({
      rollback: (key, cause) => directory.get(key)?.rollback(cause),
      checkpointDue: (key) => directory.get(key)?.checkpoint(),
    });
    return link;
  }

  /** The journal side of a new session of `key`. */
  sessionFor(key: string): DurableSession {
    return new DurableSession(this.durability, key);
  }

  /**
   * Whether the lost instance of `entry` is rebuilt from the journal (the recovery rule) rather than
   * lost: not for a cause no rebuild gets past, nor for a rebuild's own failure (it would fail again).
   */
  recoverable(entry: InstanceEntry, cause: ReactorPoolError): boolean {
    if (FATAL.has(cause.code)) return false;
    const session = this.#directory.get(entry.key);
    const durable = session?.durable;
    if (session === undefined || durable === undefined) return false;
    if (durable.rebuildFailed && !THREAD_LOSSES.has(cause.code)) return false;
    session.lostForRecovery(entry.epoch);
    return true;
  }

  /** Where hibernation puts snapshots under durability: each one is a checkpoint of the session's journal. */
  readonly store: SnapshotStore = {
    get: () => Promise.resolve(undefined),
    set: async (key: string, bytes: Uint8Array): Promise<void> => {
      const durable = this.#directory.get(key)?.durable;
      if (durable === undefined) throw new Error(`session ${JSON.stringify(key)} is not open`);
      const covered = durable.covered.get(bytes);
      if (covered === undefined || !(await this.durability.checkpoint(durable.history, bytes, covered))) {
        throw new Error(`session ${JSON.stringify(key)}: its snapshot could not be made durable`);
      }
    },
    delete: () => Promise.resolve(),
  };

  /** Every session key the store holds state for. */
  keys(): string[] {
    return this.durability.keys();
  }

  close(): Promise<void> {
    return this.durability.close();
  }
}
