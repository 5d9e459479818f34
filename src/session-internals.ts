// What the session's rarer paths (hibernating, waking, rebuilding) need of their session: made per
// use, not per session (a session is a few fields; these paths are rare).

import type { Op } from './protocol.js';
import type { Session, SessionDeps } from './session.js';
import type { WorkerSlot } from './worker-slot.js';

export interface SessionInternals {
  readonly key: string;
  readonly deps: SessionDeps;
  /** The session's handle (the hibernation policy keeps handles). */
  readonly handle: Session;
  closed(): boolean;
  moveTo(worker: WorkerSlot): void;
  /** What to wait for before a start past `maxInstances`, or undefined when it may be claimed now (see Session). */
  roomWait(): Promise<boolean> | undefined;
  /** The session's instance started: the hibernation policy counts it active. */
  activated(): void;
  /** True for the operation that is to start the instance (counted against `maxInstances`). */
  claimStart(): boolean;
  claim<T>(claim: () => T): T;
  /** Queues an admitted operation for the worker. */
  enqueue(op: Op): Promise<unknown>;
  /** Makes `gate` the one later operations wait behind. */
  hold(gate: Promise<void>): void;
  /** The store's copy of the session is stale: dropped (a failure ignored). */
  forgetStored(): Promise<void>;
}
