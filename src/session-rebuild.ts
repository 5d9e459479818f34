// Rebuilding a durable session whose instance was lost (or that a restart left in the store): the
// operations its instance took down are back, parked; the replay goes out, then they do, in order.

import { DurableStoreError, ReactorPoolError } from './errors.js';
import type { RecoveryPlan } from './durability.js';
import type { DurableSession } from './durable-session.js';
import { sessionLostError } from './instance-table.js';
import type { Op } from './protocol.js';
import { SessionJob } from './session-job.js';
import type { SessionInternals } from './session-internals.js';

/** What a rebuild needs of its session. */
export interface Rebuilding extends SessionInternals {
  readonly durable: DurableSession;
}

/**
 * Rebuilds the session from its snapshot and journal, once every operation its lost instance took
 * down is back (parked). The replay goes out first, then the parked operations in the order they
 * were made; what is held behind the session's gate follows.
 */
export async function rebuildSession(session: Rebuilding): Promise<void> {
  const { durable, deps, key } = session;
  await durable.drained();
  // A lost instance is rebuilt where it was; a hibernated session wakes where placement puts it now.
  if (!durable.recovering) {
    const target = deps.place(key);
    if (target !== deps.worker) session.moveTo(target);
  }
  durable.recovering = false;
  const { entry, instances } = deps;
  if (!entry.hibernated || entry.lostCause !== undefined || session.closed()) {
    resendParked(session);
    return;
  }
  let plan: RecoveryPlan;
  try {
    plan = await durable.durability.plan(durable.history);
  } catch (error) {
    instances.instanceLost(entry, entry.epoch, error instanceof ReactorPoolError ? error : new DurableStoreError(String(error), { sessionKey: key }));
    resendParked(session);
    return;
  }
  let room = session.roomWait();
  while (room !== undefined && (await room)) room = session.roomWait();
  if (plan.base === undefined && plan.count === 0) {
    // Nothing was ever acknowledged: the next operation starts a fresh instance.
    instances.unhibernate(entry);
  } else {
    instances.wake(entry);
    session.activated();
    deps.queue.takeUnbounded();
    const { instanceId, epoch } = entry;
    session.enqueue({ kind: 'replay', instanceId, epoch, base: plan.base, records: plan.records }).then(() => {
      deps.events.recovered(key, deps.worker.id, plan.count);
    }, () => undefined);
  }
  resendParked(session);
}

/** Sends the parked operations again, in order, to the session's instance now (or rejects them, if it is lost). */
export function resendParked(session: Rebuilding): void {
  const { deps, key } = session;
  for (const { op, timeout, resolve, reject, crashes, queuedAt, trace } of session.durable.takeParked()) {
    const { entry, instances } = deps;
    if (entry.lostCause !== undefined) {
      reject(sessionLostError(key, entry.lostCause));
      deps.queue.give();
      continue;
    }
    let again: Op;
    try {
      switch (op.kind) {
        case 'call':
        case 'callMany':
        case 'snapshot':
          again = { ...op, instanceId: entry.instanceId, epoch: entry.epoch, open: session.claimStart() };
          break;
        case 'open':
        case 'restore':
          session.claim(() => instances.reset(entry));
          session.activated();
          again = { ...op, instanceId: entry.instanceId, epoch: entry.epoch };
          break;
        default:
          // A replay taken down is superseded by the next rebuild (its promise is the pool's own).
          deps.queue.give();
          reject(new DurableStoreError(`session ${JSON.stringify(key)}: a rebuild was interrupted; the next one takes its place`, { sessionKey: key }));
          continue;
      }
    } catch (error) {
      reject(error);
      continue;
    }
    deps.worker.submit(new SessionJob(deps, again, timeout, resolve, reject, crashes, queuedAt, trace));
  }
}
