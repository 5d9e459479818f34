// A session's hibernation without durability: its snapshot goes to the store and its instance is
// dropped; its next operation restores it from the store (operations made meanwhile are held).

import { SnapshotStoreError } from './errors.js';
import type { Hibernation } from './hibernation.js';
import type { SessionInternals } from './session-internals.js';

/**
 * Hibernates the session after the operations already made. True once its instance is gone:
 * hibernated, or lost or closed meanwhile. False (and it stays awake) when the snapshot or the store failed.
 */
export async function hibernateSession(session: SessionInternals, hibernation: Hibernation): Promise<boolean> {
  const { key, deps } = session;
  const { entry, instances, queue, events } = deps;
  const leaving = (): boolean => session.closed() || entry.lostCause !== undefined;
  let release = (): void => {};
  session.hold(new Promise<void>((resolve) => { release = resolve; }));
  try {
    const { instanceId, epoch } = entry;
    queue.takeUnbounded();
    const bytes = await session.enqueue({ kind: 'snapshot', instanceId, epoch, open: false }) as Uint8Array;
    if (entry.epoch !== epoch || entry.lostCause !== undefined) return leaving();
    await hibernation.deleted(key);
    await hibernation.limits.store.set(key, bytes);
    hibernation.stored(key, bytes.byteLength);
    if (leaving()) {
      void session.forgetStored();
      return true;
    }
    // The state is in the store: from here the session is hibernated. The drop is not waited for (a
    // recycle waits for this before the thread goes, and would send the drop to the new thread).
    instances.hibernate(entry);
    hibernation.deactivated(session.handle);
    queue.takeUnbounded();
    session.enqueue({ kind: 'drop', instanceId, epoch }).catch(() => undefined);
    events.hibernated(key, bytes.byteLength);
    return true;
  } catch {
    return leaving();
  } finally {
    release();
  }
}

/** Restores a hibernated session from the store: its restore goes out first, operations held behind it follow. */
export async function wakeFromStore(session: SessionInternals, hibernation: Hibernation): Promise<void> {
  const { key, deps } = session;
  // It wakes where placement puts it now (another worker after a resize, or to even the load).
  const target = deps.place(key);
  if (target !== deps.worker) session.moveTo(target);
  const { entry, instances } = deps;
  let bytes: Uint8Array | undefined;
  let failure: string | undefined;
  try {
    bytes = await hibernation.limits.store.get(key);
    if (bytes === undefined) failure = 'the store holds no snapshot for it';
  } catch (error) {
    failure = `the store's get failed: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (bytes === undefined) {
    // Whatever the store still holds for it is stale: the session is lost.
    void session.forgetStored();
    instances.instanceLost(entry, entry.epoch, new SnapshotStoreError(`session ${JSON.stringify(key)} could not be woken from hibernation: ${failure ?? ''}`, { sessionKey: key }));
    return;
  }
  // The look that finds room and the claim (the wake) run in one go: no other start takes the room between.
  let room = session.roomWait();
  while (room !== undefined && (await room)) room = session.roomWait();
  instances.wake(entry);
  session.activated();
  deps.queue.takeUnbounded();
  const restored = session.enqueue({ kind: 'restore', instanceId: entry.instanceId, epoch: entry.epoch, snapshot: bytes });
  restored.then(() => {
    void session.forgetStored();
    deps.events.restored(key, deps.worker.id);
  }, () => {
    // The loss rule applied (the job's failure): operations held behind it reject ERR_SESSION_LOST.
    void session.forgetStored();
  });
}
