// An operation of a cluster session on its way to its partition's owner, as the session hands it to
// the router: kept apart from the router, so that the session's declarations do not reach the NATS client's.

import { AbortedError, type ReactorPoolError } from '../errors.js';
import type { WireOp, WireValue } from './batch-wire.js';

/** One operation on its way: where it stands, how it settles. */
export interface PendingOp {
  readonly wire: WireOp;
  /** `performance.now()` after which it is not sent again (Infinity: never gives up). */
  readonly deadline: number;
  readonly resolve: (value: WireValue) => void;
  readonly reject: (error: ReactorPoolError) => void;
  /** Rejects it (ERR_ABORTED) while it is queued or waiting to be sent again. */
  readonly signal: AbortSignal | undefined;
  /** Why it was last sent again (shown if it runs out of time). */
  lastCause: string;
  /** Whether it was sent at least once (an abort then cannot promise that nothing ran). */
  sent: boolean;
  /** Set while queued: stops watching its signal. */
  unwatch: (() => void) | undefined;
}

/** ERR_ABORTED for an operation whose signal fired before it was sent (again, if `sent`). */
export function abortedError(sessionKey: string, signal: AbortSignal, sent: boolean): AbortedError {
  const reason: unknown = signal.reason;
  const why = reason instanceof Error ? `: ${reason.message}` : '';
  return new AbortedError(
    sent
      ? `session ${JSON.stringify(sessionKey)}: the call was aborted while waiting to be sent again${why}; it was sent before and may have run once`
      : `session ${JSON.stringify(sessionKey)}: the call was aborted before it was sent${why}; nothing ran`,
    { sessionKey },
  );
}
